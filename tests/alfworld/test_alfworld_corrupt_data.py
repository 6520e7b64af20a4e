"""A corrupt ALFWorld game is never dropped silently: the split listing warns with the file and
line, and resetting into one raises a ValueError naming them."""
from __future__ import annotations

import importlib.util
import shutil

import pytest

if importlib.util.find_spec("alfworld") is None:
    pytest.skip("alfworld is not installed (pip install turnrl[alfworld])", allow_module_level=True)

from turnrl.envs.alfworld import games

try:
    DATA = games.alfworld_dir()
except FileNotFoundError as e:  # pragma: no cover - depends on the machine
    pytest.skip(f"ALFWorld data not found, set $TURNRL_DATA or $ALFWORLD_DATA: {e}", allow_module_level=True)

MUG_DESK = "pick_and_place_simple-Mug-None-Desk-308/trial_T20190908_125200_737896"


@pytest.fixture
def data_dir(tmp_path):
    """A valid_unseen split of three copies of one real game: intact, truncated, corrupt in the middle."""
    source = DATA / games.JSON_DIR / "valid_unseen" / MUG_DESK
    split = tmp_path / games.JSON_DIR / "valid_unseen"
    for trial in ("trial_a_ok", "trial_b_truncated", "trial_c_middle"):
        shutil.copytree(source, split / MUG_DESK.split("/")[0] / trial)
    folder = split / MUG_DESK.split("/")[0]
    text = (folder / "trial_a_ok" / games.GAME_FILE).read_text()
    (folder / "trial_b_truncated" / games.GAME_FILE).write_text(text[: len(text) // 2])
    (folder / "trial_c_middle" / games.GAME_FILE).write_text("{," + text[1:])  # its tail still says solvable
    return tmp_path


def test_truncated_game_is_left_out_with_a_warning_naming_file_and_line(data_dir):
    with pytest.warns(UserWarning, match=r"trial_b_truncated/game\.tw-pddl:\d+:\d+: ALFWorld game is not valid JSON"):
        found = games.list_games("valid_unseen", data_dir=data_dir)
    assert [g.path.parent.name for g in found] == ["trial_a_ok", "trial_c_middle"]


def test_reset_into_a_corrupt_game_names_file_and_line(data_dir):
    from turnrl.envs.alfworld.env import ALFWorldEnv

    env = ALFWorldEnv(split="valid_unseen", data_dir=str(data_dir), expert="none")
    try:
        with pytest.warns(UserWarning, match="trial_b_truncated"):
            obs, _ = env.reset(seed=0, options={"game": 0})
        assert "Your task is to" in obs
        with pytest.raises(ValueError, match=r"trial_c_middle/game\.tw-pddl:1:2: ALFWorld game is not valid JSON"):
            env.reset(seed=0, options={"game": 1})
    finally:
        env.close()
