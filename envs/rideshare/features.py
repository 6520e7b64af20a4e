"""The 28 numbers the dispatch policy scores a (vehicle, order) pair by.

8 order features, 8 vehicle features, 8 pair features (from the exact route insertion, so the
policy sees the same pickup time, added minutes and timeouts the reward is computed from) and
4 market features shared by all pairs of a step. Scales keep typical values near [-1, 1].
"""
from __future__ import annotations

import numpy as np

from turnrl.envs.rideshare.sim import Insertion, RideSim, match_reward

N_FEATURES = 28
LAT0, LON0, DEG = 40.76, -73.97, 0.05


def pair_features(sim: RideSim, insertions: list[Insertion]) -> np.ndarray:
    """[len(insertions), 28] float32 features, one row per candidate pair."""
    city, cfg = sim.city, sim.config
    out = np.zeros((len(insertions), N_FEATURES), dtype=np.float32)
    idle = sum(1 for v in sim.vehicles if not v.stops)
    minute_of_day = cfg.start_minute + sim.now
    market = [sim.now / cfg.episode_minutes, np.sin(2 * np.pi * minute_of_day / 1440),
              np.cos(2 * np.pi * minute_of_day / 1440), np.log1p(len(sim.pending) / max(idle, 1))]
    rank: dict[int, int] = {}
    for row, ins in enumerate(insertions):
        order, vehicle = sim.orders[ins.order], sim.vehicles[ins.vehicle]
        r = rank[ins.order] = rank.get(ins.order, -1) + 1
        waited = sim.now - order.created
        route_end = sim.route_end(vehicle) - sim.now
        out[row] = [
            (city.lat[order.origin] - LAT0) / DEG, (city.lon[order.origin] - LON0) / DEG,
            (city.lat[order.dest] - LAT0) / DEG, (city.lon[order.dest] - LON0) / DEG,
            order.trip_km / 10, order.trip_min / 30, waited / cfg.patience_min,
            (cfg.patience_min - waited) / cfg.patience_min,
            (city.lat[vehicle.zone] - LAT0) / DEG, (city.lon[vehicle.zone] - LON0) / DEG,
            len(vehicle.riders) / cfg.capacity, len(vehicle.stops) / (2 * cfg.capacity), route_end / 30,
            float(not vehicle.stops), vehicle.eta / 10, (cfg.capacity - len(vehicle.riders)) / cfg.capacity,
            ins.pickup_min / 10, ins.added_min / 30, ins.timeouts,
            city.km[vehicle.anchor, order.origin] / 5,
            match_reward(ins.trip_km, ins.pickup_min, ins.timeouts, ins.added_min) / 10,
            ins.new_detour_min / 10, float(bool(vehicle.riders)), r / cfg.candidates_per_order,
            *market,
        ]
    return out
