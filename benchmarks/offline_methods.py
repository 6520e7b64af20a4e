"""Offline methods side by side on one dataset: behaviour cloning, trajectory DPO, OREO, OREO + value-guided K.

One dataset from a noisy expert (`expert:0.6,random:0.4` per step, each task run `--group-size`
times so tasks have won and failed episodes) on TextWorld Coin Collector games of the `train`
split; success measured greedily on held-out games of the `valid` split (disjoint generation
seeds), the same games for every method and seed, so methods compare paired. The untrained model
is measured once on those games (`base`). Each training seed re-initialises the trainable part
(critic head, optimiser state) and the batch order; the dataset is the same for all.

Policy and critic backbone: `--model` (tiny: the random-init 2-layer Llama; smollm2: the
pretrained 135M model, top `--train-layers` layers trained in bf16 autocast). Paper reference
(ALFWorld, MiniCPM-2B, unseen): OREO 79.1, DPO 69.4, rejection sampling 68.7; this is a much
smaller setting.

Statistics: per method the mean success over seeds with a 95% t-interval, the pooled rate with
a Wilson interval, and paired comparisons on pooled (seed, game) episodes: a paired-bootstrap
interval of the difference and the exact McNemar p-value.

    OMP_NUM_THREADS=1 python benchmarks/offline_methods.py --model smollm2 --seeds 3 --out runs/offline_smollm2.json

On 2 cores, seeds run faster as two processes (one thread each) whose results are merged:

    python benchmarks/offline_methods.py --seed-list 0,1 --out runs/offline_a.json &
    python benchmarks/offline_methods.py --seed-list 2 --out runs/offline_b.json; wait
    python benchmarks/offline_methods.py --merge runs/offline_a.json runs/offline_b.json
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--env", default="turnrl/TextWorld-Coin-v0")
    p.add_argument("--difficulty", type=int, default=2)
    p.add_argument("--train-games", type=int, default=200, help="train-split games the dataset draws from")
    p.add_argument("--agents", default="expert:0.6,random:0.4")
    p.add_argument("--tasks", type=int, default=16, help="dataset tasks")
    p.add_argument("--group-size", type=int, default=4, help="dataset episodes per task")
    p.add_argument("--max-steps", type=int, default=8)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--seed-list", default=None, help="comma-separated training seeds (overrides --seeds)")
    p.add_argument("--iterations", type=int, default=12)
    p.add_argument("--batch", type=int, default=4, help="trajectories (pairs) per optimiser step")
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--eval-games", type=int, default=32, help="held-out valid-split games")
    p.add_argument("--k", type=int, default=5, help="value-guided selection among K samples (OREO); 0: off")
    p.add_argument("--model", default="smollm2")
    p.add_argument("--train-layers", type=int, default=4, help="top k layers trained; 0: all")
    p.add_argument("--autocast", default="bf16", choices=["off", "bf16"])
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--methods", default="bc,dpo,oreo")
    p.add_argument("--out", default=None, help="JSON with every figure")
    p.add_argument("--merge", nargs="+", default=None, metavar="JSON",
                   help="report from earlier --out files of the same setting (seeds pooled), run nothing")
    p.add_argument("--plot", default=None, help="PNG of held-out success per method")
    return p.parse_args(argv)


def format_mean(values: list[float]) -> str:
    """`0.719 ± 0.432`: the mean over seeds with its 95% t half-width."""
    from turnrl.stats import t_interval

    mean, half = t_interval(values)
    return f"{mean:.3f}" if len(values) < 2 else f"{mean:.3f} ± {half:.3f}"


def report(wins: dict[str, list[list[bool]]], args: dict, minutes: float) -> dict[str, dict]:
    """Print the per-method table and the paired comparisons; return the comparisons."""
    from turnrl.stats import compare_paired, format_rate

    seeds = len(wins[next(n for n in wins if n != "base")]) if len(wins) > 1 else 0
    layers = f" (top {args['train_layers']} layers, {args['autocast']})" if args["train_layers"] else ""
    print(f"\nheld-out success on {args['eval_games']} valid-split games (greedy), {seeds} training seeds, "
          f"{args['iterations']} steps of {args['batch']} trajectories (pairs), lr {args['lr']}, "
          f"model {args['model']}{layers}; {minutes:.0f} min")
    print("| method | seeds | mean success (95% t) | pooled episodes (Wilson 95%) | per seed |")
    print("|---|---|---|---|---|")
    for name, per_seed in wins.items():
        rates = [sum(w) / len(w) for w in per_seed]
        pooled = [x for w in per_seed for x in w]
        print(f"| {name} | {len(per_seed)} | {format_mean(rates)} | {format_rate(pooled)} | "
              f"{' '.join(f'{r:.3f}' for r in rates)} |")
    print("\n| paired difference (pooled seed x game) | diff [95% bootstrap] | McNemar p |")
    print("|---|---|---|")
    comparisons = {}
    trained = [n for n in wins if n != "base"]
    pairs = [(m, "base") for m in trained] + list(itertools.combinations(trained, 2))
    for m1, m2 in pairs:
        x = [w for ws in wins[m1] for w in ws]
        y = [w for ws in (wins[m2] * len(wins[m1]) if m2 == "base" else wins[m2]) for w in ws]
        c = compare_paired(y, x)  # the change from m2 to m1
        comparisons[f"{m1} - {m2}"] = c
        print(f"| {m1} - {m2} | {c['change']:+.3f} [{c['change_low']:+.3f}, {c['change_high']:+.3f}] | "
              f"{c['mcnemar_p']:.3g} |")
    return comparisons


def plot(wins: dict[str, list[list[bool]]], path: str, title: str) -> None:
    """One bar per method: pooled success with its Wilson 95% interval, each seed's rate as a dot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from turnrl.stats import wilson_interval

    fig, ax = plt.subplots(figsize=(1.4 * len(wins) + 2, 3.6))
    for i, (name, per_seed) in enumerate(wins.items()):
        pooled = [x for w in per_seed for x in w]
        rate = sum(pooled) / len(pooled)
        lo, hi = wilson_interval(sum(pooled), len(pooled))
        ax.bar(i, rate, color="lightgray" if name == "base" else f"C{i}", yerr=[[rate - lo], [hi - rate]], capsize=4)
        ax.plot([i] * len(per_seed), [sum(w) / len(w) for w in per_seed], "k.", markersize=6)
    ax.set_xticks(range(len(wins)), list(wins), rotation=15)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("held-out success")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")


