"""Tree credit: the advantage of a branch is its return minus the mean over its siblings.

The tree is read off the rows themselves: inside each group, trajectories are merged into a
prefix tree (trie) over their (observation key, action) steps, so the copies of a shared prefix
that tree rollouts (`turnrl.tree_rollout`) give each leaf fall on one path, and a node with
several children is a branch point: one state, several actions tried from it. For the child
edge c of a branch point at depth d,

    V(c) = mean of G_d over the trajectories through c       (G_d: return-to-go from step d)
    A(c) = V(c) - mean over the siblings c' of V(c')          (norm="std": / (std of the V(c')) + eps)

and every step on a path without a branch point gets 0: it was not a choice among tried
alternatives. With `shared="first"` (default) only the first row of each edge carries its
advantage (the step that was generated; the others are copies of it in later leaves, so a
loss over all rows counts each generated step once); `shared="all"` gives every copy the same
value. Flat groups work too: members whose steps coincide share a path until they part.
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from turnrl.batch import StepRows

from .gae import returns
from .penalties import invalid_penalty as penalty_of

Shared = Literal["first", "all"]


class _Node:
    __slots__ = ("children", "rows")

    def __init__(self) -> None:
        self.children: dict[tuple[object, object], _Node] = {}
        self.rows: list[int] = []  # the rows that took this edge (one per trajectory through it)


def prefix_trees(rows: StepRows) -> list[_Node]:
    """One trie root per group; each trajectory's rows walk down it by (obs key, action)."""
    if rows.action is None:
        raise ValueError("tree credit needs the action of every row (turnrl.batch.to_rows keeps them)")
    roots = [_Node() for _ in range(rows.n_groups)]
    node: _Node | None = None
    current = -1
    for r in range(len(rows)):
        if rows.traj[r] != current:
            current, node = rows.traj[r], roots[rows.group[r]]
        child = node.children.get((rows.obs_key[r], rows.action[r]))  # type: ignore[union-attr]
        if child is None:
            child = node.children[(rows.obs_key[r], rows.action[r])] = _Node()  # type: ignore[union-attr]
        child.rows.append(r)
        node = child
    return roots


def tree(rows: StepRows, gamma: float = 1.0, norm: Literal["mean", "std"] = "mean", eps: float = 1e-6,
         shared: Shared = "first", invalid_penalty: float = 0.0) -> np.ndarray:
    """Tree advantage of every step row (see the module docstring). `invalid_penalty` is added to
    the advantage of each invalid row that carries one (under shared="first", not to its copies)."""
    if norm not in ("mean", "std") or shared not in ("first", "all"):
        raise ValueError(f"norm must be 'mean' or 'std' and shared 'first' or 'all', got {norm!r}, {shared!r}")
    advantages = np.zeros(len(rows))
    if len(rows) == 0:
        return advantages
    to_go = returns(rows, gamma)
    carriers = np.ones(len(rows), dtype=bool)
    stack = prefix_trees(rows)
    while stack:
        node = stack.pop()
        children = list(node.children.values())
        stack.extend(children)
        if shared == "first":
            for child in children:
                carriers[child.rows[1:]] = False
        if len(children) < 2:
            continue
        values = np.array([to_go[c.rows].mean() for c in children])
        centred = values - values.mean()
        if norm == "std":
            centred = centred / (values.std() + eps)
        for child, a in zip(children, centred):
            advantages[child.rows[:1] if shared == "first" else child.rows] = a
    if invalid_penalty:
        advantages += np.where(carriers, penalty_of(rows.valid, invalid_penalty), 0.0)
    return advantages
