"""turnrl/ALFWorld-v0 on real ALFWorld games from $TURNRL_DATA/alfworld (or $ALFWORLD_DATA)."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import gymnasium as gym
import pytest

# find_spec, not importorskip: importing alfworld itself would set $ALFWORLD_DATA to its own cache
if importlib.util.find_spec("alfworld") is None:
    pytest.skip("alfworld is not installed (pip install turnrl[alfworld])", allow_module_level=True)

import turnrl.envs  # noqa: F401  (registers the ids)
from turnrl.envs.alfworld import games

try:
    DATA = games.alfworld_dir()
except FileNotFoundError as e:  # pragma: no cover - depends on the machine
    pytest.skip(f"ALFWorld data not found, set $TURNRL_DATA or $ALFWORLD_DATA: {e}", allow_module_level=True)

from turnrl.envs.alfworld.env import ALFWorldEnv

# Short games of valid_unseen (the hand-coded expert wins them in a few steps).
MUG_DESK = "pick_and_place_simple-Mug-None-Desk-308/trial_T20190908_125200_737896"
ID = "turnrl/ALFWorld-v0"


def make(**kwargs) -> ALFWorldEnv:
    return gym.make(ID, **{"split": "valid_unseen", **kwargs}).unwrapped


@pytest.fixture(scope="module")
def env():
    e = make(expert="none")
    yield e
    e.close()


def play(env: ALFWorldEnv, actions: list[str], **options):
    obs, info = env.reset(seed=0, options={"game": MUG_DESK, **options})
    for action in actions:
        obs, _, _, _, info = env.step(action)
    return obs, info


def test_catalog_matches_alfworld_split_sizes():
    assert len(games.list_games("valid_unseen", data_dir=DATA)) == 134
    assert len(games.list_games("valid_seen", data_dir=DATA)) == 140
    per_type = [len(games.list_games("valid_unseen", t, DATA)) for t in games.TASK_TYPES.values()]
    assert per_type == [24, 18, 31, 23, 21, 17]
    assert games.parse_task_types("pick_two,3") == ("pick_two_obj_and_place", "pick_clean_then_place_in_recep")
    assert games.split_name("eval_out_of_distribution") == "valid_unseen"
    with pytest.raises(ValueError, match="unknown ALFWorld task type"):
        games.parse_task_types("fly")


def test_list_tasks_gives_reset_options_for_every_game(env):
    tasks = ALFWorldEnv.list_tasks({"split": "valid_unseen", "task_types": "look"})
    assert len(tasks) == 18 and len({t["game"] for t in tasks}) == 18
    obs, info = env.reset(seed=123, options=tasks[3])
    assert info["game"] == tasks[3]["game"] and info["task_type"] == "look_at_obj_in_light"
    assert obs.startswith("You are in the middle of a room") and "Welcome" not in obs
    assert info["task"] and obs.endswith(info["task"])


def test_seed_picks_the_same_game_and_start(env):
    obs_a, info_a = env.reset(seed=7)
    other = make(expert="none")
    obs_b, info_b = other.reset(seed=7)
    assert (obs_a, info_a["state_key"], info_a["admissible_actions"]) == (obs_b, info_b["state_key"], info_b["admissible_actions"])
    for action in info_a["admissible_actions"][:3]:
        assert env.step(action)[0] == other.step(action)[0]
    other.reset(seed=8)  # another game in between: the engine is reloaded, the start is not changed
    assert other.reset(seed=7) == (obs_a, info_a)
    other.close()


def test_group_reset_gives_identical_first_observations():
    members = [make(task_types="clean") for _ in range(2)]
    starts = [m.reset(seed=42, options={"reward": "gigpo10"}) for m in members]
    assert starts[0][0] == starts[1][0]
    assert len({(i["game"], i["state_key"], i["expert_action"]) for _, i in starts}) == 1
    for m in members:
        m.close()


def test_state_key_is_the_true_state_not_the_path(env):
    _, direct = play(env, ["go to desk 1"])
    _, detour = play(env, ["go to drawer 3", "go to bed 1", "go to desk 1"])
    assert direct["state_key"] == detour["state_key"]
    # the same raw observation in two different true states: obs anchors merge, state keys do not
    obs_a, at_start = play(env, ["jump"])
    obs_b, at_desk = play(env, ["go to desk 1", "jump"])
    assert obs_a == obs_b == "Nothing happens."
    assert at_start["obs_key"] == at_desk["obs_key"] and at_start["state_key"] != at_desk["state_key"]


def test_bad_actions_never_crash(env):
    _, info = play(env, [])
    key = info["state_key"]
    for action in ["fly to the moon", "", "   ", "go to desk 1" * 500, "go to desk\x00 1", "\ud800", "ÿ€😀"]:
        obs, reward, terminated, truncated, info = env.step(action)
        assert info["valid"] is False and info["invalid_reason"]
        assert (reward, terminated, truncated) == (0.0, False, False)
        assert info["state_key"] == key
        assert obs == "Nothing happens." or obs.startswith("Invalid action:")
    with pytest.raises(TypeError):
        env.step(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown ALFWorld options"):
        env.reset(seed=0, options={"splt": "train"})
    with pytest.raises(ValueError, match="no ALFWorld game"):
        env.reset(seed=0, options={"game": "no-such-game/trial"})
    with pytest.raises(RuntimeError, match="before reset"):
        make().step("look")


@pytest.mark.parametrize("reward,expert,value", [("success", "handcoded", 1.0), ("success", "handcoded+planner", 1.0),
                                                  ("gigpo10", "planner", 10.0)])
def test_experts_win_with_the_chosen_reward(reward, expert, value):
    env = make(reward=reward, expert=expert)
    _, info = env.reset(seed=0, options={"game": MUG_DESK})
    rewards = []
    for _ in range(30):
        assert info["expert_action"] in info["admissible_actions"]
        _, r, terminated, _, info = env.step(info["expert_action"])
        rewards.append(r)
        if terminated:
            break
    assert terminated and info["won"] and rewards[-1] == value and sum(rewards[:-1]) == 0
    assert env.step("look")[-1]["invalid_reason"] == "the episode has ended; call reset()"
    env.close()


def play_expert(env: ALFWorldEnv, game: str, seed: int, max_steps: int = 200) -> tuple[list[str], dict]:
    _, info = env.reset(seed=seed, options={"game": game})
    actions: list[str] = []
    while len(actions) < max_steps and info["expert_action"] is not None:
        actions.append(info["expert_action"])
        _, _, terminated, _, info = env.step(actions[-1])
        if terminated:
            break
    return actions, info


def test_planner_takes_over_when_the_handcoded_expert_cycles():
    # In this game the hand-coded expert keeps going back to the sofa for a second keychain and,
    # under seed 0, spends all 200 steps doing so; the combined expert hands over to the planner.
    keychains = "pick_two_obj_and_place-KeyChain-None-Safe-219/trial_T20190909_011803_423115"
    actions, info = play_expert(make(expert="handcoded+planner"), keychains, seed=0)
    assert info["won"] and len(actions) < 40
    assert 0 < info["expert_planner_since"] < len(actions)
    handcoded = make(expert="handcoded")
    before = play_expert(handcoded, keychains, seed=0, max_steps=info["expert_planner_since"])[0]
    assert before == actions[:info["expert_planner_since"]]  # the same expert until the hand-over
    # where the hand-coded expert does not cycle, the combined expert is the hand-coded one
    mug = [play_expert(make(expert=e), MUG_DESK, seed=3) for e in ("handcoded", "handcoded+planner")]
    assert mug[0][0] == mug[1][0] and "expert_planner_since" not in mug[1][1]


def test_the_planner_plans_once_while_followed_and_an_agents_detours_are_no_cycle(monkeypatch):
    from turnrl.envs.alfworld import engine

    calls = []
    plan_now = engine.plan_now
    monkeypatch.setattr(engine, "plan_now", lambda env: calls.append(1) or plan_now(env))
    keychains = "pick_two_obj_and_place-KeyChain-None-Safe-219/trial_T20190909_011803_423115"
    actions, info = play_expert(make(expert="handcoded+planner"), keychains, seed=0)
    assert info["won"] and len(calls) == 1  # one plan at the hand-over, followed to the end

    # an invalid command leaves the state as it was and the expert proposes the same action
    # again: the agent's detour, which must not hand over to the (slow) planner
    env = make(expert="handcoded+planner")
    _, info = env.reset(seed=0, options={"game": MUG_DESK})
    proposal = info["expert_action"]
    for junk in ["xyzzy", "\\g", "go to the moon", "look"]:
        _, _, _, _, info = env.step(junk)
        assert "expert_planner_since" not in info and info["expert_action"] is not None
    assert not calls[1:] and proposal


def test_importing_the_engine_keeps_the_data_variable():
    # alfworld sets $ALFWORLD_DATA to its own cache on import, which would shadow $TURNRL_DATA
    code = "import os, turnrl.envs.alfworld.engine; print(os.environ.get('ALFWORLD_DATA'))"
    environ = {k: v for k, v in os.environ.items() if k != "ALFWORLD_DATA"}
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"
