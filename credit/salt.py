"""SALT: step-level advantages from a trajectory graph (arXiv 2510.20022), over any base method.

Per episode group, identical transitions (s, a, s') of different trajectories merge into one
edge; each step's advantage is the mean of the base advantages of the trajectories through its
edge. Shared steps that led both to success and to failure move toward 0, steps after the
trajectories diverge keep their sign, a step no other trajectory took keeps its own advantage.

The merge rule is explicit because the paper's exact rule is not public:
- merge="transition" (default): the key is (s, a, s') only, so the graph is a state graph and
  two trajectories share a step whenever they make the same move in the same state;
- merge="prefix": the key also includes the whole history before the step, so the graph is
  the prefix tree of the group and trajectories share steps only until they first diverge.
`s` is the row's `obs_key` (key="obs") or `state_key` (key="state"); the state after the last
step is a terminal node. A row whose key is None never merges. Rows built without actions
(`rows.action` None) merge on (s, s').

The advantages are computed with vectorised edge ids; `salt_graph` builds the same edges as a
networkx graph for one group, to inspect or draw.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import networkx as nx
import numpy as np

from turnrl.batch import StepRows

from ._groups import check_finite, combine_ids, dense_ids, factorize_keys, next_row
from .anchors import AnchorKey, key_codes, row_keys
from .gigpo import gigpo
from .grpo import grpo
from .penalties import invalid_penalty as penalty_of
from .rloo import rloo

Merge = Literal["transition", "prefix"]
END = "<end>"
BASES = {"grpo": grpo, "rloo": rloo, "gigpo": gigpo}


def _transition_codes(rows: StepRows, key: AnchorKey) -> np.ndarray:
    """Dense code of (s, a, s') per row, with s' = -1 after a trajectory's last step."""
    s = key_codes(row_keys(rows, key))
    a = factorize_keys(rows.action) if rows.action is not None else np.zeros(len(rows), dtype=np.int64)
    nxt = next_row(rows.traj, rows.step)
    s_next = np.where(nxt >= 0, s[np.maximum(nxt, 0)], -1)
    codes, _ = combine_ids(s, a, s_next)
    return codes


def _prefix_ids(rows: StepRows, codes: np.ndarray) -> np.ndarray:
    """Prefix-tree node per row: equal iff the whole history up to and including it is equal."""
    nxt = next_row(rows.traj, rows.step)
    prev = np.full(len(rows), -1, dtype=np.int64)
    prev[nxt[nxt >= 0]] = np.flatnonzero(nxt >= 0)
    ids = np.empty(len(rows), dtype=np.int64)
    order = np.argsort(rows.step, kind="stable")
    cuts = np.flatnonzero(np.diff(rows.step[order])) + 1
    used = 0
    for level in np.split(order, cuts):  # parents sit at earlier steps, so they are done
        parent = np.where(prev[level] >= 0, ids[np.maximum(prev[level], 0)], -1 - rows.group[level])
        local, k = combine_ids(parent, codes[level])
        ids[level] = local + used
        used += k
    return ids


def edge_ids(rows: StepRows, key: AnchorKey = "obs", merge: Merge = "transition") -> np.ndarray:
    """Dense merged-edge id of every row; rows share an id iff SALT merges them."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    codes = _transition_codes(rows, key)
    if merge == "transition":
        ids, _ = combine_ids(rows.group, codes)
        return ids
    if merge == "prefix":
        return _prefix_ids(rows, codes)
    raise ValueError(f"merge must be 'transition' or 'prefix', got {merge!r}")


def merged_mean(base: np.ndarray, edges: np.ndarray, traj: np.ndarray) -> np.ndarray:
    """Per row: mean over the trajectories through its edge of their base advantage there.

    A trajectory that crosses the same edge twice counts once (its rows are averaged first).
    """
    pair, n_pairs = combine_ids(edges, traj)
    rows_in_pair = np.bincount(pair, minlength=n_pairs)
    pair_mean = np.bincount(pair, weights=base, minlength=n_pairs) / rows_in_pair
    pair_edge = np.zeros(n_pairs, dtype=np.int64)
    pair_edge[pair] = edges
    n_edges = int(edges.max()) + 1
    edge_mean = np.bincount(pair_edge, weights=pair_mean, minlength=n_edges) / np.maximum(
        np.bincount(pair_edge, minlength=n_edges), 1)
    return edge_mean[edges]


def base_advantages(rows: StepRows, base: str | np.ndarray = "grpo",
                    base_params: Mapping[str, Any] | None = None) -> np.ndarray:
    """The per-row advantages SALT starts from: a method name in BASES or a ready array."""
    if isinstance(base, str):
        if base not in BASES:
            raise ValueError(f"SALT base must be one of {sorted(BASES)} or an array, got {base!r}")
        return BASES[base](rows, **dict(base_params or {}))
    values = check_finite(base, "base advantages")
    if values.shape != (len(rows),):
        raise ValueError(f"base advantages must have one value per row ({len(rows)}), got shape {values.shape}")
    return values


def salt(rows: StepRows, base: str | np.ndarray = "grpo", base_params: Mapping[str, Any] | None = None,
         key: AnchorKey = "obs", merge: Merge = "transition", invalid_penalty: float = 0.0) -> np.ndarray:
    """SALT advantage of every step row on top of `base` ("grpo", "rloo", "gigpo" or an array).

    The invalid-action penalty goes to a named base (which places it as that method does, before
    the merge); over an array base it is subtracted from the invalid row's merged advantage.
    """
    if len(rows) == 0:
        return np.zeros(0)
    params = dict(base_params or {})
    if invalid_penalty and isinstance(base, str):
        if params.get("invalid_penalty", invalid_penalty) != invalid_penalty:
            raise ValueError(f"invalid_penalty {invalid_penalty} and base_params invalid_penalty "
                             f"{params['invalid_penalty']} disagree; give it once")
        params["invalid_penalty"] = invalid_penalty
    values = base_advantages(rows, base, params)
    merged = merged_mean(values, edge_ids(rows, key, merge), rows.traj)
    if invalid_penalty and not isinstance(base, str):
        merged = merged + penalty_of(rows.valid, invalid_penalty)
    return merged


def salt_graph(rows: StepRows, group: int, base: str | np.ndarray = "grpo",
               base_params: Mapping[str, Any] | None = None, key: AnchorKey = "obs",
               merge: Merge = "transition") -> nx.MultiDiGraph:
    """The merged trajectory graph of one episode group.

    merge="transition": nodes are state keys (plus END), one edge per merged (s, a, s') with
    edge key the action. merge="prefix": nodes are prefix-tree ids ("root" first) carrying the
    state the history reached in their "state" attribute. Every edge holds `trajectories` (row traj ids through it),
    `rows`, `action`, `base_advantages` ({traj: its base advantage on the edge}) and
    `advantage` (SALT: the mean of those).
    """
    values = base_advantages(rows, base, base_params)
    edges = edge_ids(rows, key, merge)
    advantage = merged_mean(values, edges, rows.traj)
    mine = np.flatnonzero(rows.group == group)
    keys = row_keys(rows, key)
    nxt = next_row(rows.traj, rows.step)
    prev = np.full(len(rows), -1, dtype=np.int64)
    prev[nxt[nxt >= 0]] = np.flatnonzero(nxt >= 0)
    graph = nx.MultiDiGraph(group=int(group), merge=merge, key=key)
    local_edges, _ = dense_ids(edges[mine])
    for e in range(int(local_edges.max()) + 1 if len(mine) else 0):
        members = mine[local_edges == e]
        row = int(members[0])
        action = None if rows.action is None else rows.action[row]
        if merge == "transition":
            u = keys[row] if keys[row] is not None else ("<no key>", row)
            v = keys[nxt[row]] if nxt[row] >= 0 else END
            if nxt[row] >= 0 and keys[nxt[row]] is None:
                v = ("<no key>", int(nxt[row]))
        else:
            u = int(edges[prev[row]]) if prev[row] >= 0 else "root"
            v = int(edges[row])
            graph.add_node(v, state=keys[nxt[row]] if nxt[row] >= 0 else END)  # the state reached
        owners = rows.traj[members]
        per_traj = {int(t): float(values[members[owners == t]].mean()) for t in np.unique(owners)}
        graph.add_edge(u, v, key=action, action=action, rows=members.tolist(), trajectories=sorted(per_traj),
                       base_advantages=per_traj, advantage=float(advantage[row]))
    return graph
