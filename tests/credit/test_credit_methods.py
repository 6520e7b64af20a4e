"""Hand-computed examples: every expected number is worked out from the method's formula."""
from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from turnrl.credit import (
    broadcast_to_tokens,
    compute_advantages,
    discounted_returns,
    gae_arrays,
    gdpo,
    get_method,
    gigpo,
    grpo,
    list_methods,
    ospo_arrays,
    repeat_per_token,
    rloo,
    round_robin,
    salt,
    salt_graph,
    single_elimination,
    step_advantages,
    tournament,
)
from turnrl.credit.anchors import anchor_groups

S3 = math.sqrt(1 / 3)  # std (ddof 1) of [1, 1, 0, 0] and of [1, 0, 0]


def test_grpo_per_trajectory_std_and_mean(rows_of):
    rows = rows_of([("g", [("a", "x", 0.0), ("b", "y", 3.0)]), ("g", [("a", "z", 1.0)])])
    # returns 3 and 1: mean 2, sample std sqrt(2)
    expected = np.array([1, 1, -1]) / (math.sqrt(2) + 1e-6)
    np.testing.assert_allclose(grpo(rows, per="trajectory"), expected)
    np.testing.assert_allclose(grpo(rows, per="trajectory", norm="mean"), [1, 1, -1])


def test_grpo_per_step_rows_weigh_long_episodes(rows_of):
    rows = rows_of([("g", [("a", "x", 0.0), ("b", "y", 3.0)]), ("g", [("a", "z", 1.0)])])
    # samples [3, 3, 1]: mean 7/3, sample variance (4/9 + 4/9 + 16/9) / 2 = 4/3
    std = math.sqrt(4 / 3)
    np.testing.assert_allclose(grpo(rows), np.array([2 / 3, 2 / 3, -4 / 3]) / (std + 1e-6))
    np.testing.assert_allclose(grpo(rows, norm="mean"), [2 / 3, 2 / 3, -4 / 3])


def test_grpo_singleton_group_follows_reference_and_rloo_gives_zero(rows_of):
    rows = rows_of([("solo", [("a", "x", 5.0)]), ("g", [("a", "x", 1.0)]), ("g", [("a", "y", 0.0)])])
    assert grpo(rows)[0] == pytest.approx(5.0 / (1 + 1e-6))  # singleton: mean 0, std 1
    assert grpo(rows, singleton="zero")[0] == 0.0
    np.testing.assert_allclose(rloo(rows), [0.0, 1.0, -1.0])


def test_rloo_leave_one_out(rows_of):
    rows = rows_of([("g", [("a", "x", 1.0)]), ("g", [("a", "x", 2.0)]), ("g", [("a", "x", 6.0)])])
    np.testing.assert_allclose(rloo(rows), [1 - 4.0, 2 - 3.5, 6 - 1.5])


def two_branch_rows(rows_of, **state_keys):
    return rows_of([("g", [("a", "x", 0.0, True, state_keys.get("a")), ("b", "y", 1.0, True, "s1")]),
                    ("g", [("a", "z", 0.0, True, state_keys.get("a")), ("c", "y", 0.0, True, "s1")])])


def test_gigpo_episode_plus_anchor_step_advantage(rows_of):
    rows = two_branch_rows(rows_of)
    episode = 0.5 / (S3 + 1e-6)  # samples [1, 1, 0, 0]
    # anchor "a": step returns [0.95 * 1, 0], sample std 0.95 / sqrt(2); "b" and "c" are singletons
    step = 0.475 / (0.95 / math.sqrt(2) + 1e-6)
    np.testing.assert_allclose(gigpo(rows, gamma=0.95), [episode + step, episode, -episode - step, -episode])
    np.testing.assert_allclose(gigpo(rows, gamma=0.95, omega=0.5),
                               [episode + step / 2, episode, -episode - step / 2, -episode])
    np.testing.assert_allclose(gigpo(rows, gamma=0.95, norm="mean"), [0.5 + 0.475, 0.5, -0.5 - 0.475, -0.5])


