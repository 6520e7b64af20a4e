"""What an env needs, said in one line (issue 19 item 8): `turnrl list` shows each env's extra and
whether its data is present; a missing extra is always the pip-install line, wherever the env is
made; missing data is one line, not a traceback.

Missing pieces are real: an empty data folder, and a module made unimportable (`sys.modules[name] =
None`, what Python does for a module that is not there) in a fresh interpreter.
"""
from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from turnrl.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def no_data(tmp_path, monkeypatch):
    """No dataset anywhere: an empty $TURNRL_DATA, an empty user cache, no per-dataset variables."""
    for var in ("ALFWORLD_DATA", "WEBSHOP_DATA", "NYC_TAXI_DATA"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("TURNRL_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "data"


def _row(out: str, env_id: str) -> str:
    rows = [line for line in out.splitlines() if env_id in line]
    assert len(rows) == 1, out
    return rows[0]


def test_list_says_in_one_line_that_alfworld_data_is_missing(no_data, capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "missing: turnrl data download alfworld" in _row(out, "turnrl/ALFWorld-v0")
    assert "missing: turnrl data download webshop" in _row(out, "turnrl/WebShop-v0")
    assert "turnrl[alfworld] installed" in _row(out, "turnrl/ALFWorld-v0")
    assert "no data needed" in _row(out, "turnrl/TextWorld-v0") and "turnrl[textworld]" in _row(out, "turnrl/TextWorld-v0")


def test_list_shows_where_present_data_is(no_data, capsys):
    (no_data / "alfworld").mkdir()
    assert main(["list", "--json"]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["turnrl/ALFWorld-v0"]["data_path"] == str(no_data / "alfworld")
    assert rows["turnrl/WebShop-v0"]["data_path"] is None and rows["turnrl/WebShop-v0"]["dataset"] == "webshop"
    assert rows["turnrl/Chess-v0"]["extra"] == "games" and rows["turnrl/Chess-v0"]["dataset"] is None


def test_missing_alfworld_data_is_one_line_in_eval(no_data, capsys):
    assert main(["eval", "turnrl/ALFWorld-v0", "--episodes", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "turnrl data download alfworld" in err, err


@pytest.mark.skipif(importlib.util.find_spec("alfworld") is None, reason="needs the alfworld extra")
def test_missing_alfworld_data_is_one_line_in_play(no_data, monkeypatch, capsys):
    # (not importorskip: importing alfworld itself sets $ALFWORLD_DATA to its own cache folder)
    monkeypatch.setattr("sys.stdin", io.StringIO(":quit\n"))
    assert main(["play", "turnrl/ALFWorld-v0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "turnrl data download alfworld" in err, err


def _without(module: str, code: str) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter where `module` cannot be imported."""
    script = f"import sys\nsys.modules[{module!r}] = None\n{code}"
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600)


# env id -> (a module its extra installs, that extra's name in pyproject.toml)
MISSING = {"turnrl/ScienceWorld-v0": ("py4j", "scienceworld"), "turnrl/WebShop-v0": ("rapidfuzz", "webshop"),
           "turnrl/TicTacToe-v0": ("pettingzoo", "games")}


@pytest.mark.parametrize("env_id", list(MISSING))
def test_a_missing_extra_is_the_pip_install_line_in_list_make_and_eval(env_id):
    module, extra = MISSING[env_id]
    line = f"pip install 'turnrl[{extra}]'"
    listed = _without(module, "from turnrl.cli import main\nmain(['list'])")
    assert listed.returncode == 0, listed.stderr
    assert line in _row(listed.stdout, env_id)
    made = _without(module, f"import gymnasium as gym, turnrl\ngym.make({env_id!r})")
    assert made.returncode == 1 and made.stderr.strip().splitlines()[-1] == (
        f"turnrl.envs.family.MissingExtra: the {MISSING[env_id][1]} envs need {module!r}, which is not installed: "
        f"{line}"), made.stderr
    assert "No module named" not in made.stderr
    evaluated = _without(module, f"import sys\nfrom turnrl.cli import main\n"
                                 f"sys.exit(main(['eval', {env_id!r}, '--episodes', '1', '--no-progress']))")
    assert evaluated.returncode == 2
    assert evaluated.stderr.strip().splitlines() == [
        f"turnrl eval: the {extra} envs need {module!r}, which is not installed: {line}"], evaluated.stderr
