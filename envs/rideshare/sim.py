"""The fleet simulator: one-minute steps, orders with patience, pooled vehicles, per-match reward.

Each step the dispatcher sees the pending orders and, per order, up to `candidates_per_order`
vehicles that can reach it soonest and still have a free seat. A match inserts the order's
pickup and drop-off into the vehicle's stop list at the cheapest feasible place (pooling by
re-routing; a vehicle already driving to its next stop keeps that stop first). Then the clock
advances one minute: vehicles drive, pick up and drop off; unmatched orders older than their
patience expire; new orders arrive by the fitted demand model.

A seat is taken from the match until the drop-off, so a vehicle never holds more riders than
its capacity, whatever the route order.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from turnrl.envs.rideshare.city import City

PENDING, ASSIGNED, ONBOARD, SERVED, EXPIRED = "pending", "assigned", "onboard", "served", "expired"


@dataclass
class RideConfig:
    """Scenario knobs; defaults follow the paper (30 one-minute steps from 19:00, 5-minute patience, 3 seats)."""

    n_vehicles: int = 1000
    orders_per_hour: float = 8000.0  # demand rate at the start hour; the hourly profile scales it after
    start_minute: int = 19 * 60
    episode_minutes: int = 30
    patience_min: float = 5.0
    capacity: int = 3
    candidates_per_order: int = 8
    max_pickup_min: float = 15.0
    max_wait_min: float = 10.0  # request to pickup; a match that pushes a rider past it counts a timeout

    def __post_init__(self) -> None:
        for name in ("n_vehicles", "episode_minutes", "capacity", "candidates_per_order"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        for name in ("orders_per_hour", "patience_min", "max_pickup_min", "max_wait_min"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite non-negative number, got {value!r}")


@dataclass
class Order:
    id: int
    origin: int
    dest: int
    created: float
    trip_min: float
    trip_km: float
    status: str = PENDING
    vehicle: int = -1
    assigned_at: float = float("nan")
    pickup_at: float = float("nan")
    dropoff_at: float = float("nan")
    expected_pickup: float = float("nan")


@dataclass
class Vehicle:
    id: int
    zone: int  # last zone reached
    eta: float = 0.0  # minutes to stops[0]
    stops: list[tuple[int, int, bool]] = field(default_factory=list)  # (zone, order id, is_pickup)
    riders: set[int] = field(default_factory=set)  # matched and not yet dropped off

    @property
    def anchor(self) -> int:
        """The zone the vehicle can be re-routed from: its next stop if driving, else where it is."""
        return self.stops[0][0] if self.stops else self.zone


@dataclass(frozen=True)
class Insertion:
    """The cheapest way to add one order to one vehicle's route, and what it costs."""

    vehicle: int
    order: int
    stops: list[tuple[int, int, bool]]
    pickup_min: float  # from now to arrival at the new pickup
    added_min: float  # extra driving the route needs
    timeouts: int  # riders (new or already matched) whose pickup lands after max_wait_min from request
    trip_km: float
    new_detour_min: float  # the new rider's in-vehicle time beyond the direct trip


def match_reward(trip_km: float, pickup_min: float, timeouts: int, added_min: float) -> float:
    """The paper's per-match reward: 3 + km - 3 pickup/60 - timeouts - 3 added/60 - 5 (added - 40)/60 past 40."""
    reward = 3.0 + 1.0 * trip_km - 3.0 * pickup_min / 60.0 - 1.0 * timeouts - 3.0 * added_min / 60.0
    if added_min > 40.0:
        reward -= 5.0 * (added_min - 40.0) / 60.0
    return reward


