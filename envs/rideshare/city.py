"""Manhattan as the simulator sees it: zones, travel times, trip distances and demand, fitted
from real TLC trips.

Travel time and distance between zones come from the observed trips of each zone pair, shrunk
towards a fallback fitted on all trips (road km = detour factor x great-circle km between
centroids; minutes = road km x median minutes per km), so sparse pairs stay sane and unseen
pairs still get a value. Demand is the empirical origin-destination table (smoothed by its
marginals) with the hourly profile of pickups.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from turnrl.envs.rideshare.data import CENTROIDS, TRIPS, taxi_dir

MILE_KM = 1.609344
EARTH_KM = 6371.0


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(lon2 - lon1)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass(frozen=True)
class City:
    """Zone-level model. Index i refers to zone `location_ids[i]`; matrices are [zones, zones]."""

    location_ids: np.ndarray
    names: list[str]
    lat: np.ndarray
    lon: np.ndarray
    minutes: np.ndarray  # travel time (a trip inside one zone has its own, positive, time)
    km: np.ndarray  # road distance
    od_prob: np.ndarray  # P(origin, destination), sums to 1
    hourly: np.ndarray  # [24] share of pickups per hour, sums to 1
    n_trips: int  # trips the model was fitted on

    @property
    def n_zones(self) -> int:
        return len(self.location_ids)

    def rate_factor(self, minute_of_day: float, start_minute: float) -> float:
        """Demand at `minute_of_day` relative to demand at the episode start (hourly profile)."""
        hour, start = int(minute_of_day // 60) % 24, int(start_minute // 60) % 24
        return float(self.hourly[hour] / max(self.hourly[start], 1e-12))


def _shrunk(observed_sum: np.ndarray, counts: np.ndarray, fallback: np.ndarray, prior: float) -> np.ndarray:
    """Per-pair mean of the observations, pulled towards the fallback with `prior` pseudo-trips."""
    return (observed_sum + prior * fallback) / (counts + prior)


def fit_city(trips, centroids, borough: str = "Manhattan", prior: float = 3.0) -> City:
    """Fit a City from trip records (pandas DataFrame in TLC columns) and zone centroids."""
    zones = centroids[centroids["borough"] == borough].sort_values("LocationID").reset_index(drop=True)
    index = {int(z): i for i, z in enumerate(zones["LocationID"])}
    n = len(zones)
    t = trips[trips["PULocationID"].isin(index) & trips["DOLocationID"].isin(index)].copy()
    import pandas as pd

    start = pd.to_datetime(t["tpep_pickup_datetime"], errors="coerce")
    minutes = (pd.to_datetime(t["tpep_dropoff_datetime"], errors="coerce") - start).dt.total_seconds() / 60
    km = pd.to_numeric(t["trip_distance"], errors="coerce") * MILE_KM
    speed = km / minutes * 60  # km/h; drops meters left running and GPS glitches
    ok = start.notna() & minutes.between(1, 120) & km.between(0.05, 60) & speed.between(2, 70)
    t, minutes, km, start = t[ok], minutes[ok].to_numpy(), km[ok].to_numpy(), start[ok]
    if len(t) < 50:
        raise ValueError(f"only {len(t)} usable {borough} trips; the city model needs at least 50")
    o = t["PULocationID"].map(index).to_numpy()
    d = t["DOLocationID"].map(index).to_numpy()
    lat, lon = zones["lat"].to_numpy(float), zones["lon"].to_numpy(float)
    crow = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])

    apart = crow[o, d] > 0.3
    detour = float(np.median(km[apart] / crow[o, d][apart]))
    min_per_km = float(np.median(minutes / km))
    same = o == d
    intra_km = float(np.median(km[same])) if same.sum() >= 5 else 1.0
    fallback_km = np.maximum(detour * crow, intra_km * np.eye(n) + crow * detour)
    fallback_min = np.maximum(fallback_km * min_per_km, 1.0)

    counts = np.zeros((n, n))
    np.add.at(counts, (o, d), 1.0)
    sum_min, sum_km = np.zeros((n, n)), np.zeros((n, n))
    np.add.at(sum_min, (o, d), minutes)
    np.add.at(sum_km, (o, d), km)
    travel = np.maximum(_shrunk(sum_min, counts, fallback_min, prior), 1.0)
    road = _shrunk(sum_km, counts, fallback_km, prior)

    smooth = np.outer(counts.sum(1), counts.sum(0)) / counts.sum()
    od = counts + 0.5 * smooth / max(smooth.sum(), 1e-12) * counts.sum() * 0.1
    hourly = np.bincount(start.dt.hour.to_numpy(), minlength=24).astype(float) + 1.0
    return City(location_ids=zones["LocationID"].to_numpy(int), names=list(zones["zone"]), lat=lat, lon=lon,
                minutes=travel, km=road, od_prob=od / od.sum(), hourly=hourly / hourly.sum(), n_trips=len(t))


@lru_cache(maxsize=4)
def _load_city(path: str) -> City:
    import pandas as pd

    root = Path(path)
    trips = pd.read_csv(root / TRIPS, usecols=lambda c: c in {
        "tpep_pickup_datetime", "tpep_dropoff_datetime", "trip_distance", "PULocationID", "DOLocationID"})
    return fit_city(trips, pd.read_csv(root / CENTROIDS))


def load_city(data_dir: str | Path | None = None) -> City:
    """The City fitted from the nyc_taxi data directory (fitted once per process and path)."""
    return _load_city(str(taxi_dir(data_dir).resolve()))
