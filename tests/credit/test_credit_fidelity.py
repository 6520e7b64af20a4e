"""Issue 17 (fidelity), items 1-5 and 8-11: each method against its reference's rule, with numbers
worked out by hand from that rule (the reference repository is named in each test)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from turnrl.credit import compute_advantages, gdpo_arrays, grpo, list_methods, ospo_arrays, salt
from turnrl.credit.anchors import fuzzy_anchor_groups
from turnrl.credit.tournament import round_robin, single_elimination, tournament


def quality_judge(quality):
    def judge(a, b):
        return 1.0 if quality[a] > quality[b] else 0.0 if quality[a] < quality[b] else 0.5
    return judge


# ---- 1, 2: OSPO (RS2002/OSPO, OSPO/Platform.py) ----------------------------------------------------

def test_ospo_uses_the_population_std():
    # np.std([3, 5, 7]) = sqrt(8/3) = 1.63299; (r - 5) / 1.63299 = -1.2247, 0, 1.2247
    got = ospo_arrays(np.zeros(3, int), np.array([3.0, 5.0, 7.0]), fairness=0)
    np.testing.assert_allclose(got, [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    sample_std = ospo_arrays(np.zeros(3, int), np.array([3.0, 5.0, 7.0]), fairness=0, ddof=1)
    np.testing.assert_allclose(sample_std, [-1.0, 0.0, 1.0], rtol=1e-6)  # turnrl's earlier default


def test_ospo_fairness_is_one_shared_value_per_step_with_weight_one():
    # fleet of 4 vehicles; minute 0: vehicles 0, 1, 2 earn 3, 5, 7 -> cumulative [3, 5, 7, 0],
    # np.std = sqrt(26.75 / 4) = 2.58602 (was 0): every matched vehicle gets -2.58602.
    # minute 1: vehicle 0 earns 2 -> [5, 5, 7, 0], deviations from 4.25 square-sum 26.75 again: 0.
    time_ids, rewards, agents = np.array([0, 0, 0, 1]), np.array([3.0, 5.0, 7.0, 2.0]), np.array([0, 1, 2, 0])
    got = ospo_arrays(time_ids, rewards, agents, n_agents=4)
    np.testing.assert_allclose(got, [-1.2247449 - 2.5860201, -2.5860201, 1.2247449 - 2.5860201, 0.0], rtol=1e-6)


def test_ospo_on_rows_takes_real_time_ids(rows_of):
    # three agents (trajectories of one group); rows at minutes 0, 0, 0: rewards 3, 5, 7
    rows = rows_of([("g", [("s", "a", 3.0)]), ("g", [("s", "a", 5.0)]), ("g", [("s", "a", 7.0)])])
    got = compute_advantages("ospo", rows, time=np.array([4, 4, 4]))
    # fleet of 3: [0,0,0] -> [3,5,7], std sqrt(8/3) = 1.63299 shared by all three
    np.testing.assert_allclose(got, np.array([-1.2247449, 0.0, 1.2247449]) - 1.6329932, rtol=1e-6)


# ---- 4: GDPO batch normalisation (TRL: std + 1e-4; verl: sqrt(var + 1e-8)) -------------------------

def test_gdpo_batch_epsilon_keeps_a_tiny_difference_tiny():
    # rewards [0, 1e-9] in one group: a = 5e-10 / (sqrt(2) * 5e-10 + 1e-4) = 4.99996e-6 each side,
    # then the batch: TRL a / (sqrt(2) a + 1e-4) = 0.046698; verl a / sqrt(2 a^2 + 1e-8) = 0.049875
    comp, groups = {"r": np.array([0.0, 1e-9])}, np.array([0, 0])
    a = 5e-10 / (math.sqrt(2) * 5e-10 + 1e-4)
    np.testing.assert_allclose(gdpo_arrays(comp, groups), [-0.046698, 0.046698], rtol=1e-4)
    b = a / (math.sqrt(2) * a + 1e-4)
    np.testing.assert_allclose(gdpo_arrays(comp, groups), [-b, b])
    np.testing.assert_allclose(gdpo_arrays(comp, groups, batch_norm="verl"), [-0.049875, 0.049875], rtol=1e-4)
    old = gdpo_arrays(comp, groups, batch_eps=1e-8)  # turnrl's earlier rule: std + 1e-8
    assert old[1] == pytest.approx(0.7061, rel=1e-3)
    with pytest.raises(ValueError, match="batch_norm"):
        gdpo_arrays(comp, groups, batch_norm="torch")


# ---- 5: ArenaRL tournament (Alibaba-NLP/qqr, qqr/reward_models/arena) ------------------------------

def test_seeding_score_of_candidate_zero_is_its_mean_and_counts_in_tie_breaks():
    # q = [.2, .9, .5, .1]. Seeding against c0: c1 1, c2 1, c3 0; c0 gets mean(0, 0, 1) = 1/3.
    # Seeds (stable): c1, c2, c0, c3 -> bracket c1-c3, c2-c0; c1 and c2 win, c1 wins the final.
    # Round-1 losers: c0 points [1/3, 0] (mean 1/6) ahead of c3 [0, 0].
    ranking = single_elimination([0, 1, 2, 3], quality_judge([0.2, 0.9, 0.5, 0.1]))
    assert ranking.ranks.tolist() == [2, 0, 1, 3] and ranking.judge_calls == 6
    np.testing.assert_allclose(ranking.points, [1 / 6, 1.0, 2 / 3, 0.0])


def test_byes_for_three_and_five_candidates_follow_the_reference():
    # N = 3, q = [.5, .9, .1]: seeds c1 (1), c0 (1/2), c2 (0). Bracket of 4 is [s0, s3, s1, s2]; the
    # empty slot s3 is dropped -> [c1, c0, c2]: c1 beats c0, c2 has the bye and is listed first in
    # round 2: c2 vs c1 -> c1 champion, c2 second, c0 third (out in round 1).
    three = single_elimination([0, 1, 2], quality_judge([0.5, 0.9, 0.1]))
    assert three.ranks.tolist() == [2, 0, 1] and three.judge_calls == 4
    # the standard-bracket rule gives the top seed the bye instead: c1 bye, c0 beats c2, c1 beats c0
    top = single_elimination([0, 1, 2], quality_judge([0.5, 0.9, 0.1]), byes="top_seeds")
    assert top.ranks.tolist() == [1, 0, 2]
    # N = 5, q = [.3, .1, .8, .5, .2]: seeds c2, c3, c0, c1, c4; bracket of 8 [0,7,3,4,1,6,2,5]
    # without slots >= 5 -> [c2, c1, c4, c3, c0]. Round 1: c2 beats c1, c3 beats c4, c0 bye.
    # Round 2: [c0, c2, c3]: c2 beats c0, c3 bye. Final c3 vs c2: c2. Round-1 losers c1, c4 tie on
    # mean points (0) and keep match order.
    five = single_elimination(list(range(5)), quality_judge([0.3, 0.1, 0.8, 0.5, 0.2]))
    assert five.ranks.tolist() == [2, 3, 0, 1, 4] and five.judge_calls == 2 * 5 - 2


def test_a_tied_match_goes_to_the_first_of_the_pair():
    # every match a tie: seeding all 0.5 -> seeds in index order, bracket [c0, c3, c1, c2];
    # c0 and c1 go through, c0 wins the final; round-1 losers c3, c2 tie on points, match order.
    ranking = single_elimination([0, 1, 2, 3], lambda a, b: 0.5)
    assert ranking.ranks.tolist() == [0, 1, 3, 2]


def test_round_robin_counts_wins_with_shared_ranks():
    # q = [.2, .9, .5, .5]: wins c0 0, c1 3, c2 1.5, c3 1.5 -> min ranks 4, 1, 2, 2 (1-based);
    # rewards (4 - rank) / 3 = 0, 1, 2/3, 2/3; std (ddof 1) of those = sqrt(76/432)
    ranking = round_robin([0, 1, 2, 3], quality_judge([0.2, 0.9, 0.5, 0.5]))
    assert ranking.ranks.tolist() == [3, 0, 1, 1]
    by_points = round_robin([0, 1, 2, 3], quality_judge([0.2, 0.9, 0.5, 0.5]), scoring="points")
    assert by_points.ranks.tolist() == [3, 0, 1, 2]


def test_round_robin_tournament_advantages(rows_of):
    rows = rows_of([("g", [("s", "x", 0.0)]) for _ in range(4)])
    got = tournament(rows, quality_judge([0.2, 0.9, 0.5, 0.5]), mode="round_robin")
    rewards = np.array([0.0, 1.0, 2 / 3, 2 / 3])
    np.testing.assert_allclose(got, (rewards - 7 / 12) / (math.sqrt(76 / 432) + 1e-6))
    flat = tournament(rows, lambda a, b: 0.5, mode="round_robin")  # everyone ties: all rewards 0
    assert flat.tolist() == [0.0] * 4


def transcribed_reference(n: int, judge) -> list[int]:
    """The ArenaRL single-elimination rule written out from its description (not its code):
    returns the candidates from first to last place."""
    pts = {i: [] for i in range(n)}
    if n >= 2:
        for i in range(1, n):
            pts[i].append(judge(i, 0))
        pts[0].append(sum(1 - pts[i][0] for i in range(1, n)) / (n - 1))
    avg = {i: (sum(p) / len(p) if p else 0.0) for i, p in pts.items()}
    by_seed = sorted(range(n), key=lambda i: (-avg[i], i))
    size = 1 << (n - 1).bit_length() if n > 1 else 1
    positions = [0]
    while len(positions) < size:
        m = 2 * len(positions)
        positions = [x for p in positions for x in (p, m - 1 - p)]
    field = [by_seed[p] for p in positions if p < n]
    out_rounds = []
    while len(field) > 1:
        nxt, out = ([field[-1]] if len(field) % 2 else []), []
        for a, b in zip(field[0::2], field[1::2]):
            s = judge(a, b)
            pts[a].append(s)
            pts[b].append(1 - s)
            nxt.append(a if s >= 1 - s else b)
            out.append(b if s >= 1 - s else a)
        out_rounds.append(out)
        field = nxt
    places = list(field)
    for out in reversed(out_rounds):
        places += sorted(out, key=lambda i: -sum(pts[i]) / len(pts[i]))
    return places


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6, 7, 8])
def test_single_elimination_agrees_with_the_transcribed_rule_on_random_judges(n):
    rng = np.random.default_rng(n)
    for _ in range(300 if n in (4, 8) else 60):
        table = np.round(rng.random((n, n)) * 4) / 4  # quarter steps, so ties (0.5) happen
        judge = lambda a, b, t=table: float(t[a, b])  # noqa: E731
        ranking = single_elimination(list(range(n)), judge)
        assert np.argsort(ranking.ranks).tolist() == transcribed_reference(n, judge)


# ---- 8: the invalid-action penalty reaches every method (verl-agent: -0.1 on the invalid row) -----

def penalty_rows(rows_of):
    return rows_of([("g", [("a", "x", 0.0), ("b", "y", 1.0, False)]), ("g", [("a", "x", 0.0), ("c", "z", 0.0)]),
                    ("g", [("a", "w", 1.0)])])


def test_grpo_penalty_lowers_the_invalid_rows_sample(rows_of):
    # two one-step trajectories, R = 1 and 1, the second step invalid: samples [1, 0.9],
    # mean 0.95, std (ddof 1) 0.0707107 -> +-0.7071
    rows = rows_of([("g", [("s", "x", 1.0)]), ("g", [("s", "x", 1.0, False)])])
    got = compute_advantages("grpo", rows, invalid_penalty=0.1)
    np.testing.assert_allclose(got, [0.05 / (0.1 / math.sqrt(2) + 1e-6), -0.05 / (0.1 / math.sqrt(2) + 1e-6)])


@pytest.mark.parametrize("name", ["rloo", "tournament", "gae", "gdpo", "ospo", "tree", "reward_to_go"])
def test_methods_without_a_sample_of_the_row_get_the_penalty_on_the_advantage(rows_of, name):
    rows = penalty_rows(rows_of)
    params = {"tournament": {"judge": quality_judge([0.3, 0.1, 0.9])}, "gae": {"values": np.zeros(len(rows))}}
    base = compute_advantages(name, rows, **params.get(name, {}))
    got = compute_advantages(name, rows, invalid_penalty=0.1, **params.get(name, {}))
    np.testing.assert_allclose(got - base, [0.0, -0.1, 0.0, 0.0, 0.0], atol=1e-12)


@pytest.mark.parametrize("name", ["gigpo", "salt"])
def test_penalty_is_never_silently_ignored(rows_of, name):
    rows = penalty_rows(rows_of)
    params = {"salt": {"base": "gigpo"}}.get(name, {})
    base = compute_advantages(name, rows, **params)
    got = compute_advantages(name, rows, invalid_penalty=0.1, **params)
    assert got[1] < base[1]


def test_every_registered_method_is_covered_and_a_negative_penalty_is_refused(rows_of):
    covered = {"grpo", "rloo", "tournament", "gae", "gdpo", "gigpo", "ospo", "salt", "tree", "reward_to_go"}
    assert set(list_methods()) <= covered
    with pytest.raises(ValueError, match="coefficient >= 0"):
        compute_advantages("grpo", penalty_rows(rows_of), invalid_penalty=-0.1)
    rows = penalty_rows(rows_of)
    over_array = salt(rows, base=np.zeros(len(rows)), invalid_penalty=0.1)
    np.testing.assert_allclose(over_array, [0.0, -0.1, 0.0, 0.0, 0.0])


# ---- 9: singleton groups count step rows (verl-agent episode_norm_reward) -------------------------

def test_one_trajectory_group_of_three_steps_gets_zero(rows_of):
    rows = rows_of([("g", [("a", "x", 1.0), ("b", "y", 0.0), ("c", "z", 1.0)]), ("h", [("a", "x", 5.0)])])
    # group g: 3 samples of R = 2 -> mean 2, std 0 -> 0. Group h: one sample -> mean 0, std 1 -> 5.
    np.testing.assert_allclose(grpo(rows), [0.0, 0.0, 0.0, 5.0 / (1 + 1e-6)])
    np.testing.assert_allclose(compute_advantages("gigpo", rows)[:3], [0.0, 0.0, 0.0])
    earlier = grpo(rows, singleton_by="trajectories")  # turnrl's earlier rule: A = R on every step
    np.testing.assert_allclose(earlier, np.array([2.0, 2.0, 2.0, 5.0]) / (1 + 1e-6))


# ---- 10: fuzzy anchors (verl-agent build_step_group: difflib default, first representative) -------

def test_fuzzy_anchor_joins_the_first_representative_above_threshold():
    # ratio("aaaabbbbbb", "a" * 10) = 2 * 4 / 20 = 0.4; against "b" * 10: 2 * 6 / 20 = 0.6
    keys = np.array(["a" * 10, "b" * 10, "aaaabbbbbb"], dtype=object)
    group = np.zeros(3, dtype=np.int64)
    first = fuzzy_anchor_groups(keys, group, threshold=0.35)
    assert first[2] == first[0] != first[1]
    best = fuzzy_anchor_groups(keys, group, threshold=0.35, match="best")
    assert best[2] == best[1] != best[0]


def test_fuzzy_anchor_uses_difflib_autojunk_by_default():
    # the representative has 200 characters, so autojunk drops its popular characters (x and y,
    # 100 each): no match, ratio 0. Without autojunk the 100 x's match: 2 * 100 / 401 = 0.4988.
    keys = np.array(["x" * 100 + "y" * 100, "q" + "x" * 100 + "z" * 100], dtype=object)
    group = np.zeros(2, dtype=np.int64)
    ref = fuzzy_anchor_groups(keys, group, threshold=0.4)
    assert ref[0] != ref[1]
    off = fuzzy_anchor_groups(keys, group, threshold=0.4, autojunk=False)
    assert off[0] == off[1]


# ---- 11: huge rewards are normalised stably, or refused clearly ------------------------------------

@pytest.mark.parametrize("name", ["grpo", "gigpo", "gdpo"])
def test_rewards_near_1e154_normalise_stably(rows_of, name):
    rows = rows_of([("g", [("s", "x", 1e154)]), ("g", [("s", "y", 2e154)]), ("g", [("s", "z", 3e154)])])
    got = compute_advantages(name, rows)
    # std (ddof 1) of [1, 2, 3]e154 is 1e154: [-1, 0, 1]. GiGPO adds the same again from the one
    # shared anchor "s" (one-step returns = rewards); GDPO divides by 1 + 1e-4 over the batch.
    scale = {"grpo": 1.0, "gigpo": 2.0, "gdpo": 1 / (1 + 1e-4)}[name]
    np.testing.assert_allclose(got, np.array([-1.0, 0.0, 1.0]) * scale, rtol=1e-6, atol=1e-12)


def test_ospo_with_huge_rewards_is_stable_and_overflow_is_a_clear_error(rows_of):
    got = ospo_arrays(np.zeros(3, int), np.array([1e154, 2e154, 3e154]), fairness=0)
    np.testing.assert_allclose(got, [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    fair = ospo_arrays(np.zeros(3, int), np.array([1e154, 2e154, 3e154]), np.arange(3))
    assert np.isfinite(fair).all()  # fleet std sqrt(2/3) * 1e154, no overflow
    rows = rows_of([("g", [("s", "x", 1e308)]), ("g", [("s", "y", 1e308)]), ("g", [("s", "z", -1e308)])])
    with pytest.raises(ValueError, match="too large"):
        compute_advantages("grpo", rows)


# ---- 3: discounting by elapsed time (RS2002/OSPO GRPO/Worker.py: gamma ** delta_t) -----------------

def test_discounted_returns_by_minutes_elapsed():
    from turnrl.credit import discounted_returns
    # one vehicle matched at minutes 0, 2 and 7 with rewards 1, 1, 1, gamma 0.5:
    # G(7) = 1; G(2) = 1 + 0.5^5 * 1 = 1.03125; G(0) = 1 + 0.5^2 * 1.03125 = 1.2578125
    got = discounted_returns(np.ones(3), np.zeros(3, int), np.arange(3), 0.5, times=np.array([0, 2, 7]))
    np.testing.assert_allclose(got, [1.2578125, 1.03125, 1.0])
    per_match = discounted_returns(np.ones(3), np.zeros(3, int), np.arange(3), 0.5)  # once per match
    np.testing.assert_allclose(per_match, [1.75, 1.5, 1.0])
