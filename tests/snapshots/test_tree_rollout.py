"""Tree rollouts on TextWorld: the same trees from the in-process and the subprocess pool, branch
points that are exact anchor states, and the shared prefix stepped once."""
from __future__ import annotations

import pytest

pytest.importorskip("textworld", reason="the textworld extra is not installed")

from turnrl.agents.scripted import RandomAgent
from turnrl.envs.pool import make_pool
from turnrl.rollout import TaskSpec
from turnrl.tree_rollout import branch_points, collect_tree, generated_steps, tree_cost
from turnrl.types import AgentOutput

ID = "turnrl/TextWorld-Coin-v0"
TASKS = [TaskSpec(seed=0), TaskSpec(seed=5)]


def kwargs(tw_cache):
    return {"difficulty": 5, "n_games": 3, "cache_dir": str(tw_cache), "expert": False}


def grow(pool, **settings):
    return collect_tree(pool, RandomAgent(7), TASKS, max_steps=8, **settings)


def test_inprocess_and_subprocess_pools_grow_identical_trees(tw_cache):
    with make_pool(ID, 3, "inprocess", env_kwargs=kwargs(tw_cache)) as pool:
        local = grow(pool, branches=3, every=3)
    with make_pool(ID, 3, "subprocess", env_kwargs=kwargs(tw_cache), num_workers=2) as pool:
        remote = grow(pool, branches=3, every=3)
    assert [t.to_dict() for t in local] == [t.to_dict() for t in remote]
    assert len(local) > 2 * len(TASKS)


def test_branches_leave_the_trunk_from_its_exact_state(tw_cache):
    with make_pool(ID, 2, "inprocess", env_kwargs=kwargs(tw_cache)) as pool:
        trajs = grow(pool, branches=3, every=2)
    by_group: dict[str, list] = {}
    for t in trajs:
        by_group.setdefault(t.group_id, []).append(t)
    assert len(by_group) == len(TASKS)
    for members in by_group.values():
        trunk, branches = members[0], members[1:]
        points = trunk.metadata["tree"]["branch_points"]
        assert points == list(range(0, trunk.length, 2))
        assert len(branches) == 2 * len(points)
        for b in branches:
            k = b.metadata["tree"]["branch_step"]
            assert b.metadata["tree"]["shared_prefix"] == k
            assert [s.to_dict() for s in b.steps[:k]] == [s.to_dict() for s in trunk.steps[:k]]
            first = b.steps[k]  # the branch's first own step acts in the trunk's state k
            assert (first.observation, first.state_key, first.obs_key) == \
                (trunk.steps[k].observation, trunk.steps[k].state_key, trunk.steps[k].obs_key)
            assert [s.t for s in b.steps] == list(range(b.length))
    cost = tree_cost(trajs)
    assert cost["env_steps"] == sum(len(generated_steps(t)) for t in trajs) < cost["flat_env_steps"]


class SureThenUnsure:
    """Reports its own uncertainty: high at steps 1 and 3, low elsewhere (log-probs of its 'tokens')."""

    name = "unsure"

    def act(self, inputs):
        return [AgentOutput(action=x.admissible_actions[0], response_ids=[1, 2],
                            response_logprobs=[-2.0, -2.0] if x.step in (1, 3) else [-0.1, -0.1]) for x in inputs]


def test_entropy_branch_points_are_the_most_uncertain_steps(tw_cache):
    with make_pool(ID, 2, "inprocess", env_kwargs=kwargs(tw_cache)) as pool:
        trajs = collect_tree(pool, SureThenUnsure(), TASKS[:1], branches=2, by="entropy", points=2, max_steps=6)
    trunk = trajs[0]
    assert trunk.length > 3 and trunk.metadata["tree"]["branch_points"] == [1, 3]
    assert [t.metadata["tree"]["branch_step"] for t in trajs[1:]] == [1, 3]
    cost = tree_cost(trajs)
    assert cost["tokens"] == 2 * cost["env_steps"] and cost["flat_tokens"] == 2 * cost["flat_env_steps"]


def test_branch_points_rule():
    assert branch_points(7, every=3) == [0, 3, 6]
    assert branch_points(4, every=2, by="entropy", points=2, scores=[0.1, 0.9, 0.9, 0.2]) == [1, 2]
    assert branch_points(4, every=2, by="entropy", points=2, scores=[None] * 4) == [0, 2]  # no scores: every-k
