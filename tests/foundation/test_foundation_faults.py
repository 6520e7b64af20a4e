"""A task whose reset raises, hangs or kills its worker ends as one truncated episode without steps;
every other episode of the run goes on (issue 18.9)."""
from __future__ import annotations

import importlib.util

import pytest

from turnrl.agents.scripted import ExpertAgent
from turnrl.envs.pool import make_pool
from turnrl.rollout import TaskSpec, collect, summarize

# targets 1..4; the second task's reset misbehaves
def tasks(fault: str) -> list[TaskSpec]:
    return [TaskSpec(seed=s, options={"target": t, **({"fault": fault} if t == 2 else {})}, task_id=f"t{t}")
            for s, t in enumerate([1, 2, 3, 4])]


def check_only_the_broken_task_failed(trajectories, reason_start: str) -> None:
    assert [t.task_id for t in trajectories] == ["t1", "t1", "t2", "t2", "t3", "t3", "t4", "t4"]
    broken = [t for t in trajectories if t.task_id == "t2"]
    for traj in broken:
        assert traj.steps == [] and not traj.won and traj.metadata["truncated"]
        assert traj.metadata["end_reason"].startswith(reason_start), traj.metadata["end_reason"]
    assert all(t.won for t in trajectories if t.task_id != "t2")  # the expert wins every healthy task
    summary = summarize(trajectories)
    assert summary["n_episodes"] == 8 and summary["success_rate"] == 6 / 8
    assert sum(n for r, n in summary["end_reasons"].items() if r.startswith(reason_start)) == 2


@pytest.mark.parametrize("backend", ["inprocess", "subprocess"])
@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_reset_that_raises_ends_that_episode_and_the_rest_go_on(toy_env_id, backend, asynchronous):
    with make_pool(toy_env_id, 3, backend=backend) as pool:
        trajectories = collect(pool, ExpertAgent(), tasks("raise"), group_size=2, max_steps=8, progress=False,
                               asynchronous=asynchronous)
    check_only_the_broken_task_failed(trajectories, "reset failed: ValueError: task file for target 2 is corrupt")


def test_a_hung_reset_times_out_and_the_rest_go_on(toy_env_id):
    with make_pool(toy_env_id, 2, backend="subprocess", reset_timeout=1.0, step_timeout=10) as pool:
        trajectories = collect(pool, ExpertAgent(), tasks("hang"), group_size=2, max_steps=8, progress=False)
        assert pool.restarts == 2  # one hung reset per member of the broken group
    check_only_the_broken_task_failed(trajectories, "reset failed: reset timeout after 1s")


def test_a_reset_that_kills_its_worker_ends_that_episode(toy_env_id):
    with make_pool(toy_env_id, 2, backend="subprocess", step_timeout=10) as pool:
        trajectories = collect(pool, ExpertAgent(), tasks("crash"), group_size=2, max_steps=8, progress=False)
    check_only_the_broken_task_failed(trajectories, "reset failed: worker crashed: process")


def test_the_shard_sibling_of_a_hung_reset_is_reset_again_on_the_fresh_worker(toy_env_id):
    with make_pool(toy_env_id, 2, backend="subprocess", num_workers=1, reset_timeout=1.0) as pool:
        (obs0, info0), (obs1, info1) = pool.reset([0, 0], [{"target": 3, "fault": "hang"}, {"target": 3}],
                                                  on_error="end")
        assert info0["reset_failed"] and info0["end_reason"] == "reset failed: reset timeout after 1s"
        assert obs1.startswith("You are at") and not info1.get("reset_failed")
        assert pool.step([None, "wait"])[1].info["valid"]  # slot 1 plays on the restarted worker's env


def test_reset_failures_raise_unless_asked_to_go_on(toy_env_id):
    with make_pool(toy_env_id, 2, backend="subprocess", reset_timeout=1.0) as pool:
        with pytest.raises(RuntimeError, match="reset timeout after 1s"):
            pool.reset([0, 0], [{"target": 3, "fault": "hang"}, None])
        with pytest.raises(ValueError, match="on_error"):
            pool.reset([0, 0], on_error="ignore")
    with pytest.raises(ValueError, match="reset_timeout must be positive"):
        make_pool(toy_env_id, 1, backend="subprocess", reset_timeout=0)
    with pytest.raises(ValueError, match="cannot interrupt"):
        make_pool(toy_env_id, 1, reset_timeout=5)