def test_gigpo_state_key_anchors_differ_from_observation_anchors(rows_of):
    rows = two_branch_rows(rows_of)
    # obs "b" and "c" share the true state "s1": step returns [1, 0] there, std sqrt(1/2)
    np.testing.assert_allclose(step_advantages(rows, anchor="state", norm="mean"), [0.0, 0.5, 0.0, -0.5])
    np.testing.assert_allclose(step_advantages(rows, anchor="obs", norm="mean"), [0.475, 0.0, -0.475, 0.0])


def test_gigpo_fuzzy_anchors_join_near_duplicates_only(rows_of):
    near = "You see a fridge, a table and an apple on the table in the kitchen"
    rows = rows_of([("g", [(near, "x", 1.0)]), ("g", [(near + ".", "x", 0.0)]),
                    ("g", [("Completely different room", "x", 0.0)]), ("h", [(near, "x", 0.0)])])
    ids = anchor_groups(rows, threshold=0.95)
    assert ids[0] == ids[1] and len({ids[0], ids[2], ids[3]}) == 3  # other group never joins
    exact = anchor_groups(rows)
    assert len(set(exact.tolist())) == 4
    custom = anchor_groups(rows, threshold=0.5, similarity=lambda a, b: float(a[:3] == b[:3]))
    assert custom[0] == custom[1] != custom[2]


def salt_rows(rows_of, t2_first_action: str = "w", t2_mid: str = "c"):
    return rows_of([("g", [("a", "x", 0.0), ("b", "y", 1.0)]),
                    ("g", [("a", "x", 0.0), ("b", "z", 0.0)]),
                    ("g", [("a", t2_first_action, 0.0), (t2_mid, "y", 0.0)])])


def test_salt_averages_base_advantages_over_shared_transitions(rows_of):
    rows = salt_rows(rows_of)
    base = np.array([2 / 3, -1 / 3, -1 / 3]) / (S3 + 1e-6)  # GRPO of returns [1, 0, 0]
    shared = (base[0] + base[1]) / 2  # (a, x, b) is taken by trajectories 0 and 1
    expected = [shared, base[0], shared, base[1], base[2], base[2]]
    np.testing.assert_allclose(salt(rows, base_params={"per": "trajectory"}), expected)


def test_salt_merge_rule_transition_versus_prefix(rows_of):
    rows = salt_rows(rows_of, t2_mid="b")  # trajectory 2 reaches "b" by "w", then repeats (b, y, end)
    base = np.array([2 / 3, -1 / 3, -1 / 3]) / (S3 + 1e-6)
    by_transition = salt(rows, base_params={"per": "trajectory"})
    by_prefix = salt(rows, base_params={"per": "trajectory"}, merge="prefix")
    np.testing.assert_allclose(by_transition[[1, 5]], (base[0] + base[2]) / 2)
    np.testing.assert_allclose(by_prefix[[1, 5]], [base[0], base[2]])


def test_salt_graph_exposes_merged_edges(rows_of):
    rows = salt_rows(rows_of, t2_mid="b")
    graph = salt_graph(rows, group=0, base_params={"per": "trajectory"})
    assert isinstance(graph, nx.MultiDiGraph)
    assert graph.number_of_edges() == 4  # (a,x,b) (b,y,end) (b,z,end) (a,w,b)
    shared = graph.edges["a", "b", "x"]
    assert shared["trajectories"] == [0, 1]
    np.testing.assert_allclose(shared["advantage"], salt(rows, base_params={"per": "trajectory"})[0])
    tree = salt_graph(rows, group=0, merge="prefix")
    assert nx.is_tree(tree.to_undirected(as_view=True)) and tree.number_of_edges() == 5


