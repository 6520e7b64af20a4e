"""GiGPO vs GRPO vs RLOO on a text maze where step-level credit matters, many seeds, real statistics.

Task: examples/credit_maze.py (turnrl/CreditMaze-v0): four moves from the hall to the garden,
dead ends beside every room of the way, rooms revisited after each detour (the anchor states
GiGPO groups on). Policy: the tiny random-init 2-layer Llama in scoring mode (exact softmax over
the admissible actions), trained by the regular `Trainer`; only the credit method differs.
GiGPO as the reference: gamma 0.95, omega 1, anchors by identical raw observation.

Per method: mean training success curve over seeds with a 95% t-band per iteration, final
success (mean of the last --final iterations per seed) with a 95% t-interval, area under the
success curve per seed (mean success over all iterations), and pairwise tests on the AUC
(Welch t-test and a two-sided exact/Monte-Carlo permutation test of the difference in means,
plus Mann-Whitney U). Curves go to a PNG, everything to results.json.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/credit_comparison.py --seeds 10 --iterations 8
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))  # the maze module, by "module:id"

from turnrl.stats import t_interval  # noqa: E402
from turnrl.trainers.config import TrainConfig  # noqa: E402
from turnrl.trainers.trainer import Trainer  # noqa: E402

ENV_ID = "credit_maze:turnrl/CreditMaze-v0"
METHODS = {"gigpo": {"gamma": 0.95, "omega": 1.0, "anchor": "obs"}, "grpo": {}, "rloo": {}}


def config_for(method: str, seed: int, args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(env_id=ENV_ID, num_envs=args.tasks * args.group, tasks_per_iter=args.tasks,
                       group_size=args.group, max_steps=args.max_steps, model=args.model, policy_mode="score",
                       train_layers=args.train_layers, autocast=args.autocast,
                       score=args.score, device="cpu", prompt="compact", history_window=0, credit=method,
                       credit_params=METHODS[method], lr=args.lr, dual_clip=None, iterations=args.iterations,
                       eval_every=0, save_every=0, tensorboard=False, plot=False, progress=False, seed=seed,
                       out_dir=str(Path(args.out) / f"{method}-seed{seed}"))


def run_one(config: TrainConfig) -> list[float]:
    """The training success rate of every iteration of one run."""
    trainer = Trainer(config)
    try:
        return [m["success_rate"] for m in trainer.train()]
    finally:
        trainer.close()


def permutation_p(a: np.ndarray, b: np.ndarray, rounds: int = 100_000, seed: int = 0) -> float:
    """Two-sided permutation test of mean(a) - mean(b), the labels shuffled."""
    res = stats.permutation_test((a, b), lambda x, y: np.mean(x) - np.mean(y), n_resamples=rounds,
                                 alternative="two-sided", random_state=seed)
    return float(res.pvalue)


def compare(aucs: dict[str, np.ndarray]) -> list[dict[str, float | str]]:
    rows = []
    for m1, m2 in itertools.combinations(aucs, 2):
        a, b = aucs[m1], aucs[m2]
        welch = stats.ttest_ind(a, b, equal_var=False)
        rows.append({"pair": f"{m1} - {m2}", "diff": float(a.mean() - b.mean()), "welch_t": float(welch.statistic),
                     "welch_p": float(welch.pvalue), "perm_p": permutation_p(a, b),
                     "mwu_p": float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)})
    return rows


def plot(curves: dict[str, np.ndarray], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for method, c in curves.items():
        mean, half = t_interval(c)
        x = np.arange(1, c.shape[1] + 1)
        ax.plot(x, mean, label=f"{method} (n={c.shape[0]})")
        ax.fill_between(x, np.clip(mean - half, 0, 1), np.clip(mean + half, 0, 1), alpha=0.2)
    ax.set(xlabel="iteration", ylabel="training success rate", title=title, ylim=(0, 1))
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report(curves: dict[str, np.ndarray], final: int) -> tuple[str, dict]:
    """The printed table and the figures behind it."""
    lines, summary = [], {}
    n_iter = next(iter(curves.values())).shape[1]
    lines.append("per-iteration success, mean [95% t-band] over seeds")
    lines.append(f"{'iter':>4} " + " ".join(f"{m:>20}" for m in curves))
    bands = {m: t_interval(c) for m, c in curves.items()}
    for it in range(n_iter):
        cells = [f"{bands[m][0][it]:.2f} [{bands[m][0][it] - bands[m][1][it]:.2f}, "
                 f"{bands[m][0][it] + bands[m][1][it]:.2f}]" for m in curves]
        lines.append(f"{it + 1:>4} " + " ".join(f"{x:>20}" for x in cells))
    lines.append("")
    lines.append(f"| method | seeds | first iteration | final success (last {final} it.) | AUC (mean success) |")
    lines.append("|---|---|---|---|---|")
    aucs = {}
    for m, c in curves.items():
        first_m, first_h = t_interval(c[:, :1])
        fin_m, fin_h = t_interval(c[:, -final:].mean(1, keepdims=True))
        aucs[m] = c.mean(1)
        auc_m, auc_h = t_interval(aucs[m][:, None])
        summary[m] = {"first": [float(first_m[0]), float(first_h[0])], "final": [float(fin_m[0]), float(fin_h[0])],
                      "auc": [float(auc_m[0]), float(auc_h[0])], "auc_per_seed": aucs[m].tolist()}
        lines.append(f"| {m} | {c.shape[0]} | {first_m[0]:.3f} ± {first_h[0]:.3f} | "
                     f"{fin_m[0]:.3f} ± {fin_h[0]:.3f} | "
                     f"{auc_m[0]:.3f} ± {auc_h[0]:.3f} |")
    lines.append("")
    lines.append("| AUC difference | mean diff | Welch t | Welch p | permutation p | Mann-Whitney p |")
    lines.append("|---|---|---|---|---|---|")
    tests = compare(aucs)
    for r in tests:
        lines.append(f"| {r['pair']} | {r['diff']:+.3f} | {r['welch_t']:+.2f} | {r['welch_p']:.3f} | "
                     f"{r['perm_p']:.3f} | {r['mwu_p']:.3f} |")
    summary["tests"] = tests
    return "\n".join(lines), summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--iterations", type=int, default=8)
    ap.add_argument("--tasks", type=int, default=1, help="groups per iteration (the maze is the same for all)")
    ap.add_argument("--group", type=int, default=8, help="episodes per group")
    ap.add_argument("--max-steps", type=int, default=10)
    ap.add_argument("--lr", type=float, default=2e-2)
    ap.add_argument("--model", default="tiny", help="tiny (random init) | smollm2 | a checkpoint dir")
    ap.add_argument("--train-layers", type=int, default=None, help="train only the top k layers (None: all)")
    ap.add_argument("--autocast", default="off", choices=["off", "bf16"])
    ap.add_argument("--score", default="sum", help="candidate score: sum | mean of its token log-likelihoods")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: no spinning on busy cores)")
    ap.add_argument("--final", type=int, default=3, help="iterations averaged for the final success")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--out", default="runs/credit_comparison")
    ap.add_argument("--report-only", action="store_true",
                    help="no training: the table and PNG from OUT/curves.json (the runs finished so far)")
    args = ap.parse_args()

    methods = args.methods.split(",")
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    partial = out / "curves.json"  # written after every run, so a cut run keeps what it measured
    start, cpu0 = time.perf_counter(), time.process_time()
    runs: dict[str, list[list[float]]] = {m: [] for m in methods}
    if args.report_only:
        saved = json.loads(partial.read_text())
        runs, start, cpu0 = saved["curves"], start - 60 * saved["minutes"], cpu0 - 60 * saved["cpu_minutes"]
        n = min(len(r) for r in runs.values())  # equal seed counts per method
        runs = {m: r[:n] for m, r in runs.items()}
        args = argparse.Namespace(**{**saved["args"], "report_only": True, "seeds": n})
    # seeds interleaved, so a run cut short has the methods at equal seed counts
    for seed in range(0 if args.report_only else args.seeds):
        for method in methods:
            t0 = time.perf_counter()
            runs[method].append(run_one(config_for(method, seed, args)))
            print(f"{method:>5} seed {seed:2d} ({time.perf_counter() - t0:5.0f} s): "
                  f"{' '.join(f'{x:.2f}' for x in runs[method][-1])}", flush=True)
            partial.write_text(json.dumps({"args": vars(args), "curves": runs, "cpu_minutes":
                                           (time.process_time() - cpu0) / 60,
                                           "minutes": (time.perf_counter() - start) / 60}))
    curves = {m: np.array(r) for m, r in runs.items()}
    minutes, cpu_minutes = (time.perf_counter() - start) / 60, (time.process_time() - cpu0) / 60
    episodes = args.tasks * args.group
    header = (f"CreditMaze (examples/credit_maze.py), max {args.max_steps} steps, {args.model} model"
              f"{'' if args.train_layers is None else f' (top {args.train_layers} layers trained)'}, score mode "
              f"({args.score}), "
              f"{args.iterations} iterations x {args.tasks} groups x {args.group} episodes ({episodes}/iteration), "
              f"lr {args.lr}, {args.seeds} seeds per method; {minutes:.1f} min wall, {cpu_minutes:.1f} min CPU, "
              f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    table, summary = report(curves, args.final)
    print("\n" + header + "\n\n" + table, flush=True)
    png = out / "credit_comparison.png"
    plot(curves, png, f"CreditMaze, {args.model} model: mean success, 95% t-band ({args.seeds} seeds)")
    (out / "results.json").write_text(json.dumps({"args": vars(args), "header": header, "summary": summary,
                                                  "curves": runs}, indent=1))
    print(f"\nplot: {png}  results: {out / 'results.json'}")


if __name__ == "__main__":
    main()