def title(args: dict, seeds: int) -> str:
    return (f"{args['model']}, {args['env']} level {args['difficulty']}: {args['eval_games']} held-out games, "
            f"{seeds} seeds\ngreedy (oreo+V: best V of K samples); bars: pooled, Wilson 95%; dots: seeds")


def merge(paths: list[str], plot_path: str | None = None) -> int:
    """Pool the seeds of several runs of one setting (the same dataset and held-out games) and report them."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    setting = ("env", "difficulty", "train_games", "agents", "tasks", "group_size", "max_steps", "iterations",
               "batch", "lr", "eval_games", "k", "model", "train_layers", "autocast")
    for run, path in zip(runs[1:], paths[1:]):
        differs = [key for key in setting if run["args"][key] != runs[0]["args"][key]]
        if differs:
            raise SystemExit(f"{path} differs from {paths[0]} in {', '.join(differs)}: not one setting")
    seeds = [s for run in runs for s in run.get("seeds", [])]
    if len(set(seeds)) != len(seeds):
        raise SystemExit(f"training seeds repeat across the files: {seeds}")
    wins: dict[str, list[list[bool]]] = {"base": runs[0]["wins"]["base"]}
    for run in runs:
        if run["wins"]["base"] != wins["base"]:
            raise SystemExit("the base model's held-out results differ between files: not the same games")
        for name, per_seed in run["wins"].items():
            if name != "base":
                wins.setdefault(name, []).extend(per_seed)
    print(f"merged {len(paths)} runs, training seeds {sorted(seeds)}")
    report(wins, runs[0]["args"], max(run["minutes"] for run in runs))
    if plot_path:
        plot(wins, plot_path, title(runs[0]["args"], len(seeds)))
    return 0


def main(argv: list[str] | None = None) -> int:
    import torch

    from turnrl.rollout import TaskSpec
    from turnrl.stats import format_rate
    from turnrl.trainers.offline.collection import collect_dataset, parse_mixture
    from turnrl.trainers.offline.config import OfflineConfig
    from turnrl.trainers.offline.trainer import OfflineTrainer

    a = parse_args(argv)
    if a.merge:
        return merge(a.merge, a.plot)
    seeds = [int(x) for x in a.seed_list.split(",")] if a.seed_list else list(range(a.seeds))
    torch.set_num_threads(a.threads)
    train_kwargs = {"difficulty": a.difficulty, "split": "train", "n_games": a.train_games, "expert": True}
    eval_kwargs = {"difficulty": a.difficulty, "split": "valid", "n_games": a.eval_games, "expert": False}
    eval_tasks = [TaskSpec(seed=i, options={"game": i}) for i in range(a.eval_games)]
    start = time.perf_counter()
    data = collect_dataset(a.env, parse_mixture(a.agents), a.tasks, group_size=a.group_size, max_steps=a.max_steps,
                           env_kwargs=train_kwargs)
    won = sum(t.won for t in data)
    print(f"dataset: {a.env} {train_kwargs}, {len(data)} episodes of {a.tasks} tasks x {a.group_size}, "
          f"{won} won ({won / len(data):.0%}), {sum(t.length for t in data)} steps, agents {a.agents} "
          f"[{time.perf_counter() - start:.0f}s]", flush=True)

    def config(method: str, seed: int, iterations: int) -> OfflineConfig:
        return OfflineConfig(env_id=a.env, env_kwargs=train_kwargs, eval_env_kwargs=eval_kwargs, method=method,
                             model=a.model, train_layers=a.train_layers or None, autocast=a.autocast, device="cpu",
                             prompt="compact", history_window=1, iterations=iterations, batch_trajectories=a.batch,
                             lr=a.lr, value_lr=a.lr, max_steps=a.max_steps, num_envs=8,
                             out_dir=f"runs/offline_bench/{method}-{seed}", plot=False, progress=False, seed=seed)

    wins: dict[str, list[list[bool]]] = {}  # method -> per seed, wins in eval-task order
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    base = OfflineTrainer(config("bc", 0, 0), data)
    wins["base"] = [[bool(t.won) for t in base.evaluate_episodes(eval_tasks)]]
    del base
    print(f"base {a.model}: {format_rate(wins['base'][0])} [{time.perf_counter() - t0:.0f}s]", flush=True)
    for seed in seeds:
        for method in a.methods.split(","):
            t0 = time.perf_counter()
            trainer = OfflineTrainer(config(method, seed, a.iterations), data)
            losses = [trainer.step() for _ in range(a.iterations)]
            runs = {method: trainer.evaluate_episodes(eval_tasks)}
            if method == "oreo" and a.k:
                runs[f"oreo+V K={a.k}"] = trainer.evaluate_episodes(eval_tasks, k=a.k)
            del trainer
            for name, result in runs.items():
                wins.setdefault(name, []).append([bool(t.won) for t in result])
            seconds[method] = seconds.get(method, 0.0) + time.perf_counter() - t0
            first, last = losses[0].get("loss", 0.0), losses[-1].get("loss", 0.0)
            print(f"seed {seed} {method}: loss {first:.3f} -> {last:.3f}; "
                  + ", ".join(f"{n} {format_rate(wins[n][-1])}" for n in runs)
                  + f" [{time.perf_counter() - t0:.0f}s]", flush=True)

    minutes = (time.perf_counter() - start) / 60
    comparisons = report(wins, vars(a), minutes)
    print("wall seconds per method (all seeds): " + ", ".join(f"{m} {s:.0f}" for m, s in seconds.items()))
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps({"args": vars(a), "seeds": seeds, "dataset_won": won,
                                           "dataset_episodes": len(data), "wins": wins, "comparisons": comparisons,
                                           "seconds": seconds, "minutes": minutes}, indent=1))
    if a.plot:
        plot(wins, a.plot, title(vars(a), len(seeds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
