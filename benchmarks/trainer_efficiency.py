"""Trainer overhead: one `Trainer.update` on a fixed batch vs a bare forward-backward of the same
model on the same tokens (same micro-batches, cross-entropy on the response tokens, AdamW step).

Target: update / bare <= 1.3. Also prints the padding waste of length-sorted micro-batches next to
packing the rows in arrival order. Figures are measured side by side in one run, best of --repeats.

    python benchmarks/trainer_efficiency.py [--model tiny|smollm2] [--rows 64] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from turnrl.trainers.batching import TokenRow, collate, micro_batches, padding_waste, split_by_tokens
from turnrl.trainers.config import TrainConfig
from turnrl.trainers.trainer import Trainer


def fixed_rows(vocab: int, n: int, seed: int = 0) -> list[TokenRow]:
    """Agent-step shaped rows: prompts of 150-600 tokens, responses of 4-24, random advantages."""
    g = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        p, r = int(g.integers(150, 600)), int(g.integers(4, 24))
        rows.append(TokenRow(g.integers(5, vocab, p).tolist(), g.integers(5, vocab, r).tolist(),
                             (-np.abs(g.normal(1.0, 0.5, r))).tolist(), float(g.normal())))
    return rows


def bare_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, batches) -> None:
    optimizer.zero_grad(set_to_none=True)
    n_tokens = sum(b.n_tokens for b in batches)
    for b in batches:
        logits = model(input_ids=b.input_ids, attention_mask=b.attention_mask).logits[:, :-1]
        targets = b.input_ids[:, 1:]
        loss = F.cross_entropy(logits[b.targets_mask].float(), targets[b.targets_mask], reduction="sum") / n_tokens
        loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()


def best_of_interleaved(fns, repeats: int) -> list[float]:
    """Best time of each function, run alternately so machine-load drift hits both alike."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--rows", type=int, default=64)
    ap.add_argument("--micro-batch-tokens", type=int, default=4096)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    config = TrainConfig(model=args.model, device="cpu", tensorboard=False, plot=False,
                         micro_batch_tokens=args.micro_batch_tokens, entropy_coef=0.0)
    trainer = Trainer(config)
    rows = fixed_rows(trainer.model.config.vocab_size, args.rows)
    pad = trainer.pad_id
    batches = micro_batches(rows, range(len(rows)), pad, args.micro_batch_tokens)
    arrival = [collate(rows, g, pad) for g in split_by_tokens(rows, list(range(len(rows))), args.micro_batch_tokens)]
    tokens = sum(int(b.attention_mask.sum()) for b in batches)
    bare_opt = torch.optim.AdamW([p for p in trainer.model.parameters() if p.requires_grad], lr=1e-6)

    trainer.update(rows)  # warm-up (allocator, kernels)
    bare_step(trainer.model, bare_opt, batches)
    t_update, t_bare = best_of_interleaved([lambda: trainer.update(rows),
                                            lambda: bare_step(trainer.model, bare_opt, batches)], args.repeats)
    print(f"model={args.model} rows={len(rows)} real tokens={tokens} micro-batches={len(batches)} "
          f"threads={torch.get_num_threads()} load={os.getloadavg()[0]:.1f}")
    print(f"padding waste: length-sorted {padding_waste(batches):.1%}   arrival order {padding_waste(arrival):.1%}")
    print(f"Trainer.update        {t_update:8.3f} s  ({tokens / t_update:,.0f} tokens/s)")
    print(f"bare forward-backward {t_bare:8.3f} s  ({tokens / t_bare:,.0f} tokens/s)")
    ratio = t_update / t_bare
    print(f"overhead ratio update/bare = {ratio:.2f}  (target <= 1.3: {'met' if ratio <= 1.3 else 'NOT met'})")


if __name__ == "__main__":
    main()
