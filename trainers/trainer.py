"""The online trainer for every credit method: rollout -> step rows -> credit -> loss rows -> PPO update.

One iteration: draw `tasks_per_iter` tasks, roll each out `group_size` times with the current
policy, lower the episodes to step rows once (`turnrl.batch.to_rows`), compute per-step advantages
with the configured `credit/` method (GRPO, RLOO, GiGPO, SALT, ... only the name changes), mask
groups without signal when dynamic sampling is on, and turn the steps into loss rows: token rows
(generation: prompt ids, response ids, behaviour log-probs) or choice rows (scoring mode: the
candidates and log pi(a|s)). Then `ppo_epochs` x `mini_batches` optimiser steps over
micro-batches under a token budget. An optional behaviour-cloning warm start runs first.
Python API: `Trainer(TrainConfig(...)).train()`.
"""
from __future__ import annotations

import contextlib
import copy
import shutil
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from turnrl.batch import StepRows, to_rows
from turnrl.credit import compute_advantages
from turnrl.rollout import TaskSpec, collect, summarize
from turnrl.trainers import distributed as dd
from turnrl.trainers.batching import TokenRow, micro_batches, mini_batch_indices, padding_waste, token_rows
from turnrl.trainers.choices import ChoiceRow, choice_log_probs, choice_micro_batches, choice_rows
from turnrl.trainers.checkpoint import latest_checkpoint, list_checkpoints, load_checkpoint, save_checkpoint
from turnrl.trainers.config import TrainConfig
from turnrl.trainers.losses import entropy_from_logits, ppo_loss
from turnrl.trainers.metrics import MetricsLogger, plot_curves
from turnrl.trainers.policy import ScoringPolicy, load_model, pick_device, pick_dtype
from turnrl.trainers.weight_sync import inference_weights
from turnrl.types import Trajectory

EPISODE_KEYS = ("success_rate", "mean_return", "mean_length", "invalid_rate", "n_episodes")


