"""`turnrl/RideShare-v0`: the dispatch market in words, for LLM agents.

Each minute the agent reads the pending orders (zones, trip length, how long the rider has
waited) and, under each order, the vehicles that could take it (pickup minutes, minutes the
detour adds, whether riders are already aboard). It answers `assign o12 v3; o15 v7` or `wait`.
An assignment that names an unknown order or vehicle, a pair not offered, or a vehicle or order
twice is rejected with the reason and the minute is not spent. Reward: the paper's per-match
reward summed over the minute's matches. The episode ends after `episode_minutes`; it is won
when the share of orders served reaches `win_service_rate`.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from turnrl.envs.base import TextEnv
from turnrl.envs.rideshare.city import City
from turnrl.envs.rideshare import snapshot as ride_snapshot
from turnrl.envs.rideshare.offers import RideShareCore
from turnrl.envs.rideshare.sim import RideConfig

TASK = ("Dispatch Manhattan taxis: match pending ride requests to vehicles so that as many riders as "
        "possible are served, with short pickups and small detours. Riders leave after "
        "{patience:g} minutes without a match.")
_PAIR = re.compile(r"o(\d+)\s*(?:->|=>|:|to|\s)\s*v(\d+)", re.IGNORECASE)
_SEPARATORS = re.compile(r"[;,\n]+")
_WAIT = {"wait", "none", "pass", "no assignment"}


def parse_assignment(text: str) -> list[tuple[int, int]] | str:
    """`assign o12 v3; o15 -> v7` -> [(12, 3), (15, 7)]; `wait` -> []; anything else -> the reason it fails."""
    body = text.strip().rstrip(".").strip()
    if body.lower() in _WAIT:
        return []
    body = re.sub(r"^assign\b[:\s]*", "", body, flags=re.IGNORECASE)
    pairs = []
    for part in filter(None, (p.strip() for p in _SEPARATORS.split(body))):
        m = _PAIR.fullmatch(part)
        if m is None:
            return f"cannot read {part[:60]!r}; write pairs like 'assign o12 v3; o15 v7' or 'wait'"
        pairs.append((int(m.group(1)), int(m.group(2))))
    return pairs or "no pairs given; write 'assign o12 v3' or 'wait'"


class RideShareTextEnv(TextEnv):
    max_action_chars = 4000
    metadata = {**TextEnv.metadata, "snapshot": "exact"}  # simulator state (snapshot.py)
    _snapshot, _restore = ride_snapshot.snapshot, ride_snapshot.restore

    def __init__(self, config: RideConfig | dict | None = None, win_service_rate: float = 0.8,
                 city: City | None = None, data_dir: str | Path | None = None, render_mode: str | None = None):
        super().__init__(render_mode)
        if config is None:
            config = RideConfig(n_vehicles=10, orders_per_hour=120.0)  # a market one prompt can hold
        config = RideConfig(**config) if isinstance(config, dict) else config
        self.core = RideShareCore(config, city, data_dir)
        self.win_service_rate = float(win_service_rate)

    # -- text ---------------------------------------------------------------------------------
    def _describe(self) -> str:
        sim, offer, cfg = self.core.sim, self.core.offer, self.core.config
        clock = cfg.start_minute + sim.minute
        idle = sum(1 for v in sim.vehicles if not v.stops)
        lines = [(f"Minute {sim.minute} of {cfg.episode_minutes} ({clock // 60 % 24:02d}:{clock % 60:02d}). "
                 f"{len(sim.pending)} pending orders; {len(sim.vehicles)} vehicles ({idle} idle, {cfg.capacity} seats each).")]
        by_order: dict[int, list[int]] = {}
        for row, oid in enumerate(offer.orders.tolist()):
            by_order.setdefault(oid, []).append(row)
        names = sim.city.names
        for oid in sim.pending:
            o = sim.orders[oid]
            lines.append(f"o{oid}: {names[o.origin]} -> {names[o.dest]}, {o.trip_km:.1f} km, "
                         f"waited {sim.now - o.created:.1f} of {cfg.patience_min:g} min")
            options = []
            for row in by_order.get(oid, []):
                ins = offer.insertions[row]
                shared = ", shared" if sim.vehicles[ins.vehicle].riders else ""
                options.append(f"v{ins.vehicle} (pickup {ins.pickup_min:.1f} min, adds {ins.added_min:.1f} min{shared})")
            lines.append("   vehicles: " + ("; ".join(options) if options else "none can reach it in time"))
        if sim.done:
            m = sim.metrics()
            lines.append(f"Shift over: served {m['served']} of {m['orders']} orders, {m['expired']} expired, "
                         f"mean pickup {m['mean_pickup_min']:.1f} min, total reward {m['total_reward']:.1f}.")
        else:
            lines.append("Answer 'assign o<order> v<vehicle>; ...' (each vehicle and order at most once) or 'wait'.")
        return "\n".join(lines)

    def _info(self, reward_components: dict[str, float] | None = None) -> dict[str, Any]:
        sim, offer = self.core.sim, self.core.offer
        metrics = sim.metrics() if sim.done else None
        admissible = None if sim.done else ["wait"] + [f"assign o{o} v{v}" for v, o in zip(offer.vehicles.tolist(), offer.orders.tolist())]
        info = {
            "admissible_actions": admissible,
            "won": bool(metrics and metrics["service_rate"] >= self.win_service_rate),
            "state_key": (sim.minute, tuple(sim.pending), tuple((v.zone, tuple(v.stops)) for v in sim.vehicles)),
            "task": TASK.format(patience=self.core.config.patience_min),
            "metrics": metrics,
        }
        if reward_components is not None:
            info["reward_components"] = reward_components
        return info

    # -- TextEnv hooks ---------------------------------------------------------------------
    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        seed = options.get("seed")
        if seed is None:
            seed = int(self.np_random.integers(2**31))
        self.core.reset(int(seed))
        obs = self._describe()
        return obs, {**self._info(), "obs_key": obs}

    def _step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self.core.sim.done:
            return self.invalid_step("the episode is over; reset the env")
        parsed = parse_assignment(action)
        if isinstance(parsed, str):
            return self.invalid_step(parsed)
        parsed = [(v, o) for o, v in parsed]  # the text names orders first; the simulator keys by vehicle
        offer = self.core.offer
        row_of = {(int(v), int(o)): i for i, (v, o) in enumerate(zip(offer.vehicles, offer.orders))}
        reason = self.core.sim.check_assignment(parsed, set(row_of))
        if reason:
            return self.invalid_step(reason)
        result = self.core.step([row_of[p] for p in parsed])
        obs = self._describe()
        reward = float(sum(result.rewards))
        info = self._info({"matches": float(len(result.matched)), "match_reward": reward})
        info["obs_key"] = obs
        return obs, reward, self.core.sim.done, False, info
