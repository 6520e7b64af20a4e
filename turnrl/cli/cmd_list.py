"""`turnrl list`: the registered environments, the extra each needs and whether its data is
present; `turnrl list --agents`: every agent kind and its extra."""
from __future__ import annotations

import argparse
import json
from typing import Any

HELP = "list the registered turnrl environments, the extra each needs and whether its data is present"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.add_argument("--agents", action="store_true", help="list the agent kinds (--agent KIND[:ARG]) instead")


def run(args: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    import turnrl  # noqa: F401
    from turnrl.cli.options import console
    from turnrl.envs import turnrl_env_ids

    if args.agents:
        return list_agents(args.json)
    rows = [env_row(env_id) for env_id in turnrl_env_ids()]
    if args.json:
        print(json.dumps(rows))
        return 0
    table = Table(title="turnrl environments")
    for column in ("id", "max steps", "extra", "data"):
        table.add_column(column)
    for row in rows:  # Text: "turnrl[x]" is not rich markup
        table.add_row(*(Text(cell) for cell in (row["id"], str(row["max_steps"] or ""), extra_text(row),
                                                 data_text(row))))
    console().print(table)  # wide when piped: every row stays on one line
    return 0


def env_row(env_id: str) -> dict[str, Any]:
    """What `env_id` needs, from its family's declaration: the extra (installed or not) and the
    dataset (its directory, or None when it is in none of the places looked in)."""
    import gymnasium as gym

    from turnrl import datadir
    from turnrl.envs.registration import family_of

    family = family_of(env_id)
    row: dict[str, Any] = {"id": env_id, "family": family.name if family else None,
                           "max_steps": gym.registry[env_id].max_episode_steps,
                           "extra": family.extra if family else None, "extra_installed": True,
                           "dataset": None, "data_path": None}
    if family is None:
        return row
    row["extra_installed"] = not family.missing_modules()
    if family.dataset is not None:
        row["dataset"] = family.dataset.name
        try:
            row["data_path"] = str(datadir.data_dir(family.dataset.name))
        except datadir.MissingData:
            pass
    return row


def extra_text(row: dict[str, Any]) -> str:
    from turnrl.envs.family import install_line

    if not row["extra"]:
        return ""
    return f"turnrl[{row['extra']}] installed" if row["extra_installed"] else install_line(row["extra"])


def data_text(row: dict[str, Any]) -> str:
    if row["dataset"] is None:
        return "no data needed"
    if row["data_path"] is None:
        return f"missing: turnrl data download {row['dataset']}"
    return f"present ({row['data_path']})"


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