def token_logprobs_and_entropy(model: torch.nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                               targets_mask: torch.Tensor, with_entropy: bool = True
                               ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """[B, L-1] log-probs of the next tokens (zero off-target) and entropies, computed only where
    `targets_mask` is set so the [N, vocab] softmax is never built for prompt positions."""
    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[:, :-1]
    picked = logits[targets_mask].float()  # [N, V]
    targets = input_ids[:, 1:][targets_mask]
    logz = torch.logsumexp(picked, dim=-1)
    lp = picked.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - logz
    logp = torch.zeros(targets_mask.shape, dtype=lp.dtype, device=lp.device).masked_scatter(targets_mask, lp)
    if not with_entropy:
        return logp, None
    ent = entropy_from_logits(picked)
    return logp, torch.zeros_like(logp).masked_scatter(targets_mask, ent)


def groups_with_signal(rows: StepRows, advantages: np.ndarray, atol: float = 1e-8) -> np.ndarray:
    """Dynamic sampling as a mask over step rows: True where the row's group has a non-zero advantage."""
    signal = np.unique(rows.group[np.abs(advantages) > atol])
    return np.isin(rows.group, signal)


class Trainer:
    """Owns the policy, optimiser, scheduler, envs and logs for one training run."""

    def __init__(self, config: TrainConfig, world: dd.World | None = None):
        self.config = c = config
        base = pick_device(c.device)
        self.world = world or dd.init_distributed(base)
        self.device = dd.local_device(base)
        self.dtype = pick_dtype(c.dtype, self.device)
        torch.manual_seed(c.seed)
        self.rng = np.random.default_rng(c.seed)
        lora = None
        if c.lora:
            lora = dict(r=c.lora_r, lora_alpha=c.lora_alpha, lora_dropout=c.lora_dropout,
                        target_modules=list(c.lora_target_modules))
        self.model, self.tokenizer = load_model(c.model, self.device, self.dtype, lora, c.train_layers)
        dd.broadcast_parameters(self.model, self.world)
        self.reference = None
        if c.kl_coef > 0 and not c.lora:  # under LoRA the reference is the base with adapters off
            self.reference = copy.deepcopy(self.model).eval().requires_grad_(False)
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None \
            else self.tokenizer.eos_token_id
        torch.manual_seed(c.seed + self.world.rank)  # ranks sample different rollouts from equal weights
        self.policy = self._build_policy()
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=c.lr, betas=c.adam_betas, weight_decay=c.weight_decay)
        warmup = max(c.warmup_iterations, 0)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda it: min(1.0, (it + 1) / warmup) if warmup else 1.0)
        self._pool_train = None
        self._pool_eval = None
        self.iteration = 0
        self.out_dir = Path(c.out_dir)

    def _build_policy(self):
        """The agent that plays the rollouts: the trained model itself, or a vLLM engine fed its weights."""
        from turnrl.agents.generation import SamplingParams

        c = self.config
        sampling = SamplingParams(temperature=c.temperature, top_p=c.top_p, max_new_tokens=c.max_new_tokens)
        if c.rollout_engine == "vllm":
            from turnrl.agents.models import resolve_model
            from turnrl.agents.vllm import VLLMPolicy

            policy = VLLMPolicy(resolve_model(c.model), sampling=sampling, history_window=c.history_window,
                                max_prompt_tokens=c.max_prompt_tokens, seed=c.seed + self.world.rank,
                                gpu_memory_utilization=c.vllm_gpu_memory_utilization)
            policy.load_weights(inference_weights(self.model))  # LoRA starts as the base: still the same
            return policy
        from turnrl.agents.prompts import template_named

        common = dict(device=self.device, sampling=sampling, history_window=c.history_window,
                      max_prompt_tokens=c.max_prompt_tokens, batch_size=c.policy_batch_size,
                      template=template_named(c.prompt), autocast=c.autocast)
        if c.policy_mode == "score":
            return ScoringPolicy(self.model, self.tokenizer, score=c.score, score_budget_tokens=c.micro_batch_tokens,
                                 **common)
        return _generating_policy()(self.model, self.tokenizer, mode="generate", **common)

    def compute(self):
        """The numerics of the trainer's forward passes: the same autocast as the rollout policy's."""
        from turnrl.agents.hf import autocast_dtype, compute_context

        return compute_context(self.device, autocast_dtype(self.config.autocast))

    @property
    def separate_rollout_engine(self) -> bool:
        return self.config.rollout_engine == "vllm"

    def sync_rollout_weights(self) -> None:
        """Hands the updated weights to a separate rollout engine (a no-op when the model plays itself)."""
        if self.separate_rollout_engine:
            self.policy.load_weights(inference_weights(self.model))

    # ---- environments (pools are opened on first use, so update-only uses need no env) ---------
    def _pool(self, env_kwargs: dict[str, Any]):
        from turnrl.envs.pool import make_pool

        c = self.config
        return make_pool(c.env_id, c.num_envs, c.pool_backend, env_kwargs=env_kwargs, step_timeout=c.step_timeout,
                         reset_timeout=c.reset_timeout)

    @property
    def pool(self):
        if self._pool_train is None:
            self._pool_train = self._pool(self.config.env_kwargs)
        return self._pool_train

    @property
    def eval_pool(self):
        if self.config.eval_env_kwargs is None:
            return self.pool
        if self._pool_eval is None:
            self._pool_eval = self._pool(self.config.eval_env_kwargs)
        return self._pool_eval

    def close(self) -> None:
        for pool in (self._pool_train, self._pool_eval):
            if pool is not None:
                pool.close()
        self._pool_train = self._pool_eval = None

    # ---- one iteration -------------------------------------------------------------------------
    def draw_tasks(self) -> list[TaskSpec]:
        """This rank's share of the iteration's tasks (all ranks draw the same list)."""
        c = self.config
        pool = c.train_task_seeds
        if pool:
            seeds = [int(pool[i]) for i in self.rng.integers(0, len(pool), c.tasks_per_iter)]
        else:
            seeds = [int(s) for s in self.rng.integers(0, c.num_train_tasks, c.tasks_per_iter)]
        return [TaskSpec(seed=s) for s in seeds][self.world.rank::self.world.size]

    def rollout(self, tasks: list[TaskSpec], temperature: float, group_size: int, pool=None) -> list[Trajectory]:
        self.model.eval()
        self.policy.with_sampling(temperature=temperature)
        return collect(pool or self.pool, self.policy, tasks, group_size=group_size, max_steps=self.config.max_steps,
                       progress=self.config.progress and self.world.is_main)

    def credit(self, rows: StepRows) -> np.ndarray:
        c = self.config
        params = dict(c.credit_params)
        penalty = params.pop("invalid_penalty", c.invalid_penalty)  # every method takes it (credit/penalties.py)
        if c.invalid_penalty and penalty != c.invalid_penalty:
            raise ValueError(f"invalid_penalty is {c.invalid_penalty} in the config but {penalty} in credit_params; "
                             "set it once")
        return compute_advantages(c.credit, rows, invalid_penalty=penalty, **params)

    @torch.no_grad()
    def _response_logprobs(self, model: torch.nn.Module, rows: list[TokenRow]) -> list[list[float]]:
        """Per-row response-token log-probs under `model`, in the trainer's own micro-batches and numerics."""
        model.eval()
        out: list[list[float]] = [[] for _ in rows]
        for mb in micro_batches(rows, range(len(rows)), self.pad_id, self.config.micro_batch_tokens):
            mb = mb.to(self.device)
            with self.compute():
                lp, _ = token_logprobs_and_entropy(model, mb.input_ids, mb.attention_mask, mb.targets_mask, False)
            for k, i in enumerate(mb.rows):
                out[i] = lp[k][mb.targets_mask[k]].float().cpu().tolist()
        return out

    @torch.no_grad()
    def _choice_logprobs(self, model: torch.nn.Module, rows: list[ChoiceRow]) -> list[float]:
        """Per-row log pi(a|s) under `model`, in the trainer's own micro-batches."""
        model.eval()
        out = [0.0] * len(rows)
        for part in choice_micro_batches(rows, range(len(rows)), self.config.micro_batch_tokens):
            with self.compute():
                logp, _ = choice_log_probs(model, [rows[i] for i in part], self.pad_id, self.config.score,
                                           self.config.temperature)
            for i, v in zip(part, logp.tolist()):
                out[i] = v
        return out

    def add_reference_logprobs(self, rows: list[TokenRow] | list[ChoiceRow]) -> None:
        """Fills the rows' reference log-probs from the frozen reference (the base with LoRA adapters off)."""
        model = self.reference if self.reference is not None else self.model
        with self.model.disable_adapter() if self.reference is None else contextlib.nullcontext():
            if rows and isinstance(rows[0], ChoiceRow):
                for row, value in zip(rows, self._choice_logprobs(model, rows)):
                    row.ref_logprob = value
                return
            for row, lp in zip(rows, self._response_logprobs(model, rows)):
                row.ref_logprobs = lp

    def recompute_behaviour_logprobs(self, rows: list[TokenRow]) -> None:
        """Replaces the rollout engine's log-probs by the trainer's own for the same tokens.

        A separate engine (vLLM, bf16 kernels) computes slightly different log-probs from the same
        weights; the PPO ratio must start at exactly 1, so it is taken against the trainer's numbers.
        """
        for row, lp in zip(rows, self._response_logprobs(self.model, rows)):
            row.old_logprobs = lp

    def update(self, rows: list[TokenRow] | list[ChoiceRow]) -> dict[str, float]:
        """ppo_epochs x mini_batches optimiser steps; loss normalised by global (all-rank) counts.

        Token rows (generation) are trained token by token; choice rows (scoring mode) as one
        action each: their "tokens" are the rows themselves.
        """
        c = self.config
        self.model.train()
        choice = bool(rows) and isinstance(rows[0], ChoiceRow)
        totals = {"policy_loss": 0.0, "kl": 0.0, "entropy": 0.0, "clip_fraction": 0.0, "grad_norm": 0.0}
        n_steps, skipped, tokens, waste = 0, 0, 0, []
        for _ in range(c.ppo_epochs):
            for part in mini_batch_indices(len(rows), c.mini_batches, self.rng, keep_empty=True):
                local = [1 if choice else len(rows[i].response_ids) for i in part]
                signal = float(sum(rows[i].advantage != 0.0 for i in part))
                n_tokens, n_seqs, signal = dd.all_reduce_sum([float(sum(local)), float(len(local)), signal],
                                                             self.world, self.device)
                if signal == 0 and not (c.kl_coef or c.entropy_coef):
                    # nothing to learn here: an AdamW step on a zero gradient would still move the
                    # weights (momentum, weight decay), so the step is skipped on every rank
                    skipped += 1
                    continue
                self.optimizer.zero_grad(set_to_none=True)
                step_stats = dict.fromkeys(("policy_loss", "kl", "entropy", "clip_fraction"), 0.0)
                if choice:
                    batches = choice_micro_batches(rows, part, c.micro_batch_tokens) if len(part) else []
                else:
                    batches = micro_batches(rows, part, self.pad_id, c.micro_batch_tokens) if len(part) else []
                    waste.append(padding_waste(batches))
                for mb in batches:
                    with self.compute():
                        if choice:
                            terms, n = self._choice_loss([rows[i] for i in mb], n_tokens, n_seqs)
                        else:
                            terms, n = self._token_loss(mb.to(self.device), n_tokens, n_seqs)
                    terms.loss.backward()
                    for k in step_stats:
                        step_stats[k] += getattr(terms, k)
                    tokens += n
                dd.sum_gradients(self.model, self.world)
                params = [p for p in self.model.parameters() if p.requires_grad]
                grad_norm = float(torch.nn.utils.clip_grad_norm_(params, c.max_grad_norm))
                self.optimizer.step()
                summed = dd.all_reduce_sum(list(step_stats.values()), self.world, self.device)
                for k, v in zip(step_stats, summed):
                    totals[k] += v
                totals["grad_norm"] += grad_norm
                n_steps += 1
        with warnings.catch_warnings():  # the schedule counts iterations, also those with every step skipped
            warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler.step\(\)` before")
            self.scheduler.step()
        stats = {k: v / max(n_steps, 1) for k, v in totals.items()}
        stats.update(update_tokens=tokens, padding_waste=float(np.mean(waste)) if waste else 0.0,
                     lr=self.optimizer.param_groups[0]["lr"], skipped_steps=skipped)
        return stats

    def _ppo_terms(self, logp, old, adv, mask, n_tokens, n_seqs, ref=None, entropy=None):
        c = self.config
        return ppo_loss(logp, old, adv, mask, n_tokens=n_tokens, n_seqs=n_seqs, ref_logp=ref, entropy=entropy,
                        clip_low=c.clip_low, clip_high=c.clip_high, dual_clip=c.dual_clip, kl_coef=c.kl_coef,
                        kl_estimator=c.kl_estimator, entropy_coef=c.entropy_coef, agg=c.loss_agg)

    def _token_loss(self, mb, n_tokens: float, n_seqs: float):
        """PPO terms of one token micro-batch, and the tokens it put through the model."""
        logp, ent = token_logprobs_and_entropy(self.model, mb.input_ids, mb.attention_mask, mb.targets_mask)
        terms = self._ppo_terms(logp, mb.old_logprobs, mb.advantages, mb.targets_mask, n_tokens, n_seqs,
                                mb.ref_logprobs, ent)
        return terms, int(mb.attention_mask.sum())

    def _choice_loss(self, batch: list[ChoiceRow], n_tokens: float, n_seqs: float):
        """PPO terms of one micro-batch of scored steps: each step is one [1, 1] "token" (its action)."""
        c = self.config
        logp, ent = choice_log_probs(self.model, batch, self.pad_id, c.score, c.temperature)
        column = (lambda values: torch.tensor(values, dtype=logp.dtype, device=logp.device)[:, None])
        ref = column([r.ref_logprob for r in batch]) if all(r.ref_logprob is not None for r in batch) else None
        terms = self._ppo_terms(logp[:, None], column([r.old_logprob for r in batch]),
                                column([r.advantage for r in batch]), torch.ones_like(logp[:, None]),
                                n_tokens, n_seqs, ref, ent[:, None])
        return terms, sum(r.cost for r in batch)

    def train_iteration(self) -> dict[str, Any]:
        c = self.config
        t0 = time.perf_counter()
        rolled_out = self.rollout(self.draw_tasks(), c.temperature, c.group_size)
        trajectories = [t for t in rolled_out if t.steps]  # a failed reset has no step to learn from or compare
        t1 = time.perf_counter()
        step_rows = to_rows(trajectories)  # built once: credit reads it, the mask and the loss rows follow its order
        advantages = self.credit(step_rows)
        episodes = episode_stats(trajectories)
        keep = groups_with_signal(step_rows, advantages) if c.dynamic_sampling else np.ones(len(advantages), bool)
        steps = [step for traj in trajectories for step in traj.steps]
        rows = (choice_rows if c.policy_mode == "score" else token_rows)(steps, advantages, keep)
        if self.separate_rollout_engine:
            self.recompute_behaviour_logprobs(rows)
        if self.reference is not None or (c.kl_coef > 0 and c.lora):
            self.add_reference_logprobs(rows)
        t2 = time.perf_counter()
        stats = self.update(rows)
        self.sync_rollout_weights()
        t3 = time.perf_counter()
        episodes = _global_episode_stats(episodes, self.world, self.device)
        rollout_tokens = rollout_token_count(trajectories)
        return {**episodes, **stats, "rows": len(rows), "time_rollout": t1 - t0, "time_credit": t2 - t1,
                "time_update": t3 - t2, "tokens_per_s": stats["update_tokens"] / max(t3 - t0, 1e-9),  # trained tokens per wall second
                "rollout_tokens": rollout_tokens, "rollout_tokens_per_s": rollout_tokens / max(t1 - t0, 1e-9),
                "update_tokens_per_s": stats["update_tokens"] / max(t3 - t2, 1e-9),
                "adv_abs_mean": float(np.abs(advantages[keep]).mean()) if keep.any() else 0.0,
                "kept_rows": int(keep.sum())}

    def evaluate(self, n_tasks: int | None = None) -> dict[str, float]:
        """Success on held-out seeds (disjoint from training) with eval_temperature decoding."""
        c = self.config
        n = n_tasks if n_tasks is not None else c.eval_tasks
        tasks = [TaskSpec(seed=c.eval_seed_offset + i) for i in range(n)][self.world.rank::self.world.size]
        return _global_episode_stats(episode_stats(self.evaluate_episodes(tasks)), self.world, self.device)

    def evaluate_episodes(self, tasks: list[TaskSpec], temperature: float | None = None) -> list[Trajectory]:
        """One held-out episode per task on the eval pool (eval_temperature unless given), in task order."""
        t = self.config.eval_temperature if temperature is None else temperature
        return self.rollout(tasks, t, 1, pool=self.eval_pool) if tasks else []

    # ---- the loop ------------------------------------------------------------------------------
    def resume(self) -> int:
        """Restores the newest checkpoint in out_dir/checkpoints; returns the next iteration."""
        directory = self.out_dir / "checkpoints"
        path = latest_checkpoint(directory)
        if path is None:
            if list_checkpoints(directory):  # never restart silently from scratch over a run's checkpoints
                raise RuntimeError(f"{directory}: no checkpoint there is intact, so the run cannot resume; "
                                   "start afresh with --overwrite or a new out_dir")
            return 0
        payload = load_checkpoint(path, self.model, self.optimizer, self.scheduler, self.rng)
        self.sync_rollout_weights()
        self.iteration = int(payload["iteration"]) + 1
        return self.iteration

    def warm_start(self, logger: MetricsLogger | None = None) -> dict[str, Any]:
        """Behaviour cloning on `sft_dataset` (trainers/sft.py); its figures go to the metrics as iteration -1."""
        from turnrl.trainers.offline.datasets import load_dataset
        from turnrl.trainers.sft import behaviour_clone

        c = self.config
        began = time.perf_counter()
        stats = behaviour_clone(self, load_dataset(c.sft_dataset), c.sft_epochs, c.sft_lr, seed=c.seed)
        stats = {f"sft_{k}": v for k, v in stats.items()} | {"time_sft": time.perf_counter() - began}
        if logger is not None:
            logger.log(-1, stats)
        if c.progress and self.world.is_main:
            print(f"warm start: {stats['sft_steps']} expert steps x {c.sft_epochs} epochs, NLL "
                  f"{stats['sft_nll_before']:.3f} -> {stats['sft_nll_after']:.3f} ({stats['time_sft']:.0f}s)", flush=True)
        return stats

    def export_model(self, path: Path) -> Path:
        """The current policy as a plain Hugging Face checkpoint (LoRA merged), loadable by `hf:<path>`."""
        model = self.model
        if hasattr(model, "merge_and_unload"):  # peft: merge a copy, keep training the adapters
            model = copy.deepcopy(model).merge_and_unload()
        tmp = path.with_name(f".{path.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        model.save_pretrained(tmp)
        self.tokenizer.save_pretrained(tmp)
        shutil.rmtree(path, ignore_errors=True)
        tmp.rename(path)
        return path

    def save(self, iteration: int) -> None:
        if self.world.is_main:
            save_checkpoint(self.out_dir / "checkpoints", iteration, self.model, self.optimizer, self.scheduler,
                            self.config.to_dict(), self.rng, self.config.keep_checkpoints)

    def train(self, resume: bool = False, on_iteration: Callable[[int, dict], None] | None = None
              ) -> list[dict[str, Any]]:
        c = self.config
        start = self.resume() if resume else 0
        main = self.world.is_main
        logger = MetricsLogger(self.out_dir, c.tensorboard, resume_from=start if resume else None) if main else None
        if main:
            (self.out_dir / "config.yaml").write_text(c.to_yaml(), encoding="utf-8")
        history = []
        started = time.perf_counter()
        last = 0.0  # duration of the previous iteration: do not start one that would overrun the limit
        try:
            if c.sft_dataset and start == 0:
                self.warm_start(logger)
            for it in range(start, c.iterations):
                if c.time_limit_s is not None and time.perf_counter() - started + last > c.time_limit_s:
                    break
                began = time.perf_counter()
                self.iteration = it
                metrics = self.train_iteration()
                if c.eval_every and (it + 1) % c.eval_every == 0:
                    metrics.update({f"eval_{k}": v for k, v in self.evaluate().items()})
                history.append(metrics)
                if logger is not None:
                    logger.log(it, metrics)
                if on_iteration is not None and main:
                    on_iteration(it, metrics)
                elif c.progress and main:
                    print(progress_line(it, c.iterations, metrics), flush=True)
                if c.save_every and ((it + 1) % c.save_every == 0 or it + 1 == c.iterations):
                    self.save(it)
                dd.barrier(self.world)
                last = time.perf_counter() - began
            if c.save_every and history and (self.iteration + 1) % c.save_every and self.iteration + 1 != c.iterations:
                self.save(self.iteration)  # stopped early by the time limit: keep the last iteration
            if c.export_model and main and (history or (c.sft_dataset and start == 0)):  # only weights that changed
                self.export_model(self.out_dir / "model")
        finally:
            if logger is not None:
                logger.close()
                if c.plot:
                    from turnrl.trainers.metrics import read_metrics

                    records = read_metrics(logger.path)
                    if records:
                        plot_curves(records, self.out_dir / "curves.png", title=f"{c.env_id} / {c.credit}")
        return history


def rollout_token_count(trajectories: list[Trajectory]) -> int:
    """Tokens the policy put through the model while acting: prompt plus generated response, or
    prompt plus every candidate at its padded width for a scoring agent."""
    total = 0
    for traj in trajectories:
        for step in traj.steps:
            if step.candidate_ids and step.prompt_ids:
                total += len(step.prompt_ids) + len(step.candidate_ids) * max(len(x) for x in step.candidate_ids)
            elif step.prompt_ids:
                total += len(step.prompt_ids) + len(step.response_ids or [])
    return total


def progress_line(it: int, total: int, m: dict[str, Any]) -> str:
    line = (f"iter {it + 1}/{total}  success {m['success_rate']:.2f}  return {m['mean_return']:.2f}  "
            f"len {m['mean_length']:.1f}  invalid {m['invalid_rate']:.2f}  kl {m['kl']:.4f}  "
            f"clip {m['clip_fraction']:.3f}  grad {m['grad_norm']:.3f}  rollout {m['rollout_tokens_per_s']:.0f} tok/s  "
            f"update {m['update_tokens_per_s']:.0f} tok/s  "
            f"(rollout {m['time_rollout']:.1f}s, credit {m['time_credit']:.2f}s, update {m['time_update']:.1f}s)")
    if "eval_success_rate" in m:
        line += f"  eval success {m['eval_success_rate']:.2f}"
    return line


def episode_stats(trajectories: list[Trajectory]) -> dict[str, float]:
    """The numeric episode summary (success, return, length, invalid rate, count)."""
    if not trajectories:
        return {k: 0.0 for k in EPISODE_KEYS}
    summary = summarize(trajectories)
    return {k: summary[k] for k in EPISODE_KEYS}


def _global_episode_stats(stats: dict[str, float], world: dd.World, device: torch.device) -> dict[str, float]:
    """Episode averages over all ranks, weighted by their episode counts."""
    if not world.active:
        return stats
    n = float(stats.get("n_episodes", 0))
    keys = ["success_rate", "mean_return", "mean_length", "invalid_rate"]
    summed = dd.all_reduce_sum([n] + [stats[k] * n for k in keys], world, device)
    total = summed[0]
    return {"n_episodes": int(total), **{k: v / total if total else 0.0 for k, v in zip(keys, summed[1:])}}


def _generating_policy():
    from turnrl.agents.hf import HFPolicy

    return HFPolicy


def train(config: TrainConfig, resume: bool = False) -> list[dict[str, Any]]:
    """Python API: trains with `config` (resuming from out_dir's newest checkpoint if asked)."""
    trainer = Trainer(config)
    try:
        return trainer.train(resume=resume)
    finally:
        trainer.close()

