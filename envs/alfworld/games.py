"""The ALFWorld game catalog: which games a split holds, by task type, without parsing them.

ALFWorld's data layout is `json_2.1.1/<split>/<task_type>-<obj>-<mrecep>-<recep>-<scene>/<trial>/`
holding `traj_data.json` and `game.tw-pddl`. ALFWorld's own `AlfredTWEnv.collect_game_files`
json-parses every file of a split to filter it (3,553 games, about 350 MB for train). Here the
same rule is applied from the folder names (ALFRED names each folder after its task type) and
the last bytes of each game file (`"solvable"` is the last key that ALFWorld's generator writes),
so listing a split costs one directory walk and one small read per game; a file whose tail does
not say is parsed in full. The catalog is cached per (data dir, split) and shared by every env
in the process.
"""
from __future__ import annotations

import functools
import json
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from turnrl import datadir

# ALFWorld's numbering (alfworld.agents.environment.alfred_tw_env.TASK_TYPES).
TASK_TYPES: dict[int, str] = {
    1: "pick_and_place_simple",
    2: "look_at_obj_in_light",
    3: "pick_clean_then_place_in_recep",
    4: "pick_heat_then_place_in_recep",
    5: "pick_cool_then_place_in_recep",
    6: "pick_two_obj_and_place",
}
# Short names as papers write them (GiGPO, ReAct): pick, look, clean, heat, cool, pick_two.
TASK_ALIASES: dict[str, str] = {
    "pick_and_place": TASK_TYPES[1], "pick": TASK_TYPES[1], "look": TASK_TYPES[2],
    "pick_clean_then_place": TASK_TYPES[3], "clean": TASK_TYPES[3],
    "pick_heat_then_place": TASK_TYPES[4], "heat": TASK_TYPES[4],
    "pick_cool_then_place": TASK_TYPES[5], "cool": TASK_TYPES[5],
    "pick_two": TASK_TYPES[6], "two": TASK_TYPES[6],
}
# turnrl split names -> ALFWorld's config names for them.
SPLITS: dict[str, str] = {
    "train": "train",
    "valid_seen": "eval_in_distribution",
    "valid_unseen": "eval_out_of_distribution",
}
JSON_DIR = "json_2.1.1"
GAME_FILE = "game.tw-pddl"
TRAJ_FILE = "traj_data.json"


@dataclass(frozen=True)
class Game:
    """One playable game: its file, split and task type; `game_id` is its path under the split."""

    path: Path
    split: str
    task_type: str

    @property
    def game_id(self) -> str:
        return f"{self.path.parent.parent.name}/{self.path.parent.name}"

    @property
    def traj_path(self) -> Path:
        return self.path.parent / TRAJ_FILE


def alfworld_dir(override: str | os.PathLike | None = None) -> Path:
    """The data directory (argument, $ALFWORLD_DATA, $TURNRL_DATA/alfworld, user cache), checked."""
    path = datadir.data_dir("alfworld", override)
    if not (path / JSON_DIR).is_dir():
        raise FileNotFoundError(f"ALFWorld data dir {path} has no {JSON_DIR}/ folder; "
                                "run `turnrl data download alfworld` or point $ALFWORLD_DATA at the data")
    return path


def parse_task_types(value: Any) -> tuple[str, ...]:
    """Task types from names, aliases, ALFWorld's numbers 1-6, a comma list or "all" (None = all)."""
    if value is None or value == "all" or value == []:
        return tuple(TASK_TYPES.values())
    if isinstance(value, str):
        items: Iterable[Any] = value.split(",")
    elif isinstance(value, int):
        items = [value]
    else:
        items = list(value)
    chosen: list[str] = []
    for item in items:
        key = str(item).strip()
        name = TASK_TYPES.get(int(key)) if key.isdigit() else TASK_ALIASES.get(key, key)
        if name not in TASK_TYPES.values():
            raise ValueError(f"unknown ALFWorld task type {item!r}; known: {sorted(TASK_TYPES.values())}, "
                             f"aliases {sorted(TASK_ALIASES)} or numbers 1-6")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def split_name(split: str) -> str:
    """turnrl's split name for `split` (ALFWorld's eval_in/out_of_distribution are accepted too)."""
    aliases = {v: k for k, v in SPLITS.items()}
    name = aliases.get(split, split)
    if name not in SPLITS:
        raise ValueError(f"unknown ALFWorld split {split!r}; known: {sorted(SPLITS)}")
    return name


