"""Option parsing shared by the subcommands (not a subcommand: only `cmd_*` modules are)."""
from __future__ import annotations

import json
from typing import Any


def parse_key_values(pairs: list[str], flag: str = "--env-arg") -> dict[str, Any]:
    """["split=valid", "n_games=5"] -> {"split": "valid", "n_games": 5} (--env-arg, --agent-arg, --game-arg)."""
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
