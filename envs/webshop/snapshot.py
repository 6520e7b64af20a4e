"""Exact snapshots of `WebShopEnv`: the page state.

A WebShop episode is its goal (an index into the split), the page on screen (kind, query,
result page, product row, chosen options, sub-page) and the clickables that page offers (the step
count is the `StepLimit` wrapper's, snapshotted with it); the catalog and search index are shared
and read-only. Measured: under 2 KB.
"""
from __future__ import annotations

from typing import Any

from turnrl.envs.snapshot import attrs_state, set_attrs

FIELDS = ("index", "page", "clicks")


def snapshot(env: Any) -> bytes:
    if env.goal is None:
        raise RuntimeError("WebShopEnv.snapshot() before reset()")
    return attrs_state(env, FIELDS)


def restore(env: Any, state: bytes) -> None:
    set_attrs(env, state)
    env.goal = env.goal_set.goal(int(env.split_goals[env.index]))
