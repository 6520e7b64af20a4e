"""Catalog, on-disk index, goals and the raw-data converter."""
from __future__ import annotations

import json
import math

import pytest

from turnrl.envs.webshop import catalog as catalog_module
from turnrl.envs.webshop.data import PRODUCTS, convert_raw_products, webshop_dir
from turnrl.envs.webshop.goals import NO_CEILING, load_goals, option_combination, price_ceiling


def test_search_finds_a_product_by_its_title(catalog):
    for row in (0, 250, 999):
        assert row in catalog.search(catalog.titles[row].lower())[:3]
    assert len(catalog.search("shirt")) == 50
    assert catalog.search("the and of") == ()  # stopwords only: no query left


def test_products_parse_lazily_from_the_mapped_file(catalog):
    p = catalog.product(17)
    assert p["asin"] == catalog.asins[17] and p["Title"] == catalog.titles[17]
    assert catalog.index_of(p["asin"].lower()) == 17
    assert catalog.index_of("NOT_AN_ASIN") is None


def test_prices_lie_in_the_listed_range(catalog):
    for row in range(len(catalog)):
        pricing = catalog.product(row)["pricing"]
        assert min(pricing[:2]) <= catalog.prices[row] <= max(pricing[:2])


def test_synthetic_goals_follow_webshop_rule(catalog):
    goals = load_goals(catalog, "synthetic")
    assert len(goals) == 6910
    assert len(goals.split_indices("test")) == 500 and len(goals.split_indices("train")) == 6410
    g = goals.goal(0)
    assert g.asin in catalog.asins and g.name == catalog.titles[catalog.index_of(g.asin)]
    assert g.price_upper > catalog.prices[catalog.index_of(g.asin)]
    assert g.instruction_text.endswith(f"and price lower than {g.price_upper:.2f} dollars")
    assert all(f"{k}: {v}" in g.instruction_text for k, v in g.goal_options.items())
    assert 0 < g.weight <= 1


def test_option_combinations_cover_every_product_of_values():
    options = {"size": ["s", "m"], "color": ["red", "blue", "green"]}
    combos = [option_combination(options, i) for i in range(math.prod(len(v) for v in options.values()))]
    assert len({tuple(c.items()) for c in combos}) == 6
    assert combos[0] == {"color": "red", "size": "s"} and list(combos[0]) == ["color", "size"]


def test_price_ceiling_rule():
    import numpy as np

    rng = np.random.default_rng(0)
    assert {price_ceiling(12.5, rng) for _ in range(50)} <= {30.0, 40.0, 50.0}
    assert price_ceiling(975.0, rng) == 990.0  # 980 and 990 are the only two steps above
    assert price_ceiling(985.0, rng) == NO_CEILING  # one step above: no ceiling


def test_index_builds_once_into_a_keyed_directory(webshop_data, tmp_path):
    lines = (webshop_data / PRODUCTS).read_bytes().splitlines(keepends=True)
    small = tmp_path / PRODUCTS  # 40 real products keep the build (spaCy tagging) short
    small.write_bytes(b"".join(lines[:40]))
    built = catalog_module.ensure_index(small, tmp_path / "idx")
    assert sorted(p.name for p in built.iterdir()) == ["bm25", "meta.json", "offsets.npy"]
    mtime = (built / "meta.json").stat().st_mtime_ns
    assert catalog_module.ensure_index(small, tmp_path / "idx") == built
    assert (built / "meta.json").stat().st_mtime_ns == mtime
    assert not [p for p in (tmp_path / "idx").iterdir() if p.name.startswith(".build-")]
    meta = json.loads((built / "meta.json").read_text())
    assert len(meta["asins"]) == len(meta["title_nouns"]) == 40 and all(meta["title_nouns"])
    small.write_bytes(b"".join(lines[:39]))  # another catalog file gets its own index
    assert catalog_module.ensure_index(small, tmp_path / "idx") != built


def test_corrupt_products_file_is_a_clear_error(tmp_path):
    bad = tmp_path / PRODUCTS
    bad.write_text('{"asin": "B0", "Title": "t", "Price": "$1"}\n{not json\n')
    with pytest.raises(ValueError, match=r"products.jsonl:2: not a JSON product record"):
        catalog_module.ensure_index(bad, tmp_path / "idx")
    bad.write_text('{"asin": "B0"}\n')
    with pytest.raises(ValueError, match="lacks"):
        catalog_module.ensure_index(bad, tmp_path / "idx")


def test_missing_data_dir_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("WEBSHOP_DATA", raising=False)
    monkeypatch.setenv("TURNRL_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match="turnrl data download webshop"):
        webshop_dir()
    (tmp_path / "webshop").mkdir()
    with pytest.raises(FileNotFoundError, match="lacks"):
        webshop_dir()


def test_convert_raw_products_derives_webshop_fields():
    raw = [
        {"asin": "B000000001", "name": "Red Mug", "full_description": "A mug.", "small_description": "Holds tea",
         "pricing": "$12.50", "customization_options": {"Color": [{"value": "Red/White ", "image": "x.jpg"}],
                                                         "Size": None},
         "images": ["m.jpg"], "query": " Mugs ", "category": "garden", "product_category": "Home › Kitchen"},
        {"asin": "B000000001", "name": "duplicate"},
        {"asin": "nan", "name": "no asin"},
        {"asin": "B000000002", "name": "Plate", "pricing": "$3.00$5.00", "customization_options": "",
         "images": [], "query": "plates", "small_description": []},
    ]
    ins = {"B000000001": {"attributes": ["dishwasher safe"]}}
    out = list(convert_raw_products(raw, ins, {"B000000002": [{"instruction": "a plate"}]}))
    assert [p["asin"] for p in out] == ["B000000001", "B000000002"]
    mug, plate = out
    assert mug["Title"] == "Red Mug" and mug["BulletPoints"] == ["Holds tea"] and mug["Price"] == "$12.5"
    assert mug["options"] == {"color": ["red | white"]} and mug["query"] == "mugs"
    assert mug["Attributes"] == ["dishwasher safe"] and mug["MainImage"] == "m.jpg"
    assert plate["pricing"] == [3.0, 5.0] and plate["Price"] == "$3.0 to $5.0"
    assert plate["Attributes"] == ["DUMMY_ATTR"] and plate["instructions"] == [{"instruction": "a plate"}]
    json.dumps(out)  # records stay JSON-able for products.jsonl
