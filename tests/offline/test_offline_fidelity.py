"""Issue 17 item 6 (OREO's dense rewards) and issue 18 item 14 (typed dataset validation)."""
from __future__ import annotations

import json

import pytest
import torch

from turnrl.trainers.offline import oreo
from turnrl.trainers.offline.batching import pack_steps
from turnrl.trainers.offline.datasets import (
    TokenizedStep,
    TokenizedTrajectory,
    load_dataset,
    rewards_to_go,
    save_dataset,
)
from turnrl.types import Step, Trajectory


def two_step(rewards: list[float]) -> Trajectory:
    steps = [Step(observation=f"room {i}", action="go", reward=r) for i, r in enumerate(rewards)]
    return Trajectory(task_id="t", steps=steps, won=True)


def test_dense_rewards_give_each_step_its_reward_to_go():
    # rewards [1, 0]: V(s_1) telescopes to 1 + 0 = 1, V(s_2) to 0 (not the episode return 1)
    assert rewards_to_go(two_step([1.0, 0.0])) == [1.0, 0.0]
    assert rewards_to_go(two_step([0.0, 1.0])) == [1.0, 1.0]  # sparse: R everywhere, as before
    tokenized = TokenizedTrajectory([TokenizedStep([1], [2]), TokenizedStep([1], [2])], 1.0, True, "t",
                                    rewards_to_go(two_step([1.0, 0.0])))
    batch = pack_steps([tokenized], pad_id=0)
    targets = oreo.telescoped_targets(torch.zeros_like(batch.mask), batch.mask, batch.traj, batch.reward, 0.1)
    assert targets[:, 0].tolist() == [1.0, 0.0]


def write_lines(path, records) -> None:
    path.write_text("".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in records), encoding="utf-8")


def good_record() -> dict:
    return two_step([0.0, 1.0]).to_dict()


@pytest.mark.parametrize("field, value, message", [
    ("won", "false", "won must be true or false"),
    ("reward", float("nan"), r"steps\[1\]\.reward must be a finite number"),
    ("action", None, r"steps\[1\]\.action must be a string"),
    ("task_id", 7, "task_id must be a string"),
    ("valid", "yes", r"steps\[1\]\.valid must be true or false"),
    ("reward_components", {"x": "1"}, "reward_components must be an object of finite numbers"),
])
def test_wrong_field_types_fail_naming_file_and_line(tmp_path, field, value, message):
    bad = good_record()
    if field in ("won", "task_id"):
        bad[field] = value
    else:
        bad["steps"][1][field] = value
    path = tmp_path / "data.jsonl"
    write_lines(path, [good_record(), "\n", bad])
    with pytest.raises(ValueError, match=rf"data\.jsonl:3: .*{message}"):
        load_dataset(path)


def test_deep_nesting_and_broken_json_fail_naming_file_and_line(tmp_path):
    deep = good_record()
    nested: list = []
    deep["metadata"] = {"x": nested}
    for _ in range(40):
        nested.append([])
        nested = nested[0]
    path = tmp_path / "deep.jsonl"
    write_lines(path, [good_record(), deep])
    with pytest.raises(ValueError, match=r"deep\.jsonl:2: .*nested deeper than 32"):
        load_dataset(path)
    write_lines(path, [good_record(), '{"task_id": "t", "metadata": ' + "[" * 200_000 + "\n"])
    with pytest.raises(ValueError, match=r"deep\.jsonl:2: the record is nested too deeply"):
        load_dataset(path)
    write_lines(path, ["{not json\n"])
    with pytest.raises(ValueError, match=r"deep\.jsonl:1: not JSON"):
        load_dataset(path)


def test_valid_datasets_still_load(tmp_path):
    data = [two_step([0.0, 1.0]), two_step([1.0, 0.0])]
    save_dataset(tmp_path / "ds", data)
    assert load_dataset(tmp_path / "ds") == data
