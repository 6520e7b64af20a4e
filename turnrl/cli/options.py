"""Option parsing shared by the subcommands (not a subcommand: only `cmd_*` modules are)."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def parse_key_values(pairs: list[str], flag: str = "--env-arg") -> dict[str, Any]:
    """["split=valid", "n_games=5"] -> {"split": "valid", "n_games": 5} (--env-arg, --agent-arg)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"{flag} expects KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


class _Renamed(argparse.Action):
    """An old flag: using it stops with an error that names the new spelling."""

    def __init__(self, option_strings: list[str], dest: str, new: str = "", **kwargs: Any):
        super().__init__(option_strings, dest, nargs="*", help=argparse.SUPPRESS, **kwargs)
        self.new = new

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option_string: str | None = None):
        parser.error(f"{option_string} was renamed: use {self.new}")


def renamed(p: argparse.ArgumentParser, old: str, new: str) -> None:
    """Declares that `old` is now spelled `new` (hidden from --help)."""
    p.add_argument(old, action=_Renamed, new=new, dest=f"_renamed_{old.lstrip('-').replace('-', '_')}",
                   default=argparse.SUPPRESS)


def add_timeout_arguments(p: argparse.ArgumentParser) -> None:
    """--step-timeout and --reset-timeout, defaulting to the env family's limits."""
    p.add_argument("--step-timeout", type=float, default=None, metavar="SECONDS",
                   help="an env step taking longer ends its episode (subprocess and ray pools; default: the env "
                        "family's limit, 60 s unless the env declares another; 0: no limit)")
    p.add_argument("--reset-timeout", type=float, default=None, metavar="SECONDS",
                   help="a reset taking longer ends that episode unplayed, and the run goes on (subprocess and ray "
                        "pools; default: the env family's limit, 300 s unless the env declares another; 0: no limit)")


def pool_timeouts(env_id: str, backend: str, step: float | None, reset: float | None) -> tuple[float | None, float | None]:
    """(step, reset) seconds for `make_pool`: the env family's limits where not given (none for the
    in-process pool, which cannot interrupt an env), None for 0."""
    if backend == "inprocess":
        return step or None, reset or None  # a limit given explicitly makes the pool explain it cannot
    from turnrl.envs.pool import default_timeouts

    default_step, default_reset = default_timeouts(env_id)
    return (default_step if step is None else step or None, default_reset if reset is None else reset or None)


def console(stream: Any = None) -> Any:
    """A rich Console; when the output is not a terminal (piped, redirected) it is given a wide line
    instead of the default 80 columns, so tables keep their natural width instead of folding
    every cell character by character."""
    from rich.console import Console

    stream = stream or sys.stdout
    return Console(file=stream, width=None if stream.isatty() else 200, highlight=False)


def status(text: str) -> Any:
    """A spinner on stderr while slow set-up runs (a model loading), so a terminal never sits
    silent; it leaves no line behind, and shows nothing when stderr is not a terminal."""
    from rich.console import Console

    return Console(stderr=True).status(text)


def trajectory_log(path: Any, resume: bool) -> tuple[list[Any], Any]:
    """For a run that writes episodes to `path` as they finish: the episodes an interrupted run
    left there (with `resume`; otherwise the file starts over), and the log to append to. Also
    removes temporary files that killed writers left beside it."""
    from pathlib import Path

    from turnrl.io import TrajectoryLog, load_trajectories, remove_stale

    path = Path(path)
    remove_stale(path.parent)
    finished = load_trajectories(path, skip_torn_tail=True) if resume and path.exists() else []
    if not resume:
        path.unlink(missing_ok=True)
    return finished, TrajectoryLog(path)


def config_from_args(config_cls: Any, args: argparse.Namespace) -> Any:
    """A YAML config class (`TrainConfig`, `DispatchTrainConfig`) from `CONFIG [key=value ...] [--out DIR]`."""
    from turnrl.trainers.config import parse_override

    overrides = dict(parse_override(o) for o in args.overrides)
    if args.out:
        overrides["out_dir"] = args.out
    return config_cls.from_yaml(args.config, overrides)