def test_gdpo_normalises_each_component_then_the_batch(rows_of):
    combos = [{"a": 1, "b": 1}, {"a": 1, "b": 0}, {"a": 0, "b": 1}, {"a": 0, "b": 0}]
    rows = rows_of([("g", [("s", "x", sum(c.values()), True, None, c)]) for c in combos])
    # each component +-0.5 / (std + 1e-4), k = 0.5 / (sqrt(1/3) + 1e-4) -> pre = [2k, 0, 0, -2k];
    # batch std = 2k sqrt(2/3), batch normalisation (TRL) divides by std + 1e-4
    k = 0.5 / (S3 + 1e-4)
    top = 2 * k / (2 * k * math.sqrt(2 / 3) + 1e-4)
    np.testing.assert_allclose(gdpo(rows), [top, 0, 0, -top], rtol=1e-9)
    # weights: a counts 3x -> pre = k[4, 2, -2, -4], batch std = k sqrt(40/3)
    np.testing.assert_allclose(gdpo(rows, weights={"a": 3.0}),
                               k * np.array([4, 2, -2, -4]) / (k * math.sqrt(40 / 3) + 1e-4), rtol=1e-9)
    with pytest.raises(ValueError, match="unknown reward components"):
        gdpo(rows, components=["c"])


def quality_judge(quality):
    def judge(a, b):
        return 1.0 if quality[a] > quality[b] else 0.0 if quality[a] < quality[b] else 0.5
    return judge


def test_single_elimination_bracket_ranks_and_call_count():
    # anchor = candidate 0 (q .2): seed scores [.5, 1, 1, 0]; seeds {1, 2} (random order), 0, 3.
    # Round 1: top seed beats 3, other top seed beats 0; final: 1 beats 2. 0 and 3 tie on round
    # and points (0), so seed order decides: 0 third.
    ranking = single_elimination([0, 1, 2, 3], quality_judge([0.2, 0.9, 0.5, 0.1]))
    assert ranking.ranks.tolist() == [2, 0, 1, 3]
    assert ranking.judge_calls == 2 * 4 - 2
    five = single_elimination(list(range(5)), quality_judge([0.3, 0.1, 0.8, 0.5, 0.2]))
    assert five.judge_calls == 2 * 5 - 2 and int(np.argmin(five.ranks)) == 2


def test_round_robin_and_tournament_advantages(rows_of):
    ranking = round_robin([0, 1, 2, 3], quality_judge([0.2, 0.9, 0.5, 0.1]))
    assert ranking.ranks.tolist() == [2, 0, 1, 3] and ranking.judge_calls == 6
    rows = rows_of([("g", [("s", "x", 0.0)]) for _ in range(4)])
    advantages = tournament(rows, quality_judge([0.2, 0.9, 0.5, 0.1]))
    rewards = np.array([1 / 3, 1, 2 / 3, 0])  # 1 - rank / 3
    np.testing.assert_allclose(advantages, (rewards - 0.5) / (math.sqrt(5 / 27) + 1e-6))


@pytest.mark.parametrize("bad", [1.5, float("nan"), "win", None])
def test_judge_must_return_a_score_in_unit_interval(bad):
    with pytest.raises((ValueError, TypeError), match="judge must return"):
        round_robin([0, 1], lambda a, b: bad)


def test_ospo_one_step_groups_and_fairness():
    time_ids, rewards = np.array([0, 0, 0, 1, 1]), np.array([1.0, 2.0, 3.0, 5.0, 5.0])
    # population std (ddof 0) of [1, 2, 3] is sqrt(2/3): advantages -+1 / sqrt(2/3) = -+1.2247
    plain = ospo_arrays(time_ids, rewards, fairness=0)
    np.testing.assert_allclose(plain, [-1 / (math.sqrt(2 / 3) + 1e-8), 0, 1 / (math.sqrt(2 / 3) + 1e-8), 0, 0])
    agents = np.array([0, 1, 2, 0, 1])
    # shared (reference): fleet of 3 goes [0,0,0] -> [1,2,3] (std sqrt(2/3)) -> [6,7,3] (std sqrt(26/9))
    fair = ospo_arrays(time_ids, rewards, agent_ids=agents, n_agents=3)
    shared = [math.sqrt(2 / 3)] * 3 + [math.sqrt(26 / 9) - math.sqrt(2 / 3)] * 2
    np.testing.assert_allclose(fair, plain - np.array(shared))
    # per_agent (turnrl's earlier rule): the change this agent's reward alone would make
    per_agent = ospo_arrays(time_ids, rewards, agent_ids=agents, n_agents=3, fairness_rule="per_agent")
    before = [np.zeros(3)] * 3 + [np.array([1.0, 2.0, 3.0])] * 2
    deltas = []
    for c, a, r in zip(before, agents, rewards, strict=True):
        after = c.copy()
        after[a] += r
        deltas.append(after.std() - c.std())
    np.testing.assert_allclose(per_agent, plain - np.array(deltas))
    with pytest.raises(ValueError, match="agent_ids"):
        ospo_arrays(time_ids, rewards)  # fairness is on by default, as in the reference
    with pytest.raises(ValueError, match="fairness_rule"):
        ospo_arrays(time_ids, rewards, agent_ids=agents, fairness_rule="each")


