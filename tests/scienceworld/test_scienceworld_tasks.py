"""Task names, variation splits and the canonical state key (no JVM unless the split cache is cold)."""
from __future__ import annotations

import json

import pytest

from turnrl.envs.scienceworld import state, tasks


def test_task_names_resolve_every_spelling():
    assert len(tasks.TASK_NAMES) == 30
    assert tasks.task_name("boil") == "boil"
    assert tasks.task_name("1-1") == "boil"
    assert tasks.task_name("Matter Changes of State (Boiling)") == "boil"
    assert tasks.task_names("1-2, freeze") == ("melt", "freeze")
    assert tasks.task_names(None) == tasks.TASK_NAMES
    with pytest.raises(ValueError, match="unknown ScienceWorld task"):
        tasks.task_name("fly to mars")
    with pytest.raises(TypeError):
        tasks.task_name(3)
    with pytest.raises(ValueError, match="unknown ScienceWorld split"):
        tasks.split_name("holdout")


def test_list_tasks_first_test_variation_and_corrupt_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache = tmp_path / "turnrl" / "scienceworld" / f"variations-{tasks.SCIENCEWORLD_VERSION}.json"
    cache.parent.mkdir(parents=True)
    cache.write_text("{not json")
    monkeypatch.setattr(tasks, "_splits", {})  # forget this process's answers: ask the engine
    listed = tasks.list_tasks({"task": "boil,power-component"})
    assert [o["task_id"] for o in listed] == ["boil/test/21", "power-component/test/15"]
    splits = json.loads(cache.read_text())  # rewritten from the engine's answers
    boil = splits["boil"]
    assert sorted(boil["train"] + boil["dev"] + boil["test"]) == list(range(30))
    assert len(tasks.list_tasks({"task": "boil", "split": "dev", "variations_per_task": "all"})) == 7
    with pytest.raises(ValueError):
        tasks.list_tasks({"task": "boil", "variations_per_task": 0})


def _tree(uuid0: int, order: int) -> str:
    """A two-object kitchen in the engine's schema: uuids, a temperature, a wire naming the cup's uuid."""
    kids = [("cup", {"propMaterial": {"temperatureC": 10.0004}}),
            ("wire", {"propElectricalConnection": {"connectedTo": [f"cup-{uuid0}", f"battery-{uuid0 + 7}"][::order]}})]
    kids = kids[::order]
    contents = {f"{n}-{uuid0 + i}": {"uuid": str(uuid0 + i), "name": n, **p, "contents": {}}
                for i, (n, p) in enumerate(kids)}
    return json.dumps({"uuid": str(uuid0 - 1), "name": "kitchen", "contents": contents})


def test_state_key_ignores_uuids_child_order_and_float_noise():
    assert state.state_key(_tree(100, 1)) == state.state_key(_tree(5000, -1))
    hot = _tree(100, 1).replace("10.0004", "40.0")
    assert state.state_key(hot) != state.state_key(_tree(100, 1))
    unwired = _tree(100, 1).replace('"battery-107"', '"bulb-107"')
    assert state.state_key(unwired) != state.state_key(_tree(100, 1))
