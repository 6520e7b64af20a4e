"""Small, dependency-free statistics for reporting success rates honestly.

Success over held-out episodes is a proportion: `wilson_interval` gives its 95% interval (sound
at 0% and 100%, unlike the normal approximation). Before/after comparisons on the SAME episodes
are paired: `paired_difference` bootstraps the interval of the change in success, and
`mcnemar_exact` tests it with the exact binomial test on the discordant episodes. Means over
training seeds get `t_interval` (scipy, imported when called).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

Z95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval of a proportion; (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return min(low, p), max(high, p)  # exact at the ends; never excludes the estimate through rounding


def paired_difference(before: Sequence[float], after: Sequence[float], n_boot: int = 10_000,
                      seed: int = 0) -> tuple[float, float, float]:
    """(mean of after - before, 2.5th and 97.5th bootstrap percentiles), resampling episodes."""
    b, a = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if b.shape != a.shape or b.ndim != 1 or len(b) == 0:
        raise ValueError("before and after must be equal-length, non-empty 1-D sequences (the same episodes)")
    diff = a - b
    rng = np.random.default_rng(seed)
    boots = diff[rng.integers(0, len(diff), size=(n_boot, len(diff)))].mean(axis=1)
    return float(diff.mean()), float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))


def mcnemar_exact(before: Sequence[bool], after: Sequence[bool]) -> float:
    """Two-sided exact McNemar p-value: of the episodes that changed, are gains and losses equally likely?"""
    gains = sum(1 for b, a in zip(before, after) if a and not b)
    losses = sum(1 for b, a in zip(before, after) if b and not a)
    n = gains + losses
    if n == 0:
        return 1.0
    k = min(gains, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def t_interval(values: Sequence[float] | np.ndarray, axis: int = 0,
               level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """(mean, half-width) of the Student-t interval over `axis`: the interval for a mean over a few
    training seeds, where the normal approximation is too narrow. Half-width 0 below two values."""
    from scipy import stats as scipy_stats

    x = np.asarray(values, dtype=float)
    n = x.shape[axis]
    if n < 2:
        return x.mean(axis=axis), np.zeros_like(x.mean(axis=axis))
    half = scipy_stats.t.ppf(0.5 + level / 2, n - 1) * x.std(axis=axis, ddof=1) / math.sqrt(n)
    return x.mean(axis=axis), half


def format_rate(wins: Sequence[bool]) -> str:
    """`37.5% [24.9%, 52.0%]`: the success rate with its Wilson 95% interval."""
    lo, hi = wilson_interval(sum(map(bool, wins)), len(wins))
    return f"{sum(map(bool, wins)) / max(len(wins), 1):.1%} [{lo:.1%}, {hi:.1%}]"


def compare_paired(before: Sequence[bool], after: Sequence[bool]) -> dict[str, float]:
    """Before/after success on the same episodes: rates, the change with its bootstrap interval, McNemar p."""
    diff, lo, hi = paired_difference([float(b) for b in before], [float(a) for a in after])
    return {"before": sum(map(bool, before)) / len(before), "after": sum(map(bool, after)) / len(after),
            "change": diff, "change_low": lo, "change_high": hi, "mcnemar_p": mcnemar_exact(before, after),
            "n": len(before)}


def describe_change(label: str, before: Sequence[bool], after: Sequence[bool]) -> str:
    c = compare_paired(before, after)
    return (f"{label}: {format_rate(before)} -> {format_rate(after)}; change {c['change']:+.1%} "
            f"[{c['change_low']:+.1%}, {c['change_high']:+.1%}] (paired bootstrap 95%), "
            f"exact McNemar p = {c['mcnemar_p']:.3g}, n = {c['n']}")
