"""Per-iteration metrics: one JSONL line each (fsynced), TensorBoard scalars, PNG learning curves.

On resume the JSONL keeps only lines of iterations before the one being resumed, so an
iteration that was logged but not checkpointed before a crash is not counted twice.
"""
from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path
from typing import Any, Iterable

CURVES = (("success_rate", "eval_success_rate"), ("mean_return",), ("invalid_rate",), ("entropy",), ("kl",),
          ("clip_fraction",), ("grad_norm",))
HELD_OUT = "heldout_success"  # with _low/_high: a held-out success rate and its 95% interval (the demo's)


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """All complete JSONL records (a torn last line from a crash is skipped)."""
    path = Path(path)
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


class MetricsLogger:
    def __init__(self, out_dir: str | Path, tensorboard: bool = True, resume_from: int | None = None):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.out_dir / "metrics.jsonl"
        if resume_from is not None:
            kept = [r for r in read_metrics(self.path) if r.get("iteration", -1) < resume_from]
            self.path.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")
        else:  # a fresh run: no lines, and no TensorBoard run, of an earlier run in this folder
            self.path.unlink(missing_ok=True)
            shutil.rmtree(self.out_dir / "tensorboard", ignore_errors=True)
        self.writer = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(self.out_dir / "tensorboard"))
            except ImportError:  # tensorboard not installed: JSONL and PNG still work
                self.writer = None

    def log(self, iteration: int, values: dict[str, Any]) -> None:
        record = {"iteration": iteration, **{k: _plain(v) for k, v in values.items()}}
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
            os.fsync(f.fileno())
        if self.writer is not None:
            for k, v in record.items():
                if isinstance(v, (int, float)) and k != "iteration" and math.isfinite(v):
                    self.writer.add_scalar(k, v, iteration)
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):
        return v.item()
    return v


def plot_curves(records: Iterable[dict[str, Any]], path: str | Path, title: str = "turnrl training") -> Path:
    """One panel per metric family against iteration. Missing metrics are left out, and so are
    metrics constant over the run (e.g. invalid rate in scoring mode, KL without a reference);
    held-out success is drawn as points with their 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = list(records)
    held_out = [r for r in records if isinstance(r.get(HELD_OUT), (int, float))]
    panels = [keys for keys in CURVES if _varies(records, keys) or (keys[0] == "success_rate" and held_out)]
    n = len(panels)
    cols = min(3, max(n, 1))
    rows = max(1, math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax, keys in zip(axes.flat, panels):
        for k in keys:
            pts = [(r["iteration"], r[k]) for r in records if isinstance(r.get(k), (int, float))]
            if pts:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, marker="o" if k.startswith("eval_") else None, markersize=3, label=k)
        heading = ", ".join(keys)
        if keys[0] == "success_rate" and held_out:
            _held_out(ax, held_out)
            ax.set_ylim(-0.02, 1.04)
            heading = "success: training episodes, held-out (95% interval)"
        _style(ax, heading, legend=len(keys) > 1 or bool(held_out and keys[0] == "success_rate"))
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _varies(records: list[dict[str, Any]], keys: tuple[str, ...]) -> bool:
    values = {r[k] for r in records for k in keys if isinstance(r.get(k), (int, float))}
    return len(values) > 1


def _held_out(ax: Any, records: list[dict[str, Any]]) -> None:
    xs = [r["iteration"] for r in records]
    ys = [r[HELD_OUT] for r in records]
    low = [max(0.0, y - r.get(f"{HELD_OUT}_low", y)) for y, r in zip(ys, records)]
    high = [max(0.0, r.get(f"{HELD_OUT}_high", y) - y) for y, r in zip(ys, records)]
    ax.errorbar(xs, ys, yerr=[low, high], fmt="s", color="black", capsize=4, markersize=5, label="held-out")


def _style(ax: Any, title: str, legend: bool) -> None:
    ax.set_xlabel("iteration")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(fontsize=7)
