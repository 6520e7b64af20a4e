"""The bring-your-own-env example runs as a user would run it, through a subprocess pool."""
from __future__ import annotations

from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_custom_env_example_registers_checks_evaluates_and_assigns_credit(monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(EXAMPLES))  # as `python examples/custom_env.py` puts its folder first
    import custom_env

    results = custom_env.main(["--pool", "subprocess:2", "--tasks", "4", "--group-size", "3"])
    assert results["expert"] == 1.0 and results["random"] < 1.0
    assert results["grpo"].shape == results["gigpo"].shape and not np.allclose(results["grpo"], results["gigpo"])
    assert "expert: success 1.00" in capsys.readouterr().out
