"""Offline datasets: lossless round trips (JSONL and Hugging Face), pairing, the agent mixture and `turnrl collect`."""
from __future__ import annotations

import pytest

from turnrl.trainers.offline.collection import MixtureAgent, parse_mixture
from turnrl.trainers.offline.datasets import (
    ADMISSIBLE_KEY,
    TokenizedStep,
    TokenizedTrajectory,
    agent_inputs,
    export_hf,
    load_dataset,
    load_meta,
    preference_pairs,
    save_dataset,
)
from turnrl.types import AgentInput, AgentOutput, Step, Trajectory


def odd_trajectory(won: bool, task_id: str = "task-0") -> Trajectory:
    steps = [Step(observation="You see a door.\n\u00e9\U0001F600 \x00", action="open door", reward=0.0,
                  info={ADMISSIBLE_KEY: ["open door", "look"], "score": 0}, t=0, state_key="s0"),
             Step(observation="x" * 10_000, action="go north", reward=1.0 if won else 0.0, terminated=won,
                  truncated=not won, end_reason="won" if won else "max steps", valid=False, invalid_reason="odd",
                  info={ADMISSIBLE_KEY: None}, t=1, prompt_ids=[1, 2], response_ids=[3], response_logprobs=[-0.5])]
    return Trajectory(task_id=task_id, seed=7, group_id="g", task="find the coin", steps=steps, won=won,
                      metadata={"nested": {"a": [1, 2.5, None]}})


def test_dataset_round_trips_losslessly_through_jsonl_and_hf(tmp_path):
    pytest.importorskip("datasets")
    data = [odd_trajectory(True), odd_trajectory(False, "task-1")]
    save_dataset(tmp_path / "ds", data, {"env_id": "x"})
    assert load_dataset(tmp_path / "ds") == data
    assert load_meta(tmp_path / "ds") == {"env_id": "x", "n_trajectories": 2, "n_steps": 4, "n_won": 1}
    import datasets

    from turnrl.io import from_hf_dataset

    assert from_hf_dataset(datasets.load_from_disk(str(export_hf(tmp_path / "ds")))) == data


def test_corrupt_and_missing_datasets_raise_clear_errors(tmp_path):
    save_dataset(tmp_path / "ds", [odd_trajectory(True)])
    with open(tmp_path / "ds" / "trajectories.jsonl", "a") as f:
        f.write("{not json\n")
    with pytest.raises(ValueError, match="trajectories.jsonl:2"):
        load_dataset(tmp_path / "ds")
    with pytest.raises(FileNotFoundError, match="turnrl collect"):
        load_dataset(tmp_path / "nothing")


def test_agent_inputs_rebuild_what_the_agent_saw():
    traj = odd_trajectory(True)
    second = agent_inputs(traj, "turnrl/TextWorld-v0")[1]
    assert second.history == [(traj.steps[0].observation, "open door")]
    assert second.task == "find the coin" and second.admissible_actions is None and second.step == 1


def tok(task: str, won: bool) -> TokenizedTrajectory:
    return TokenizedTrajectory([TokenizedStep([1], [2])], float(won), won, task)


def test_preference_pairs_match_won_and_failed_of_the_same_task_only():
    data = [tok("a", True), tok("a", False), tok("a", False), tok("b", True), tok("c", False)]
    pairs = preference_pairs(data)
    assert [(c.task_id, r.task_id) for c, r in pairs] == [("a", "a"), ("a", "a")]
    assert all(c.won and not r.won for c, r in pairs)
    assert pairs[0][1] is not pairs[1][1]  # every failure used before any is reused
    assert len(preference_pairs(data, max_pairs_per_task=1)) == 1


@pytest.mark.parametrize("text, expected", [
    ("expert:0.75,random:0.25", [("expert", 0.75), ("random", 0.25)]),
    ("expert", [("expert", 1.0)]),
    ("hf:/models/x:1,random:3", [("hf:/models/x", 0.25), ("random", 0.75)]),
    ("hf:/models/x", [("hf:/models/x", 1.0)]),
])
def test_parse_mixture(text, expected):
    assert parse_mixture(text) == expected


@pytest.mark.parametrize("text", ["", "expert:-1", "expert:0,random:0", "expert:nan"])
def test_parse_mixture_rejects_bad_weights(text):
    with pytest.raises(ValueError):
        parse_mixture(text)


class Constant:
    name = "constant"

    def __init__(self, action: str):
        self.action = action

    def act(self, inputs):
        return [AgentOutput(action=self.action) for _ in inputs]


def test_mixture_draws_agents_by_weight_and_records_what_was_offered():
    agent = MixtureAgent([Constant("a"), Constant("b")], [0.8, 0.2], ["A", "B"], seed=0)
    inputs = [AgentInput(observation=f"o{i}", task="t", admissible_actions=["a", "b"]) for i in range(2000)]
    actions = [o.action for o in agent.act(inputs)]
    assert 0.75 < actions.count("a") / len(actions) < 0.85
    traj = Trajectory(task_id="x", task="t", steps=[Step(observation="o3", action=actions[3])])
    agent.annotate([traj])
    assert traj.steps[0].info == {ADMISSIBLE_KEY: ["a", "b"], "behaviour_agent": "AB"[actions[3] == "b"]}


def test_collect_command_writes_a_dataset_and_rejects_bad_input(tmp_path, capsys):
    pytest.importorskip("textworld")
    from turnrl.cli import main

    out = tmp_path / "ds"
    code = main(["collect", "turnrl/TextWorld-Coin-v0", "--agent", "expert:0.5,random:0.5", "--episodes", "1",
                 "--group-size", "2", "--max-steps", "3", "--env-arg", "difficulty=1", "--env-arg", "n_games=1",
                 "--pool", "inprocess:2", "--out", str(out), "--no-progress"])
    assert code == 0
    data = load_dataset(out)
    assert len(data) == 2 and {t.group_id for t in data} == {"0:seed-0"}
    step = data[0].steps[0]
    assert step.info["behaviour_agent"] in ("expert", "random") and "look" in step.info[ADMISSIBLE_KEY]
    assert main(["collect", "turnrl/TextWorld-Coin-v0", "--agent", "expert:-2", "--out", str(tmp_path / "x")]) == 2
    assert "weight" in capsys.readouterr().err
