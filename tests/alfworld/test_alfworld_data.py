"""`turnrl data download alfworld` building blocks, without internet: failures must be clear."""
from __future__ import annotations

import filecmp
import importlib.util
import zipfile
from pathlib import Path

import pytest

from turnrl.envs.alfworld import data


def test_fetch_fails_with_a_clear_message_and_leaves_nothing(tmp_path: Path):
    dest = tmp_path / "json.zip"
    with pytest.raises(OSError, match="could not download .*ALFWORLD_DATA"):
        data.fetch("http://127.0.0.1:9/json_2.1.1_json.zip", dest, timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_extract_refuses_paths_outside_the_target(tmp_path: Path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("json_2.1.1/train/ok.txt", "fine")
        zf.writestr("../escaped.txt", "bad")
    with pytest.raises(OSError, match="outside the target"):
        data.extract(archive, tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists()


def test_logic_files_come_from_the_installed_package(tmp_path: Path):
    if importlib.util.find_spec("alfworld") is None:
        pytest.skip("alfworld is not installed (pip install turnrl[alfworld])")
    data.copy_logic_files(tmp_path)
    shipped = Path(__file__).resolve().parents[3] / "shared" / "data" / "alfworld" / "logic"
    for name in data.LOGIC_FILES:
        assert (tmp_path / "logic" / name).stat().st_size > 1000
        if (shipped / name).is_file():  # the shared copy is documented as identical to alfworld 0.4.2's
            assert filecmp.cmp(tmp_path / "logic" / name, shipped / name, shallow=False)
