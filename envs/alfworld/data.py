"""`download(target)` for `turnrl data download alfworld`: ALFWorld's official text-game release.

It fetches what ALFWorld's own `alfworld-download` script fetches for the text env, from the same
release URLs, into the same layout (`$ALFWORLD_DATA`):
- `json_2.1.1_json.zip` (release 0.2.2): `json_2.1.1/<split>/.../traj_data.json`, the task params
  and human goal annotations the hand-coded expert and the env read;
- `json_2.1.2_tw-pddl.zip` (release 0.4.0): the `game.tw-pddl` files in the 2.1.2 format (the
  `move X to Y` command ALFWorld >= 0.4 and its expert use), extracted into the same folders;
- `logic/alfred.pddl` and `logic/alfred.twl2`, copied from the installed `alfworld` package as
  that script does.
It skips what only the visual THOR env needs (initial_state PDDL, the Mask R-CNN detector,
pre-trained agents). Files are downloaded to a temporary name first, so an interrupted
download never leaves a half-written archive that looks complete.
"""
from __future__ import annotations

import importlib.util
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from turnrl.envs.alfworld.games import JSON_DIR, SPLITS, list_games

RELEASE = "https://github.com/alfworld/alfworld/releases/download"
ARCHIVES = (
    f"{RELEASE}/0.2.2/json_2.1.1_json.zip",
    f"{RELEASE}/0.4.0/json_2.1.2_tw-pddl.zip",
)
LOGIC_FILES = ("alfred.pddl", "alfred.twl2")


def fetch(url: str, dest: Path, timeout: float = 60.0) -> Path:
    """Download `url` to `dest` (skipped when `dest` exists), via a temporary file."""
    if dest.is_file():
        return dest
    tmp = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, tmp.open("wb") as out:
            shutil.copyfileobj(response, out, length=1 << 20)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
        tmp.unlink(missing_ok=True)
        raise OSError(f"could not download {url} ({e}). This needs internet access to github.com; "
                      f"offline, copy an ALFWorld data folder and set $ALFWORLD_DATA to it") from e
    tmp.replace(dest)
    return dest


def extract(archive: Path, target: Path) -> None:
    """Unzip into `target`, refusing members that would land outside it."""
    root = target.resolve()
    with zipfile.ZipFile(archive) as zf:
        for member in zf.namelist():
            if not (root / member).resolve().is_relative_to(root):
                raise OSError(f"{archive.name} holds a path outside the target: {member!r}")
        zf.extractall(root)


def copy_logic_files(target: Path) -> None:
    """ALFWorld's PDDL domain and grammar, from the installed package's `data/` folder."""
    spec = importlib.util.find_spec("alfworld")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise OSError("the `alfworld` package is not installed; run `pip install turnrl[alfworld]` first")
    source = Path(next(iter(spec.submodule_search_locations))) / "data"
    (target / "logic").mkdir(parents=True, exist_ok=True)
    for name in LOGIC_FILES:
        shutil.copyfile(source / name, target / "logic" / name)


def download(target: Path) -> None:
    """Fetch and unpack ALFWorld's text-game data into `target`, then check every split lists games."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    copy_logic_files(target)
    with tempfile.TemporaryDirectory(dir=target) as tmp:
        for url in ARCHIVES:
            archive = fetch(url, Path(tmp) / url.rsplit("/", 1)[-1])
            extract(archive, target)
    empty = [split for split in SPLITS if not list_games(split, data_dir=target)]
    if empty or not (target / JSON_DIR).is_dir():
        raise OSError(f"download finished but {target} has no playable games for splits {empty}")
