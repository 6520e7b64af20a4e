"""`turnrl list`: the registered environments; `turnrl list --agents`: every agent kind and its extra."""
from __future__ import annotations

import argparse
import json

HELP = "list the registered turnrl environments"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.add_argument("--agents", action="store_true", help="list the agent kinds (--agent KIND[:ARG]) instead")


def run(args: argparse.Namespace) -> int:
    import gymnasium as gym
    from rich.table import Table

    import turnrl  # noqa: F401
    from turnrl.cli.options import console
    from turnrl.envs import turnrl_env_ids

    if args.agents:
        return list_agents(args.json)
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


def list_agents(as_json: bool) -> int:
    """Every agent kind from the registry, where it lives, and the extra it needs."""
    from rich.table import Table

    from turnrl.agents.registry import AGENT_EXTRAS, AGENT_FACTORIES
    from turnrl.cli.options import console

    rows = [{"kind": kind, "factory": factory if isinstance(factory, str) else repr(factory),
             "extra": AGENT_EXTRAS.get(kind, "")} for kind, factory in AGENT_FACTORIES.items()]
    if as_json:
        print(json.dumps(rows))
        return 0
    table = Table(title="turnrl agent kinds (--agent KIND or KIND:ARGUMENT)")
    for column in ("kind", "factory", "extra"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["kind"], row["factory"], f"turnrl[{row['extra']}]" if row["extra"] else "")
    console().print(table)
    return 0
