"""Supervised warm start: behaviour cloning on expert trajectories before RL (`sft_dataset` in a TrainConfig).

A 135M model rarely keeps to the `<think>/<action>` format or finds a success on its own, so RL
has nothing to reinforce. Cloning expert steps first (`turnrl collect ENV --agent expert --out
DIR`, which keeps the admissible actions each step offered) fixes both. The loss follows the
policy's parametrisation:
- generate: NLL of the expert's response `<action>a</action><eos>` (token mean, `offline.bc`);
- score: cross-entropy of the expert action under pi(.|s) over the admissible candidates
  (`trainers.choices`), i.e. exactly the distribution RL then trains.
Prompts are rebuilt with the policy's own prompt code, so the warm-started model sees at RL time
what it saw while cloning. The phase has its own AdamW (learning rate `sft_lr`), so the RL
optimiser starts fresh.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch

from turnrl.trainers.batching import TokenRow, micro_batches
from turnrl.trainers.choices import ChoiceRow, choice_log_probs, choice_micro_batches
from turnrl.trainers.offline.bc import bc_loss, successful
from turnrl.trainers.offline.datasets import agent_inputs
from turnrl.types import Trajectory


def warm_start_rows(trajectories: Sequence[Trajectory], policy: Any, env_id: str | None, mode: str
                    ) -> tuple[list[TokenRow] | list[ChoiceRow], int]:
    """Training rows from the won trajectories' steps, and how many steps could not be used.

    Score mode needs the admissible actions each step offered and the expert action among them;
    a step without them is skipped (and counted), never guessed.
    """
    rows: list = []
    skipped = 0
    for traj in successful(trajectories):
        for x, step in zip(agent_inputs(traj, env_id), traj.steps):
            prompt = policy.prompt_ids(x)
            target = policy.candidate_ids(step.action)
            if mode == "generate":
                rows.append(TokenRow(prompt, target, [0.0] * len(target), 0.0))
                continue
            actions = list(dict.fromkeys(x.admissible_actions or []))
            if step.action not in actions:
                skipped += 1
                continue
            candidates = [policy.candidate_ids(a) for a in actions]
            rows.append(ChoiceRow(prompt, candidates, actions.index(step.action), 0.0, 0.0))
    return rows, skipped


def _batches(trainer: Any, rows: Sequence, indices: Sequence[int]) -> list[list[int]]:
    budget = trainer.config.micro_batch_tokens
    if rows and isinstance(rows[0], ChoiceRow):
        return choice_micro_batches(rows, indices, budget)
    return [mb.rows for mb in micro_batches(rows, indices, trainer.pad_id, budget)]


def _loss(trainer: Any, rows: Sequence, part: list[int]) -> tuple[torch.Tensor, int]:
    """Summed NLL of the rows `part` (per action in score mode, per token in generate mode) and its count."""
    from turnrl.trainers.batching import collate
    from turnrl.trainers.trainer import token_logprobs_and_entropy

    c = trainer.config
    if isinstance(rows[0], ChoiceRow):
        logp, _ = choice_log_probs(trainer.model, [rows[i] for i in part], trainer.pad_id, c.score, c.temperature)
        return -logp.sum(), len(part)
    mb = collate(rows, part, trainer.pad_id).to(trainer.device)
    logp, _ = token_logprobs_and_entropy(trainer.model, mb.input_ids, mb.attention_mask, mb.targets_mask, False)
    n = int(mb.targets_mask.sum())
    return bc_loss(logp, mb.targets_mask.to(logp.dtype)) * n, n


@torch.no_grad()
def mean_nll(trainer: Any, rows: Sequence) -> float:
    """Mean NLL of the expert actions (per action, or per response token in generate mode)."""
    trainer.model.eval()
    total, count = 0.0, 0
    for part in _batches(trainer, rows, range(len(rows))):
        with trainer.compute():
            loss, n = _loss(trainer, rows, part)
        total, count = total + float(loss), count + n
    return total / max(count, 1)


def behaviour_clone(trainer: Any, trajectories: Sequence[Trajectory], epochs: int, lr: float,
                    batch_rows: int = 16, seed: int = 0) -> dict[str, Any]:
    """Clones the won trajectories into `trainer.model` in place; returns NLL before/after and counts."""
    c = trainer.config
    rows, skipped = warm_start_rows(trajectories, trainer.policy, c.env_id, c.policy_mode)
    if not rows:
        raise ValueError("behaviour cloning needs won expert trajectories whose steps carry their admissible "
                         "actions (turnrl collect ENV --agent expert --out DIR)")
    before = mean_nll(trainer, rows)
    params = [p for p in trainer.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    rng = np.random.default_rng(seed)
    trainer.model.train()
    with _progress(c.progress, epochs * -(-len(rows) // batch_rows)) as advance:  # a 135M model: minutes on CPU
        for _ in range(epochs):
            order = rng.permutation(len(rows))
            for start in range(0, len(rows), batch_rows):
                batch = [int(i) for i in order[start:start + batch_rows]]
                count = sum(1 if isinstance(rows[i], ChoiceRow) else len(rows[i].response_ids) for i in batch)
                optimizer.zero_grad(set_to_none=True)
                for part in _batches(trainer, rows, batch):
                    with trainer.compute():
                        loss, _ = _loss(trainer, rows, part)
                    (loss / count).backward()
                torch.nn.utils.clip_grad_norm_(params, c.max_grad_norm)
                optimizer.step()
                advance()
    after = mean_nll(trainer, rows)
    trainer.sync_rollout_weights()
    return {"steps": len(rows), "skipped_steps": skipped, "episodes": len(successful(trajectories)),
            "nll_before": before, "nll_after": after, "epochs": epochs}


@contextlib.contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[[], None]]:
    """A rich bar over optimiser steps; yields the function that advances it (a no-op when disabled)."""
    if not enabled:
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("behaviour cloning"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
        task = bar.add_task("bc", total=total)
        yield lambda: bar.advance(task)
