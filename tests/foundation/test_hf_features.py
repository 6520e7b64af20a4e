"""HF export has a fixed schema: two different runs concatenate and load back exactly."""
import datasets

from turnrl.io import from_hf_dataset, to_hf_dataset
from turnrl.types import Step, Trajectory


def _llm_run():
    s = Step(observation="o", action="a", reward=1.0, reward_components={"win": 1.0},
             prompt_ids=[1, 2], response_ids=[3], response_logprobs=[-0.5],
             candidate_ids=[[3], [4, 5]], action_logprob=-0.7, info={"k": [1]})
    return [Trajectory(task_id="t1", seed=0, steps=[s], won=True, metadata={"m": 1})]


def _scripted_run():
    s = Step(observation="x", action="y", terminated=True)
    return [Trajectory(task_id="t2", steps=[s])]


def test_runs_concatenate_and_round_trip():
    a, b = _llm_run(), _scripted_run()
    both = datasets.concatenate_datasets([to_hf_dataset(a), to_hf_dataset(b)])
    assert from_hf_dataset(both) == a + b
