"""The game cache: where it lives, damaged files, and two processes wanting one game."""
from __future__ import annotations

import shutil
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import gymnasium
import pytest

import turnrl.envs  # noqa: F401
from turnrl.envs.textworld import cache
from turnrl.envs.textworld.challenges import GameSpec


@pytest.fixture(scope="module")
def seed0_spec(tw_cache: Path) -> GameSpec:
    """The default env's game for seed 0 (the other test modules use it too, so it is cached once)."""
    env = gymnasium.make("turnrl/TextWorld-v0", cache_dir=tw_cache)
    env.reset(seed=0)
    spec = env.unwrapped.game_spec
    env.close()
    return spec


def copy_game(spec: GameSpec, src_root: Path, dst_root: Path) -> Path:
    src = cache.ensure_game(spec, src_root)
    dst = cache.game_path(spec, dst_root)
    dst.parent.mkdir(parents=True)
    for suffix in (".z8", ".json"):
        shutil.copy(src.with_suffix(suffix), dst.with_suffix(suffix))
    return dst


def test_cache_dir_order(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(cache.CACHE_ENV_VAR, raising=False)
    assert cache.cache_dir() == tmp_path / "xdg" / "turnrl" / "textworld"
    monkeypatch.setenv(cache.CACHE_ENV_VAR, str(tmp_path / "env"))
    assert cache.cache_dir() == tmp_path / "env"
    assert cache.cache_dir(tmp_path / "arg") == tmp_path / "arg"
    spec = GameSpec("tw-treasure_hunter", "easy", "train", 7)
    assert cache.game_path(spec, tmp_path).parts[-3:] == ("tw-treasure_hunter", "easy-train", "game-00007.z8")


@pytest.mark.parametrize("damage, problem", [
    (lambda p: p.write_bytes(p.read_bytes()[:5000]), "truncated"),
    (lambda p: p.write_bytes(p.read_bytes()[:-600] + b"\x01" * 600), "checksum"),
    (lambda p: p.write_bytes(b"not a story"), "not a Z-machine"),
    (lambda p: p.with_suffix(".json").write_text('{"broken'), "not valid JSON"),
    (lambda p: p.with_suffix(".json").unlink(), "not generated"),
])
def test_damaged_games_are_detected(seed0_spec, tw_cache, tmp_path, damage, problem):
    path = copy_game(seed0_spec, tw_cache, tmp_path)
    assert cache.game_problem(path) is None
    damage(path)
    assert problem in cache.game_problem(path)


def test_two_processes_regenerate_a_damaged_game_once(seed0_spec, tw_cache, tmp_path):
    # A story file cut short would abort the interpreter (and its process) on load.
    path = copy_game(seed0_spec, tw_cache, tmp_path)
    good = path.read_bytes()
    path.write_bytes(good[:5000])
    with ProcessPoolExecutor(2, mp_context=get_context("fork")) as pool:
        paths = list(pool.map(cache.ensure_game, [seed0_spec] * 2, [tmp_path] * 2))
    assert paths == [path, path] and path.read_bytes() == good  # generation is deterministic
    leftovers = sorted(p.name for p in path.parent.iterdir())
    assert leftovers == [path.with_suffix(s).name for s in (".json", ".lock", ".z8")]  # no temp folders
