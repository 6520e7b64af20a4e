"""Exact snapshots of `RideShareTextEnv`: the simulator's episode state and the current offer.

The city (zones, travel times, demand) and the config are fixed per env and stay out; the
snapshot holds the clock, the orders, the vehicles with their routes, the pending queue, the
episode log, the simulator's RNG (so later demand arrives the same) and the offered
insertions. Measured: about 10-30 KB mid-shift with the default market (10 vehicles).
"""
from __future__ import annotations

from typing import Any

from turnrl.envs.snapshot import attrs_state, set_attrs

SIM_FIELDS = ("rng", "now", "orders", "vehicles", "pending", "log", "_route_end")


def snapshot(env: Any) -> dict[str, bytes]:
    return {"sim": attrs_state(env.core.sim, SIM_FIELDS), "core": attrs_state(env.core, ("offer",))}


def restore(env: Any, state: dict[str, bytes]) -> None:
    set_attrs(env.core.sim, state["sim"])
    set_attrs(env.core, state["core"])