class RideSim:
    """The simulator state and its transitions; views (gym, PettingZoo, text) wrap one of these."""

    def __init__(self, city: City, config: RideConfig | None = None):
        self.city = city
        self.config = config or RideConfig()
        self.rng = np.random.default_rng()
        self.now = 0.0
        self.orders: list[Order] = []
        self.vehicles: list[Vehicle] = []
        self.pending: list[int] = []
        self.log: dict[str, float] = {}
        self._tt: list[list[float]] = city.minutes.tolist()  # scalar look-ups are ~10x faster on lists
        self._route_end: dict[int, float] = {}  # per vehicle, valid until its route or the clock changes

    # -- episode ----------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> None:
        cfg = self.config
        self.rng = np.random.default_rng(seed)
        self.now = 0.0
        self.orders, self.pending = [], []
        self._route_end.clear()
        origin_p = self.city.od_prob.sum(1)
        zones = self.rng.choice(self.city.n_zones, size=cfg.n_vehicles, p=origin_p)
        self.vehicles = [Vehicle(i, int(z)) for i, z in enumerate(zones)]
        self.log = {"matches": 0, "reward": 0.0, "busy_vehicle_minutes": 0.0, "invalid": 0}
        self._arrive(self.now)

    @property
    def minute(self) -> int:
        return int(self.now)

    @property
    def done(self) -> bool:
        return self.now >= self.config.episode_minutes

    def _arrive(self, t: float) -> None:
        """Orders requested during the minute before t, seen at t (Poisson by the fitted rate and OD table)."""
        cfg, city = self.config, self.city
        rate = cfg.orders_per_hour / 60.0 * city.rate_factor(cfg.start_minute + t, cfg.start_minute)
        n = int(self.rng.poisson(rate))
        if n == 0:
            return
        cells = self.rng.choice(city.od_prob.size, size=n, p=city.od_prob.ravel())
        offsets = np.sort(self.rng.random(n))
        for cell, offset in zip(cells, offsets):
            o, d = divmod(int(cell), city.n_zones)
            order = Order(len(self.orders), o, d, t - 1.0 + float(offset), float(city.minutes[o, d]), float(city.km[o, d]))
            self.orders.append(order)
            self.pending.append(order.id)

    # -- candidates and insertion -------------------------------------------------------------
    def candidate_pairs(self) -> list[tuple[int, int]]:
        """(vehicle, order) pairs offered this step: per pending order, the K soonest vehicles with a free seat."""
        cfg = self.config
        if not self.pending:
            return []
        free = np.array([len(v.riders) < cfg.capacity for v in self.vehicles])
        vids = np.flatnonzero(free)
        if vids.size == 0:
            return []
        anchor = np.array([self.vehicles[v].anchor for v in vids])
        eta = np.array([self.vehicles[v].eta if self.vehicles[v].stops else 0.0 for v in vids])
        origins = np.array([self.orders[o].origin for o in self.pending])
        reach = eta[:, None] + self.city.minutes[anchor][:, origins]  # [free vehicles, pending]
        k = min(cfg.candidates_per_order, vids.size)
        nearest = np.argpartition(reach, k - 1, axis=0)[:k] if k < vids.size else np.tile(np.arange(vids.size)[:, None], (1, len(origins)))
        pairs = []
        for j, oid in enumerate(self.pending):
            rows = nearest[:, j]
            rows = rows[np.argsort(reach[rows, j], kind="stable")]
            pairs.extend((int(vids[r]), oid) for r in rows if reach[r, j] <= cfg.max_pickup_min)
        return pairs

    def arrivals(self, vehicle: Vehicle, stops: list[tuple[int, int, bool]]) -> list[float]:
        """Absolute arrival time at each stop of `stops` driven from the vehicle's current position."""
        times, t, here, tt = [], self.now, vehicle.zone, self._tt
        for k, (zone, _, _) in enumerate(stops):
            if k == 0 and vehicle.stops and stops[0] == vehicle.stops[0]:
                t += vehicle.eta
            else:
                t += tt[here][zone]
            times.append(t)
            here = zone
        return times

    def route_end(self, vehicle: Vehicle) -> float:
        """Absolute time the vehicle finishes its current stops (now if it has none)."""
        end = self._route_end.get(vehicle.id)
        if end is None:
            end = self._route_end[vehicle.id] = self.arrivals(vehicle, vehicle.stops)[-1] if vehicle.stops else self.now
        return end

    def cheapest_positions(self, vehicle: Vehicle, origin: int, dest: int) -> tuple[int, int]:
        """(i, j) minimising the route's extra minutes for stops[:i] + [pickup] + stops[i:j] + [drop] + stops[j:].

        Uses the change in leg times only, so each candidate position costs O(1); the stop being
        driven to stays first.
        """
        tt, zones = self._tt, [z for z, _, _ in vehicle.stops]
        n = len(zones)
        if n == 0:
            return 0, 0
        best, best_ij = float("inf"), (1, 1)
        for i in range(1, n + 1):
            before = zones[i - 1]
            if i < n:
                after = zones[i]
                detour_p = tt[before][origin] + tt[origin][after] - tt[before][after]
                together = tt[before][origin] + tt[origin][dest] + tt[dest][after] - tt[before][after]
            else:
                detour_p = together = tt[before][origin] + tt[origin][dest]
            if together < best:
                best, best_ij = together, (i, i)
            for j in range(i + 1, n + 1):
                drop = tt[zones[j - 1]][dest] + (tt[dest][zones[j]] - tt[zones[j - 1]][zones[j]] if j < n else 0.0)
                if detour_p + drop < best:
                    best, best_ij = detour_p + drop, (i, j)
        return best_ij

    def best_insertion(self, vid: int, oid: int) -> Insertion | None:
        """Cheapest (pickup, drop-off) positions for order oid in vehicle vid's route, or None if full."""
        vehicle, order, cfg = self.vehicles[vid], self.orders[oid], self.config
        if len(vehicle.riders) >= cfg.capacity or order.status != PENDING:
            return None
        old = vehicle.stops
        old_end = self.route_end(vehicle)
        i, j = self.cheapest_positions(vehicle, order.origin, order.dest)
        pickup, dropoff = (order.origin, oid, True), (order.dest, oid, False)
        stops = old[:i] + [pickup] + old[i:j] + [dropoff] + old[j:]
        times = self.arrivals(vehicle, stops)
        timeouts = sum(1 for (_, rid, is_pickup), t in zip(stops, times)
                       if is_pickup and t - self.orders[rid].created > cfg.max_wait_min)
        drop_t = times[j + 1]
        return Insertion(vid, oid, stops, times[i] - self.now, max(times[-1] - old_end, 0.0), timeouts,
                         order.trip_km, drop_t - times[i] - order.trip_min)

    # -- transitions ----------------------------------------------------------------------------
    def check_assignment(self, pairs: list[tuple[int, int]], allowed: set[tuple[int, int]]) -> str | None:
        """Why this set of matches cannot be applied, or None."""
        seen_v, seen_o = set(), set()
        for v, o in pairs:
            if not (0 <= v < len(self.vehicles)):
                return f"vehicle {v} does not exist"
            if not (0 <= o < len(self.orders)) or self.orders[o].status != PENDING:
                return f"order {o} is not pending"
            if (v, o) not in allowed:
                return f"vehicle {v} is not a candidate for order {o}"
            if v in seen_v:
                return f"vehicle {v} is given two orders in one step"
            if o in seen_o:
                return f"order {o} is given to two vehicles"
            seen_v.add(v)
            seen_o.add(o)
        return None

    def apply(self, insertions: list[Insertion]) -> list[float]:
        """Commit matches (already checked); returns each match's reward."""
        rewards = []
        for ins in insertions:
            vehicle, order = self.vehicles[ins.vehicle], self.orders[ins.order]
            if not vehicle.stops:
                vehicle.eta = float(self.city.minutes[vehicle.zone, ins.stops[0][0]])
            vehicle.stops = list(ins.stops)
            self._route_end.pop(vehicle.id, None)
            vehicle.riders.add(order.id)
            order.status, order.vehicle, order.assigned_at = ASSIGNED, vehicle.id, self.now
            order.expected_pickup = self.now + ins.pickup_min
            self.pending.remove(order.id)
            reward = match_reward(ins.trip_km, ins.pickup_min, ins.timeouts, ins.added_min)
            rewards.append(reward)
            self.log["matches"] += 1
            self.log["reward"] += reward
        return rewards

    def advance(self) -> None:
        """One minute: drive, serve stops, expire stale orders, draw new ones."""
        end = self.now + 1.0
        self._route_end.clear()
        for vehicle in self.vehicles:
            if not vehicle.stops:
                continue
            self.log["busy_vehicle_minutes"] += 1.0
            vehicle.eta -= 1.0
            while vehicle.stops and vehicle.eta <= 1e-9:
                zone, oid, is_pickup = vehicle.stops.pop(0)
                t = end + vehicle.eta
                order = self.orders[oid]
                if is_pickup:
                    order.status, order.pickup_at = ONBOARD, t
                else:
                    order.status, order.dropoff_at = SERVED, t
                    vehicle.riders.discard(oid)
                vehicle.zone = zone
                if vehicle.stops:
                    vehicle.eta += float(self.city.minutes[zone, vehicle.stops[0][0]])
            if not vehicle.stops:
                vehicle.eta = 0.0
        self.now = end
        still = []
        for oid in self.pending:
            order = self.orders[oid]
            if self.now - order.created >= self.config.patience_min:
                order.status = EXPIRED
            else:
                still.append(oid)
        self.pending = still
        if not self.done:
            self._arrive(self.now)

    # -- metrics ----------------------------------------------------------------------------------
    def metrics(self) -> dict[str, float]:
        """Episode figures. An order counts as served once a vehicle takes it (the paper's count);
        `completed` are those already dropped off when the episode ends."""
        by = {s: [o for o in self.orders if o.status == s] for s in (PENDING, ASSIGNED, ONBOARD, SERVED, EXPIRED)}
        matched = [o for o in self.orders if o.vehicle >= 0]
        picked = [o for o in matched if not np.isnan(o.pickup_at)]
        served = by[SERVED]
        n = len(self.orders)
        return {
            "orders": n, "served": len(matched), "completed": len(served), "expired": len(by[EXPIRED]),
            "pending": len(by[PENDING]), "in_service": len(by[ASSIGNED]) + len(by[ONBOARD]),
            "service_rate": len(matched) / n if n else 0.0,
            "mean_pickup_min": float(np.mean([o.expected_pickup - o.assigned_at for o in matched])) if matched else 0.0,
            "mean_wait_min": float(np.mean([o.pickup_at - o.created for o in picked])) if picked else 0.0,
            "mean_detour_min": float(np.mean([o.dropoff_at - o.pickup_at - o.trip_min for o in served])) if served else 0.0,
            "total_reward": float(self.log["reward"]),
            "utilisation": self.log["busy_vehicle_minutes"] / (len(self.vehicles) * max(self.now, 1.0)),
        }
