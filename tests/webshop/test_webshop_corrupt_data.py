"""Corrupt WebShop data files fail with the file and line (or entry) named, not a bare TypeError,
JSONDecodeError or a silent default."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from turnrl.envs.webshop.catalog import load_catalog
from turnrl.envs.webshop.data import INSTRUCTIONS, PRODUCTS
from turnrl.envs.webshop.goals import load_goals


def small_copy(webshop_data: Path, tmp_path: Path, n: int = 12) -> Path:
    """A data dir with the first `n` real products and the real instructions file."""
    out = tmp_path / "webshop"
    out.mkdir()
    with (webshop_data / PRODUCTS).open() as f:
        lines = [next(f) for _ in range(n)]
    (out / PRODUCTS).write_text("".join(lines))
    shutil.copy(webshop_data / INSTRUCTIONS, out / INSTRUCTIONS)
    return out


def corrupt_line(data_dir: Path, lineno: int, **fields) -> None:
    lines = (data_dir / PRODUCTS).read_text().splitlines(keepends=True)
    record = json.loads(lines[lineno - 1])
    record.update(fields)
    lines[lineno - 1] = json.dumps(record) + "\n"
    (data_dir / PRODUCTS).write_text("".join(lines))


@pytest.mark.parametrize("fields, named", [
    ({"pricing": []}, "field 'pricing' must be a list of one price"),
    ({"pricing": ["12.99"]}, "field 'pricing'"),
    ({"pricing": [float("nan")]}, "field 'pricing'"),
    ({"Attributes": "machine wash"}, "field 'Attributes' must be a list of strings"),
    ({"Title": 5}, "field 'Title' must be a string"),
    ({"options": {"size": "large"}}, "field 'options'"),
    ({"BulletPoints": [1, 2]}, "field 'BulletPoints'"),
])
def test_product_with_wrong_field_type_names_file_and_line(webshop_data, tmp_path, fields, named):
    data = small_copy(webshop_data, tmp_path)
    corrupt_line(data, 7, **fields)
    with pytest.raises(ValueError, match=rf"products\.jsonl:7: product '\w+': {named}"):
        load_catalog(data, tmp_path / "index")


def test_product_line_that_is_not_an_object_names_file_and_line(webshop_data, tmp_path):
    data = small_copy(webshop_data, tmp_path)
    with (data / PRODUCTS).open("a") as f:
        f.write('["not", "a", "product"]\n')
    with pytest.raises(ValueError, match=r"products\.jsonl:13: a product record must be a JSON object"):
        load_catalog(data, tmp_path / "index")


def test_truncated_instructions_file_names_file_line_and_column(webshop_data, tmp_path):
    data = small_copy(webshop_data, tmp_path)
    text = (data / INSTRUCTIONS).read_text()
    (data / INSTRUCTIONS).write_text(text[: len(text) // 2])
    catalog = load_catalog(data, tmp_path / "index")
    with pytest.raises(ValueError, match=rf"{INSTRUCTIONS}:1:\d+: not valid JSON") as err:
        load_goals(catalog, "synthetic")
    assert "JSONDecodeError" not in type(err.value).__name__


def test_instruction_entry_with_wrong_types_is_named(webshop_data, tmp_path):
    data = small_copy(webshop_data, tmp_path)
    ins = json.loads((data / INSTRUCTIONS).read_text())
    asin = next(iter(ins))
    ins[asin]["instruction_attributes"] = "machine wash"
    (data / INSTRUCTIONS).write_text(json.dumps(ins))
    with pytest.raises(ValueError, match=rf"entry '{asin}': 'instruction_attributes' must be a list of strings"):
        load_goals(load_catalog(data, tmp_path / "index"), "synthetic")
