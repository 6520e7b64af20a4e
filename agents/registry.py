"""Agents by spec string, as the CLI and configs name them.

`random`, `expert`, or `<kind>:<argument>` (for example `hf:smollm2`, `openai:http://127.0.0.1:8000/v1`).
Every built-in kind is listed here as an import path ("module:function"), so naming an agent
imports its module (and torch) only when it is made, and every kind exists wherever this module
is imported, without importing anything else first. `register_agent` adds a user's own kind.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

from turnrl.agents.base import Agent

# spec kind -> "module:function"; the function takes (argument: str | None, **kwargs) -> Agent
AGENT_FACTORIES: dict[str, str] = {
    "random": "turnrl.agents.registry:_random",
    "expert": "turnrl.agents.registry:_expert",
    "hf": "turnrl.agents.hf:make_hf_agent",
    "openai": "turnrl.agents.openai_client:make_openai_agent",
    "vllm": "turnrl.agents.vllm:make_vllm_agent",
    # game opponents (agents/opponents.py)
    "minimax": "turnrl.agents.opponents:minimax_agent",
    "c4search": "turnrl.agents.opponents:c4search_agent",
    "stockfish": "turnrl.agents.opponents:stockfish_agent",
    "checkpoint": "turnrl.agents.opponents:checkpoint_agent",
    # value-guided selection of an exported OREO run (lazy: imports trainers only when made)
    "oreo": "turnrl.trainers.offline.value_search:make_oreo_agent",
}


# spec kind -> the extra that installs what its module imports
AGENT_EXTRAS: dict[str, str] = {"hf": "torch", "vllm": "vllm", "oreo": "torch", "checkpoint": "torch",
                                "stockfish": "games"}


def register_agent(kind: str, factory: str | Callable[..., Agent]) -> None:
    AGENT_FACTORIES[kind] = factory  # type: ignore[assignment]


def split_spec(spec: str) -> tuple[str, str | None]:
    """`kind:argument` -> (kind, argument or None): how every agent or model spec is read (eval, serve)."""
    kind, _, argument = spec.partition(":")
    return kind, argument or None


def make_agent(spec: str, **kwargs: Any) -> Agent:
    kind, argument = split_spec(spec)
    factory = AGENT_FACTORIES.get(kind)
    if factory is None:
        raise ValueError(f"unknown agent {spec!r}; known kinds: {sorted(AGENT_FACTORIES)}")
    if isinstance(factory, str):
        module, _, attr = factory.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as e:
            if e.name is None or e.name.split(".")[0] == "turnrl":
                raise
            extra = AGENT_EXTRAS.get(kind)
            hint = f": pip install 'turnrl[{extra}]'" if extra else ""
            raise ImportError(f"the {kind!r} agent needs {e.name!r}, which is not installed{hint}") from e
    return factory(argument, **kwargs)


def _random(argument: str | None, seed: int | None = 0, **_: Any) -> Agent:
    from turnrl.agents.scripted import RandomAgent

    return RandomAgent(seed=int(argument) if argument else seed)


def _expert(argument: str | None, **_: Any) -> Agent:
    from turnrl.agents.scripted import ExpertAgent

    return ExpertAgent()