def _alfworld_split_with_a_broken_game(root, data) -> str:
    """A valid_unseen split of three real ALFWorld games, the second with a corrupt PDDL problem."""
    import json

    src = data / "json_2.1.1" / "valid_unseen"
    split = root / "json_2.1.1" / "valid_unseen"
    split.mkdir(parents=True)
    (root / "logic").symlink_to(data / "logic")
    folders = sorted(p for p in src.iterdir() if p.name.startswith("look_at_obj_in_light"))[:3]
    for i, folder in enumerate(folders):
        if i != 1:
            (split / folder.name).symlink_to(folder)
            continue
        for trial in folder.iterdir():
            (split / folder.name / trial.name).mkdir(parents=True)
            for f in trial.iterdir():
                (split / folder.name / trial.name / f.name).symlink_to(f)
            game = split / folder.name / trial.name / "game.tw-pddl"
            content = json.loads(game.read_text())
            content["pddl_problem"] = content["pddl_problem"].replace("(:objects", "(:objekts", 1)
            game.unlink()
            game.write_text(json.dumps(content))  # still JSON, still marked solvable: listed as a game
    return folders[1].name


def test_one_alfworld_game_with_a_broken_pddl_problem_does_not_stop_eval(tmp_path):
    import json

    import importlib.util

    if importlib.util.find_spec("alfworld") is None:  # not importorskip: importing alfworld sets $ALFWORLD_DATA
        pytest.skip("needs the alfworld extra")
    from turnrl.envs.alfworld import games

    try:
        data = games.alfworld_dir()
    except FileNotFoundError as e:
        pytest.skip(f"ALFWorld data not found, set $TURNRL_DATA: {e}")
    from turnrl.cli import main

    broken = _alfworld_split_with_a_broken_game(tmp_path / "data", data)
    out = tmp_path / "eval.json"
    code = main(["eval", "turnrl/ALFWorld-v0", "--split", "valid_unseen", "--all-tasks", "--agent", "expert",
                 "--env-arg", f"data_dir={tmp_path / 'data'}", "--pool", "subprocess:2", "--out", str(out),
                 "--no-progress"])
    assert code == 0
    summary = json.loads(out.read_text())
    games_per_folder = [len(list(f.iterdir())) for f in sorted((tmp_path / "data/json_2.1.1/valid_unseen").iterdir())]
    n_broken = games_per_folder[1]  # every trial of the broken folder got the corrupt problem
    assert summary["n_episodes"] == sum(games_per_folder)
    assert summary["end_reasons"]["won"] == sum(games_per_folder) - n_broken  # the expert wins every other game
    (failed,) = [r for r in summary["end_reasons"] if r.startswith("reset failed: ")]
    assert summary["end_reasons"][failed] == n_broken and " at File " in failed  # where the engine gave up
    from turnrl.io import load_trajectories

    trajs = load_trajectories(tmp_path / "eval.trajectories.jsonl")
    bad = [t for t in trajs if not t.steps]
    assert len(bad) == n_broken and all(broken in t.task_id and t.metadata["end_reason"] == failed for t in bad)


def test_pool_limits_default_per_env_family(toy_env_id):
    from turnrl.cli.options import pool_timeouts
    from turnrl.envs.pool import default_timeouts

    assert default_timeouts(toy_env_id) == (60.0, 300.0)  # an env that declares none
    assert pool_timeouts(toy_env_id, "subprocess", None, 0) == (60.0, None)  # 0: no limit
    assert pool_timeouts(toy_env_id, "ray", 5, None) == (5, 300.0)
    assert pool_timeouts(toy_env_id, "inprocess", None, None) == (None, None)  # it cannot interrupt an env
    if importlib.util.find_spec("scienceworld") is not None:
        assert default_timeouts("turnrl/ScienceWorld-v0") == (60.0, 600.0)  # gold paths take minutes
