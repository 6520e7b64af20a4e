"""The downloader's pieces: shapefile polygons, centroids with holes, the .dbf id column, offline failure."""
from __future__ import annotations

import struct

import numpy as np
import pytest

from turnrl.envs.rideshare import data


def _shp(polygons: list[list[list[tuple[float, float]]]]) -> bytes:
    """A minimal .shp (polygon type 5) holding the given rings."""
    records = b""
    for i, rings in enumerate(polygons, 1):
        points = [p for ring in rings for p in ring]
        parts = np.cumsum([0] + [len(r) for r in rings[:-1]]).tolist()
        body = struct.pack("<i4d2i", 5, 0, 0, 0, 0, len(rings), len(points))
        body += struct.pack(f"<{len(parts)}i", *parts) + b"".join(struct.pack("<2d", *p) for p in points)
        records += struct.pack(">2i", i, len(body) // 2) + body
    header = struct.pack(">7i", 9994, 0, 0, 0, 0, 0, (100 + len(records)) // 2) + struct.pack("<2i", 1000, 5)
    return header + b"\0" * (100 - len(header)) + records


def _dbf(ids: list[int]) -> bytes:
    fields = struct.pack("<11sc4xB15x", b"LocationID", b"N", 5)
    header_len, record_len = 32 + len(fields) + 1, 1 + 5
    head = struct.pack("<4BIHH20x", 3, 0, 1, 1, len(ids), header_len, record_len)
    return head + fields + b"\r" + b"".join(b" " + f"{i:5d}".encode() for i in ids) + b"\x1a"


def test_centroid_of_square_with_hole():
    outer = np.array([[0, 0], [0, 4], [4, 4], [4, 0], [0, 0]], float)  # clockwise, as shapefiles store outer rings
    hole = np.array([[2, 0], [4, 0], [4, 4], [2, 4], [2, 0]], float)  # counter-clockwise: the right half cut out
    assert data.polygon_centroid([outer]) == pytest.approx((2.0, 2.0))
    assert data.polygon_centroid([outer, hole]) == pytest.approx((1.0, 2.0))


def test_shapefile_and_dbf_round_trip():
    square = [(0.0, 0.0), (0.0, 2.0), (2.0, 2.0), (2.0, 0.0), (0.0, 0.0)]
    shifted = [(x + 10, y) for x, y in square]
    polygons = data.shapefile_polygons(_shp([[square], [shifted]]))
    assert [len(p) for p in polygons] == [1, 1]
    assert data.polygon_centroid(polygons[1]) == pytest.approx((11.0, 1.0))
    assert data._dbf_location_ids(_dbf([4, 263])) == [4, 263]
    with pytest.raises(ValueError, match="shapefile"):
        data.shapefile_polygons(b"not a shapefile" * 10)


def test_fetch_fails_clearly_offline():
    with pytest.raises(OSError, match="needs internet"):
        data._fetch("http://127.0.0.1:9/taxi_zones.zip")


def test_missing_data_dir_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("NYC_TAXI_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="turnrl data download nyc_taxi"):
        data.taxi_dir()
