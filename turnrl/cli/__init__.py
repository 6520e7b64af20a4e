"""The `turnrl` command. Each subcommand is a module `turnrl/cli/cmd_<name>.py` with `HELP`,
`add_arguments(parser)` and `run(args) -> int`; modules import heavy libraries inside `run`,
so `turnrl --help` stays fast."""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys


def _commands() -> dict[str, object]:
    here = __path__  # type: ignore[name-defined]
    names = sorted(m.name for m in pkgutil.iter_modules(here) if m.name.startswith("cmd_"))
    return {n[4:]: importlib.import_module(f"{__name__}.{n}") for n in names}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="turnrl", description="RL for LLM agents in multi-turn text environments.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in _commands().items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    # transformers' per-load progress bars ("Loading weights") would interleave with our own output
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import turnrl.trainers.offline  # noqa: F401  (registers the agent kind oreo:<dir>; imports no torch)

    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # KEY=VALUE settings may follow options too (`turnrl train CFG --out X iterations=2`)
    if extra and isinstance(getattr(args, "overrides", None), list) and \
            all("=" in a and not a.startswith("-") for a in extra):
        args.overrides += extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    from turnrl.datadir import MissingData
    from turnrl.envs.family import MissingExtra

    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (MissingExtra, MissingData) as e:  # one line saying what to install or download, not a traceback
        print(f"turnrl {args.command}: {e}", file=sys.stderr)
        return 2
