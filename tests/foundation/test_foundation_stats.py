"""turnrl.stats against values worked by hand."""
import pytest

from turnrl.stats import compare_paired, mcnemar_exact, paired_difference, t_interval, wilson_interval


def test_wilson_interval_matches_the_textbook_values():
    lo, hi = wilson_interval(8, 10)  # p = 0.8, z = 1.96: (0.4902, 0.9433)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    assert wilson_interval(0, 5)[0] == 0.0 and wilson_interval(5, 5)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_mcnemar_counts_only_discordant_episodes():
    before = [False] * 6 + [True] * 4 + [False] * 10
    after = [True] * 6 + [True] * 4 + [False] * 10  # 6 gains, 0 losses: p = 2 / 2**6
    assert mcnemar_exact(before, after) == pytest.approx(2 / 64)
    assert mcnemar_exact(after, before) == pytest.approx(2 / 64)
    assert mcnemar_exact([True, False], [True, False]) == 1.0
    assert mcnemar_exact([True, False, True], [False, True, True]) == 1.0  # 1 gain, 1 loss


def test_paired_difference_is_the_mean_change_with_a_bootstrap_interval():
    before, after = [0, 0, 1, 1] * 10, [1, 0, 1, 1] * 10
    mean, lo, hi = paired_difference(before, after)
    assert mean == pytest.approx(0.25) and lo < 0.25 < hi and lo > 0.0
    assert compare_paired([bool(x) for x in before], [bool(x) for x in after])["change"] == pytest.approx(0.25)
    with pytest.raises(ValueError):
        paired_difference([1, 0], [1])


def test_t_interval_is_the_student_t_half_width_over_seeds():
    # mean 2, sd 1, n 3: half = t(0.975, 2) * 1 / sqrt(3) = 4.302653 * 0.577350 = 2.484138
    mean, half = t_interval([1.0, 2.0, 3.0])
    assert mean == pytest.approx(2.0) and half == pytest.approx(2.484138, abs=1e-6)
    means, halves = t_interval([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]], axis=0)  # seeds x iterations
    assert list(means) == [1.0, 1.0] and halves[0] == pytest.approx(2.484138, abs=1e-6) and halves[1] == 0.0
    assert t_interval([0.5]) == (0.5, 0.0)  # one seed: no interval, not a crash
