"""Tokens per second of batched generation across N envs vs generating for each env one at a time.

Same model, same prompts (TextWorld-style, different history lengths, so left padding is real),
greedy decoding with no stop string so both modes generate the same tokens; measured side by
side in one run. Target: batched >= 4x sequential on 2 CPU cores with the tiny model.

    python benchmarks/generation_throughput.py                 # tiny model and SmolLM2-135M
    python benchmarks/generation_throughput.py --models tiny   # fast
"""
from __future__ import annotations

import argparse
import time

import torch

from turnrl.agents.generation import SamplingParams
from turnrl.agents.hf import HFPolicy
from turnrl.agents.models import resolve_model
from turnrl.agents.prompts import fit_prompt_ids
from turnrl.types import AgentInput


def make_inputs(n: int) -> list[AgentInput]:
    rooms = ["kitchen", "cellar", "attic", "garden", "hallway", "study", "pantry", "bedroom"]
    return [AgentInput(observation=f"-= {rooms[i % 8].title()} =- You are in the {rooms[i % 8]}. There is a "
                                   f"locked chest here and an exit to the {['north', 'east'][i % 2]}.",
                       task="Find the key, unlock the chest and take the gold coin.",
                       history=[(f"You are in the {rooms[(i + k) % 8]}.", "go north") for k in range(i % 4)],
                       admissible_actions=["go north", "go east", "open chest", "take key", "look"],
                       step=i % 4, env_id="turnrl/TextWorld-v0") for i in range(n)]


def timed(policy: HFPolicy, prompts: list[list[int]], batched: bool) -> tuple[float, int, list[list[int]]]:
    start = time.perf_counter()
    gens = policy.generate(prompts) if batched else [g for p in prompts for g in policy.generate([p])]
    seconds = time.perf_counter() - start
    return seconds, sum(len(g.response_ids or []) for g in gens), [g.response_ids or [] for g in gens]


def bench(model: str, n_envs: int, max_new_tokens: int, repeats: int) -> dict[str, float]:
    torch.manual_seed(0)
    policy = HFPolicy.from_pretrained(resolve_model(model), device="cpu", batch_size=n_envs,
                                      sampling=SamplingParams(temperature=0, max_new_tokens=max_new_tokens, stop=()))
    prompts = [fit_prompt_ids(policy.tokenizer, x).ids for x in make_inputs(n_envs)]
    policy.generate(prompts[:2])  # warm-up (first-call allocations)
    runs = [(timed(policy, prompts, batched=True), timed(policy, prompts, batched=False)) for _ in range(repeats)]
    b_sec, b_tok, b_ids = min((r[0] for r in runs), key=lambda r: r[0])  # best of the interleaved repeats:
    s_sec, s_tok, s_ids = min((r[1] for r in runs), key=lambda r: r[0])  # the machine is shared
    same = sum(a == b for a, b in zip(b_ids, s_ids))
    row = {"batched_tok_s": b_tok / b_sec, "sequential_tok_s": s_tok / s_sec,
           "speedup": (b_tok / b_sec) / (s_tok / s_sec), "batched_s": b_sec, "sequential_s": s_sec}
    print(f"{model:>8} | {n_envs} envs | prompt tokens {min(map(len, prompts))}-{max(map(len, prompts))} | "
          f"batched {b_tok} tok in {b_sec:.2f}s = {row['batched_tok_s']:.1f} tok/s | "
          f"one at a time {s_tok} tok in {s_sec:.2f}s = {row['sequential_tok_s']:.1f} tok/s | "
          f"speedup x{row['speedup']:.1f} | identical greedy outputs {same}/{n_envs}", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="tiny,smollm2", help="comma-separated: tiny, smollm2 or local paths")
    parser.add_argument("--envs", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats; the best time of each mode counts")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, greedy, no stop string")
    for model in args.models.split(","):
        row = bench(model.strip(), args.envs, args.max_new_tokens, args.repeats if model.strip() == "tiny" else 1)
        if model.strip() == "tiny":
            print(f"  target batched >= 4x sequential: {'met' if row['speedup'] >= 4 else 'NOT met'}")


if __name__ == "__main__":
    main()
