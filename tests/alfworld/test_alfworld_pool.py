"""ALFWorld through turnrl's pools and eval reporting: group resets in worker processes."""
from __future__ import annotations

import importlib.util

import pytest

if importlib.util.find_spec("alfworld") is None:
    pytest.skip("alfworld is not installed (pip install turnrl[alfworld])", allow_module_level=True)

from turnrl.envs.alfworld import games
from turnrl.envs.alfworld.report import per_task_type

try:
    DATA = games.alfworld_dir()
except FileNotFoundError as e:  # pragma: no cover - depends on the machine
    pytest.skip(f"ALFWorld data not found, set $TURNRL_DATA or $ALFWORLD_DATA: {e}", allow_module_level=True)


def test_subprocess_pool_group_reset_and_bad_actions():
    from turnrl.envs.pool import make_pool

    kwargs = {"split": "valid_seen", "task_types": "cool", "data_dir": str(DATA)}
    with make_pool("turnrl/ALFWorld-v0", 2, backend="subprocess", env_kwargs=kwargs, num_workers=2) as pool:
        (obs_a, info_a), (obs_b, info_b) = pool.reset([5, 5])
        assert obs_a == obs_b and info_a["state_key"] == info_b["state_key"] and info_a["game"] == info_b["game"]
        expert = info_a["expert_action"]
        good, bad = pool.step([expert, "x" * 100_000])
        assert good.info["valid"] and not good.truncated
        assert not bad.info["valid"] and bad.obs.startswith("Invalid action") and not bad.truncated
        assert pool.step([None, "look"])[0] is None


def test_per_task_type_folds_eval_task_ids():
    summary = {"per_task": {
        "valid_unseen/pick_two_obj_and_place-CD-None-Safe-308/trial_1": {"success_rate": 1.0, "n_episodes": 2},
        "valid_unseen/pick_two_obj_and_place-CD-None-Safe-308/trial_2": {"success_rate": 0.0, "n_episodes": 1},
        "valid_unseen/look_at_obj_in_light-CD-None-DeskLamp-308/trial_3": {"success_rate": 0.5, "n_episodes": 2},
    }}
    table = per_task_type(summary)
    assert list(table) == ["look_at_obj_in_light", "pick_two_obj_and_place", "all"]
    assert table["pick_two_obj_and_place"] == {"won": 2, "n": 3, "success_rate": 2 / 3}
    assert table["all"]["won"] == 3 and table["all"]["n"] == 5
