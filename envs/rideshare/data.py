"""The NYC taxi files the simulator is fitted on, and `download(target)` for `turnrl data download nyc_taxi`.

A data directory holds `raw_taxis.csv` (TLC trip records: pickup/drop-off times, trip_distance in
miles, PULocationID, DOLocationID) and `zone_centroids.csv` (LocationID, zone, borough, lon, lat).
`download` builds both from the public TLC sources: one month of yellow-taxi trip records
(parquet, subsampled) and the taxi-zone shapefile, whose polygon centroids it computes in the
shapefile's own planar projection and converts to WGS84 with pyproj.
"""
from __future__ import annotations

import io
import itertools
import struct
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

from turnrl import datadir

TRIPS = "raw_taxis.csv"
CENTROIDS = "zone_centroids.csv"
REQUIRED = (TRIPS, CENTROIDS)
TRIP_COLUMNS = ["tpep_pickup_datetime", "tpep_dropoff_datetime", "trip_distance", "PULocationID", "DOLocationID"]

TLC_TRIPS_URL = "https://d37ci6vzurychx.cloudfront.net/trip-data/yellow_tripdata_2019-03.parquet"
TLC_ZONES_URL = "https://d37ci6vzurychx.cloudfront.net/misc/taxi_zones.zip"
TLC_LOOKUP_URL = "https://d37ci6vzurychx.cloudfront.net/misc/taxi+_zone_lookup.csv"


def taxi_dir(override: str | Path | None = None) -> Path:
    """The data directory (argument, $NYC_TAXI_DATA, $TURNRL_DATA/nyc_taxi, user cache), checked."""
    path = datadir.data_dir("nyc_taxi", override)
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if missing:
        raise FileNotFoundError(f"NYC taxi data dir {path} lacks {missing}; run `turnrl data download nyc_taxi`")
    return path


def _fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=300) as response:
            return response.read()
    except OSError as e:  # URLError is an OSError: offline, DNS, HTTP errors
        raise OSError(f"could not fetch {url} ({e}); `turnrl data download nyc_taxi` needs internet access") from e


def shapefile_polygons(shp: bytes) -> list[list[np.ndarray]]:
    """The rings of every polygon record (shape types 5/15/25) of an ESRI .shp file, in file order."""
    if len(shp) < 100 or struct.unpack(">i", shp[:4])[0] != 9994:
        raise ValueError("not an ESRI shapefile (bad file code)")
    polygons, pos = [], 100
    while pos + 8 <= len(shp):
        _, words = struct.unpack(">2i", shp[pos:pos + 8])
        body = shp[pos + 8:pos + 8 + 2 * words]
        pos += 8 + 2 * words
        if struct.unpack("<i", body[:4])[0] not in (5, 15, 25):
            polygons.append([])
            continue
        n_parts, n_points = struct.unpack("<2i", body[36:44])
        parts = list(struct.unpack(f"<{n_parts}i", body[44:44 + 4 * n_parts])) + [n_points]
        points = np.frombuffer(body, "<f8", 2 * n_points, 44 + 4 * n_parts).reshape(-1, 2)
        polygons.append([points[a:b] for a, b in itertools.pairwise(parts)])
    return polygons


def polygon_centroid(rings: list[np.ndarray]) -> tuple[float, float]:
    """Area-weighted centroid over all rings; signed areas make holes subtract."""
    area = cx = cy = 0.0
    for ring in rings:
        x, y = ring[:, 0], ring[:, 1]
        x1, y1 = np.roll(x, -1), np.roll(y, -1)
        cross = x * y1 - x1 * y
        area += cross.sum() / 2
        cx += ((x + x1) * cross).sum() / 6
        cy += ((y + y1) * cross).sum() / 6
    return cx / area, cy / area


def _dbf_location_ids(dbf: bytes) -> list[int]:
    """The LocationID column of the zones' .dbf table."""
    n_records, header_len, record_len = struct.unpack("<IHH", dbf[4:12])
    fields, pos = [], 32
    while dbf[pos] != 0x0D:
        name = dbf[pos:pos + 11].split(b"\0")[0].decode()
        fields.append((name, dbf[pos + 16]))
        pos += 32
    offsets = np.cumsum([1] + [length for _, length in fields])
    col = [name for name, _ in fields].index("LocationID")
    start, end = offsets[col], offsets[col + 1]
    return [int(float(dbf[header_len + i * record_len + start:header_len + i * record_len + end]))
            for i in range(n_records)]


def _zone_centroids_csv(zones_zip: bytes, lookup_csv: bytes) -> str:
    import pandas as pd
    from pyproj import Transformer  # only the downloader needs it

    with zipfile.ZipFile(io.BytesIO(zones_zip)) as zf:
        names = {Path(n).suffix: n for n in zf.namelist()}
        shp, dbf = zf.read(names[".shp"]), zf.read(names[".dbf"])
    lookup = pd.read_csv(io.BytesIO(lookup_csv)).set_index("LocationID")
    to_wgs84 = Transformer.from_crs("EPSG:2263", "EPSG:4326", always_xy=True)
    rows = ["LocationID,zone,borough,lon,lat"]
    for location_id, rings in zip(_dbf_location_ids(dbf), shapefile_polygons(shp)):
        if not rings or location_id not in lookup.index:
            continue
        lon, lat = to_wgs84.transform(*polygon_centroid(rings))
        zone, borough = lookup.loc[location_id, "Zone"], lookup.loc[location_id, "Borough"]
        rows.append(f'{location_id},"{zone}",{borough},{lon:.6f},{lat:.6f}')
    return "\n".join(rows) + "\n"


def download(target: Path, n_trips: int = 200_000, seed: int = 0) -> None:
    """Fetch March 2019 yellow-taxi trips (subsampled to n_trips) and the zone centroids into target."""
    import pandas as pd

    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    if not (target / CENTROIDS).is_file():
        text = _zone_centroids_csv(_fetch(TLC_ZONES_URL), _fetch(TLC_LOOKUP_URL))
        (target / (CENTROIDS + ".tmp")).write_text(text)
        (target / (CENTROIDS + ".tmp")).replace(target / CENTROIDS)
    if not (target / TRIPS).is_file():
        trips = pd.read_parquet(io.BytesIO(_fetch(TLC_TRIPS_URL)), columns=TRIP_COLUMNS)  # needs pyarrow
        trips = trips.sample(n=min(n_trips, len(trips)), random_state=seed)
        trips.to_csv(target / (TRIPS + ".tmp"), index=False)
        (target / (TRIPS + ".tmp")).replace(target / TRIPS)