def is_solvable(game_file: Path) -> bool:
    """ALFWorld's `"solvable"` flag of a game file, read from its tail when it is there.

    A file that is not JSON (truncated, corrupt) cannot be played: it is left out of its split,
    as ALFWorld leaves it out, but with a warning naming the file, line and column."""
    with game_file.open("rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 64))
        tail = f.read()
    if b'"solvable": true}' in tail:
        return True
    if b'"solvable": false}' in tail:
        return False
    try:
        data = json.loads(game_file.read_text())
    except json.JSONDecodeError as e:
        warnings.warn(f"{game_file}:{e.lineno}:{e.colno}: ALFWorld game is not valid JSON ({e.msg}); "
                      "left out of its split", stacklevel=2)
        return False
    except (OSError, UnicodeDecodeError) as e:
        warnings.warn(f"{game_file}: ALFWorld game cannot be read ({e}); left out of its split", stacklevel=2)
        return False
    if not isinstance(data, dict):
        warnings.warn(f"{game_file}:1:1: ALFWorld game is not a JSON object; left out of its split", stacklevel=2)
        return False
    return bool(data.get("solvable", False))


def task_type_of(folder_name: str) -> str:
    """The task type an ALFRED trial folder is named after (`pick_two_obj_and_place-Book-None-Bed-301`)."""
    return folder_name.split("-", 1)[0]


@functools.lru_cache(maxsize=16)
def _split_games(root: Path, split: str) -> tuple[Game, ...]:
    split_dir = root / JSON_DIR / split
    if not split_dir.is_dir():
        raise FileNotFoundError(f"ALFWorld split folder {split_dir} does not exist")
    games = []
    for task_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
        task_type = task_type_of(task_dir.name)
        # ALFWorld's own filter: no movable or sliced-object tasks, only the six task types.
        if "movable" in task_dir.name or "Sliced" in task_dir.name or task_type not in TASK_TYPES.values():
            continue
        for trial in sorted(p for p in task_dir.iterdir() if p.is_dir()):
            game_file = trial / GAME_FILE
            if (trial / TRAJ_FILE).is_file() and game_file.is_file() and is_solvable(game_file):
                games.append(Game(game_file, split, task_type))
    return tuple(games)


def list_games(split: str = "train", task_types: Any = None,
               data_dir: str | os.PathLike | None = None) -> list[Game]:
    """The playable games of a split, sorted by path, optionally of some task types only."""
    root = alfworld_dir(data_dir).resolve()
    wanted = set(parse_task_types(task_types))
    return [g for g in _split_games(root, split_name(split)) if g.task_type in wanted]


def find_game(game: str | int, split: str = "train", task_types: Any = None,
              data_dir: str | os.PathLike | None = None) -> Game:
    """A game by index in the (filtered) split, by `game_id` (`<task folder>/<trial>`), or by path."""
    games = list_games(split, task_types, data_dir)
    if isinstance(game, int) or (isinstance(game, str) and game.strip().isdigit()):
        index = int(game)
        if not 0 <= index < len(games):
            raise ValueError(f"game index {index} out of range: split {split!r} has {len(games)} games")
        return games[index]
    text = str(game).strip().rstrip("/")
    if text.endswith(GAME_FILE):
        text = text[: -len(GAME_FILE)].rstrip("/")
    for g in games:
        if g.game_id == text or str(g.path.parent) == text or text.endswith("/" + g.game_id):
            return g
    path = Path(text)
    if (path / GAME_FILE).is_file() and (path / TRAJ_FILE).is_file():  # a game outside the catalog
        return Game(path / GAME_FILE, split_name(split), task_type_of(path.parent.name))
    raise ValueError(f"no ALFWorld game {game!r} in split {split!r} (give an index, `<task folder>/<trial>` or a path)")


def list_tasks(options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Reset options for every game of a split, in catalog order, for whole-split evaluation.

    `options` are the env kwargs (`split`, `task_types`, `data_dir`); each returned dict can be
    passed as `reset(options=...)` and also names the game (`task_id`) and its `task_type`.
    """
    options = dict(options or {})
    split = split_name(options.get("split", "train"))
    games = list_games(split, options.get("task_types"), options.get("data_dir"))
    return [{"split": split, "game": g.game_id, "task_id": f"{split}/{g.game_id}", "task_type": g.task_type}
            for g in games]