def test_gae_and_discounted_returns():
    traj, step = np.array([0, 0]), np.array([0, 1])
    adv, targets = gae_arrays(np.array([0.0, 1.0]), np.array([0.5, 0.5]), traj, step, gamma=0.9, lam=0.8)
    # delta = [0.9 * 0.5 - 0.5, 1 - 0.5]; A0 = delta0 + 0.72 * A1
    np.testing.assert_allclose(adv, [-0.05 + 0.72 * 0.5, 0.5])
    np.testing.assert_allclose(targets, adv + 0.5)
    np.testing.assert_allclose(discounted_returns(np.array([1.0, 1.0]), traj, step, 0.5, bootstrap=np.array([4.0])),
                               [2.5, 3.0])


def test_invalid_penalty_hits_only_that_step(rows_of):
    rows = rows_of([("g", [("a", "x", 0.0), ("b", "y", 1.0, False)]), ("g", [("a", "x", 0.0), ("b", "y", 1.0)])])
    # step returns: anchor "a" [0.95, 0.95] (penalty not discounted back), anchor "b" [0.9, 1.0]
    np.testing.assert_allclose(step_advantages(rows, norm="mean", invalid_penalty=0.1), [0, -0.05, 0, 0.05])
    # per-trajectory GRPO of equal returns is 0; the penalty is added to the invalid row only
    np.testing.assert_allclose(grpo(rows, per="trajectory", invalid_penalty=0.1), [0, -0.1, 0, 0])
    np.testing.assert_allclose(rloo(rows, invalid_penalty=0.1), [0, -0.1, 0, 0])


def test_token_broadcast():
    out = broadcast_to_tokens(np.array([1.0, -2.0]), np.array([[0, 1, 1], [1, 1, 0]]))
    np.testing.assert_array_equal(out, [[0, 1, 1], [-2, -2, 0]])
    np.testing.assert_array_equal(repeat_per_token(np.array([1.0, 2.0]), np.array([2, 1])), [1, 1, 2])
    with pytest.raises(ValueError, match="response_mask"):
        broadcast_to_tokens(np.array([1.0]), np.ones((2, 3)))


def test_registry_selects_methods_by_name(rows_of):
    rows = two_branch_rows(rows_of)
    assert {"grpo", "rloo", "gigpo", "salt", "gdpo", "tournament", "ospo", "gae"} <= set(list_methods())
    np.testing.assert_allclose(compute_advantages("gigpo", rows, gamma=0.5), gigpo(rows, gamma=0.5))
    assert get_method("rloo") is rloo
    with pytest.raises(KeyError, match="unknown credit method 'ppo'"):
        get_method("ppo")


def test_salt_counts_a_trajectory_once_per_edge_even_when_it_loops(rows_of):
    rows = rows_of([("g", [("a", "look", 0.0), ("a", "look", 0.0), ("a", "go", 1.0)]),
                    ("g", [("a", "look", 0.0), ("a", "stop", 0.0)])])
    base = 0.5 / (math.sqrt(0.5) + 1e-6)  # GRPO of returns [1, 0]: +-base
    # (a, look, a) is crossed twice by trajectory 0 and once by 1: mean over trajectories is 0
    np.testing.assert_allclose(salt(rows, base_params={"per": "trajectory"}), [0, 0, base, 0, -base], atol=1e-12)
