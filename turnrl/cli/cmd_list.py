"""`turnrl list`: the registered environments."""
from __future__ import annotations

import argparse
import json

HELP = "list the registered turnrl environments"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print a JSON list")


def run(args: argparse.Namespace) -> int:
    import gymnasium as gym
    from rich.table import Table

    import turnrl  # noqa: F401
    from turnrl.cli.options import console
    from turnrl.envs import turnrl_env_ids

    ids = turnrl_env_ids()
    if args.json:
        print(json.dumps(ids))
        return 0
    table = Table(title="turnrl environments")
    table.add_column("id")
    table.add_column("entry point")
    table.add_column("max steps")
    for env_id in ids:
        spec = gym.registry[env_id]
        table.add_row(env_id, str(spec.entry_point), str(spec.max_episode_steps or ""))
    console().print(table)  # wide when piped: ids and entry points stay on one line
    return 0
