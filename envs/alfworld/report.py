"""Success per ALFWorld task type from a `turnrl eval ... --all-tasks --out results.json` file.

`turnrl eval` reports per task id (`<split>/<task folder>/<trial>`); ALFWorld results are read
per task type (the six columns of the ALFWorld and GiGPO tables), so this folds the per-task
metrics by the task type each folder is named after.

    python -m turnrl.envs.alfworld.report results.json [more.json ...]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from turnrl.envs.alfworld.games import TASK_TYPES, task_type_of


def task_type_of_id(task_id: str) -> str:
    """`valid_unseen/pick_two_obj_and_place-CD-None-Safe-308/trial_...` -> `pick_two_obj_and_place`."""
    parts = task_id.split("/")
    return task_type_of(parts[-2] if len(parts) >= 2 else parts[0])


def per_task_type(summary: dict[str, Any]) -> dict[str, dict[str, float]]:
    """{task type: {won, n, success_rate}} plus "all", from an eval summary's `per_task`."""
    table: dict[str, dict[str, float]] = {}
    for task_id, m in summary["per_task"].items():
        row = table.setdefault(task_type_of_id(task_id), {"won": 0.0, "n": 0})
        row["won"] += m["success_rate"] * m["n_episodes"]
        row["n"] += m["n_episodes"]
    order = [t for t in TASK_TYPES.values() if t in table] + sorted(set(table) - set(TASK_TYPES.values()))
    out = {t: table[t] for t in order}
    out["all"] = {"won": sum(r["won"] for r in table.values()), "n": sum(r["n"] for r in table.values())}
    for row in out.values():
        row["won"] = round(row["won"])
        row["success_rate"] = row["won"] / row["n"] if row["n"] else 0.0
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="ALFWorld success per task type from turnrl eval JSON files")
    parser.add_argument("results", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.results:
        summary = json.loads(path.read_text())
        config = summary.get("config", {})
        print(f"{path}: agent {config.get('agent')}, env args {config.get('env_kwargs')}, "
              f"max steps {config.get('max_steps')}")
        for task_type, row in per_task_type(summary).items():
            print(f"  {task_type:32s} {row['won']:4d}/{row['n']:<4d} {row['success_rate']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
