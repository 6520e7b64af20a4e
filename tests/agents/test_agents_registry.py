"""Every agent kind is listed statically: importing the registry alone makes each one whose extra is installed."""
from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = r"""
import importlib, json, sys
import turnrl.agents.registry as registry
assert "turnrl.agents.opponents" not in sys.modules and "turnrl.trainers" not in sys.modules
made, resolved = {}, {}
for kind, factory in registry.AGENT_FACTORIES.items():
    module, _, name = factory.partition(":")
    try:
        resolved[kind] = callable(getattr(importlib.import_module(module), name))
    except ModuleNotFoundError as e:
        resolved[kind] = "missing " + str(e.name)
for spec in ["random", "expert", "minimax", "c4search:2", "hf:tiny", "openai:http://127.0.0.1:9/v1"]:
    made[spec] = type(registry.make_agent(spec, device="cpu")).__name__
print(json.dumps({"resolved": resolved, "made": made, "kinds": sorted(registry.AGENT_FACTORIES)}))
"""


def test_importing_the_registry_alone_makes_every_kind():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert {"minimax", "c4search", "stockfish", "checkpoint", "oreo", "hf", "openai", "vllm"} <= set(result["kinds"])
    for kind, ok in result["resolved"].items():
        assert ok is True or (kind == "vllm" and str(ok).startswith("missing")), (kind, ok)
    assert result["made"] == {"random": "RandomAgent", "expert": "ExpertAgent", "minimax": "MinimaxTicTacToe",
                              "c4search:2": "ConnectFourSearch", "hf:tiny": "HFPolicy",
                              "openai:http://127.0.0.1:9/v1": "OpenAIPolicy"}


def test_turnrl_list_agents_shows_every_kind_and_its_extra(capsys):
    from turnrl.agents.registry import AGENT_FACTORIES
    from turnrl.cli import main

    assert main(["list", "--agents", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["kind"] for r in rows] == list(AGENT_FACTORIES)
    assert {r["kind"]: r["extra"] for r in rows}["oreo"] == "torch"
