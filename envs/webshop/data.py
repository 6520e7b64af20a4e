"""WebShop's data files: where they are, and `download(target)` for `turnrl data download webshop`.

The env reads a directory holding `products.jsonl` (one product record per line, the fields
WebShop's `load_products` derives: Title, Description, BulletPoints, Price, pricing, options,
Attributes, ...), `items_ins_v2_1000.json` (synthetic instructions and goal attributes) and,
optionally, `human_goals_fixed100.json` and `human_instructions.json`.

WebShop publishes the raw 1,000-product file (`items_shuffle_1000.json`) and the instruction
files on Google Drive; `download` fetches them and converts the raw products to
`products.jsonl` with the same field derivation as WebShop's loader (`convert_raw_products`).
"""
from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from turnrl import datadir

PRODUCTS = "products.jsonl"
INSTRUCTIONS = "items_ins_v2_1000.json"
REQUIRED = (PRODUCTS, INSTRUCTIONS)

# WebShop's setup script names these Google Drive files for its "small" (1,000 products) setting.
GDRIVE_IDS = {
    "items_shuffle_1000.json": "1EgHdxQ_YxqIQlvvq5iKlCrkEKR6-j0Ib",
    "items_ins_v2_1000.json": "1IduG0xl544V_A_jv3tHXC0kyFi7PnyBu",
    "items_human_ins.json": "14Kb5SPBk_jfdLZ_CDBNitW98QLDlKR5O",
}
GDRIVE_URL = "https://drive.usercontent.google.com/download?id={id}&export=download&confirm=t"


def webshop_dir(override: str | Path | None = None) -> Path:
    """The data directory (argument, $WEBSHOP_DATA, $TURNRL_DATA/webshop, user cache), checked."""
    path = datadir.data_dir("webshop", override)
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if missing:
        raise FileNotFoundError(f"WebShop data dir {path} lacks {missing}; run `turnrl data download webshop`")
    return path


def _fetch(file_id: str, dest: Path) -> None:
    with urllib.request.urlopen(GDRIVE_URL.format(id=file_id), timeout=120) as r:
        body = r.read()
    if body.lstrip()[:1] not in (b"{", b"["):  # Drive answers HTML (quota, consent page) on failure
        raise OSError(f"Google Drive did not return JSON for {dest.name} (id {file_id})")
    dest.write_bytes(body)


def download(target: Path) -> None:
    """Fetch WebShop's small-setting files into `target` and write `products.jsonl` there."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    for name, file_id in GDRIVE_IDS.items():
        if not (target / name).is_file():
            _fetch(file_id, target / name)
    raw = read_json(target / "items_shuffle_1000.json")
    ins = read_json(target / INSTRUCTIONS)
    human = read_json(target / "items_human_ins.json")
    tmp = target / (PRODUCTS + ".tmp")
    with tmp.open("w") as f:
        for product in convert_raw_products(raw, ins, human):
            f.write(json.dumps(product) + "\n")
    tmp.replace(target / PRODUCTS)


def read_json(path: Path) -> Any:
    """A JSON data file; a broken one (truncated download, hand edit) is a ValueError naming the
    file, line and column instead of a bare `JSONDecodeError`."""
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}:{e.lineno}:{e.colno}: not valid JSON ({e.msg}); "
                         "fetch the file again (`turnrl data download webshop`)") from None


def _parse_pricing(pricing: Any) -> list[float]:
    """'$12.99' -> [12.99]; '$10.00$20.00' -> [10.0, 20.0]; missing -> [100.0] (WebShop's default)."""
    if isinstance(pricing, list):
        values = [float(p) for p in pricing]
    elif isinstance(pricing, str) and pricing:
        values = [float(v) for v in (re.sub(r"[^\d.]", "", p) for p in pricing.split("$")[1:]) if v]
    else:
        values = []
    return values[:2] or [100.0]


def _price_tag(pricing: list[float]) -> str:
    return f"${pricing[0]}" if len(pricing) == 1 else f"${pricing[0]} to ${pricing[1]}"


def _options(customization: Any) -> tuple[dict[str, list[str]], dict[str, Any]]:
    options: dict[str, list[str]] = {}
    images: dict[str, Any] = {}
    for name, contents in (customization or {}).items():
        if contents is None:
            continue
        values = []
        for content in contents:
            value = content["value"].strip().replace("/", " | ").lower()
            values.append(value)
            images[value] = content.get("image")
        options[name.lower()] = values
    return options, images


def convert_raw_products(raw: list[dict], instructions: dict[str, dict],
                         human: dict[str, list] | None = None) -> Iterable[dict]:
    """Raw scraped items -> product records with WebShop's derived fields (duplicates dropped)."""
    seen: set[str] = set()
    for item in raw:
        asin = item.get("asin", "nan")
        if asin == "nan" or len(asin) > 10 or asin in seen:
            continue
        seen.add(asin)
        bullets = item.get("small_description") or []
        pricing = _parse_pricing(item.get("pricing"))
        options, images = _options(item.get("customization_options"))
        product = dict(item)
        product.update(
            Title=item.get("name", ""), Description=item.get("full_description", "") or "",
            Reviews=[], Rating="N.A.", BulletPoints=[bullets] if isinstance(bullets, str) else list(bullets),
            pricing=pricing, Price=_price_tag(pricing), options=options, option_to_image=images,
            Attributes=instructions.get(asin, {}).get("attributes") or ["DUMMY_ATTR"],
            MainImage=(item.get("images") or [None])[0], query=item.get("query", "").lower().strip(),
        )
        product.pop("reviews", None)
        if human and asin in human:
            product["instructions"] = human[asin]
        yield product
