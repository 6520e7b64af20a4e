"""One loop for every offline method: sample a batch from the dataset, take one optimiser step, log.

- `bc`: NLL of won trajectories' actions.
- `dpo` / `simpo`: trajectory-level preference loss on (won, failed) pairs of the same task.
- `oreo`: value loss on the critic and the soft-Bellman policy loss (+ alpha * KL) on the actor,
  two models and two AdamW optimisers, stepped one after the other on the same batch.

Output directory as the online trainer's: `config.yaml`, `metrics.jsonl`, `curves.png`,
`checkpoints/` (policy; `checkpoints/value/` for the critic), plus `policy/` and `value/` model
folders that `oreo:<out_dir>` and `hf:<out_dir>/policy` load for evaluation.
"""
from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from turnrl.rollout import TaskSpec, collect, summarize
from turnrl.trainers.checkpoint import save_checkpoint
from turnrl.trainers.metrics import MetricsLogger, plot_curves, read_metrics
from turnrl.trainers.offline import bc, dpo, oreo
from turnrl.trainers.offline.batching import logprobs_of, pack_steps, response_logits, state_values
from turnrl.trainers.offline.config import OfflineConfig
from turnrl.trainers.offline.datasets import load_dataset, preference_pairs, tokenize_trajectories
from turnrl.trainers.offline.value_model import ValueModel
from turnrl.trainers.policy import (COMPACT_TEMPLATE, ScoringPolicy, freeze_below_top, load_model, pick_device,
                                    pick_dtype)
from turnrl.types import Trajectory


def _clip_and_step(params: list[torch.nn.Parameter], optimizer: torch.optim.Optimizer, max_norm: float) -> float:
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return float(norm)


class OfflineTrainer:
    """Owns the policy (and reference, critic), the tokenized dataset and the logs of one offline run."""

    def __init__(self, config: OfflineConfig, trajectories: list[Trajectory] | None = None):
        from turnrl.agents.generation import SamplingParams
        from turnrl.agents.models import resolve_model

        self.config = c = config
        self.device = pick_device(c.device)
        dtype = pick_dtype(c.dtype, self.device)
        torch.manual_seed(c.seed)
        self.rng = np.random.default_rng(c.seed)
        self.model, self.tokenizer = load_model(c.model, self.device, dtype, train_layers=c.train_layers)
        self.policy = ScoringPolicy(self.model, self.tokenizer, device=self.device, mode="score",
                                    sampling=SamplingParams(temperature=c.eval_temperature),
                                    history_window=c.history_window, max_prompt_tokens=c.max_prompt_tokens,
                                    autocast=c.autocast)
        self.policy.template = COMPACT_TEMPLATE if c.prompt == "compact" else None
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.params, lr=c.lr, weight_decay=c.weight_decay)
        self.reference = None
        if c.method in ("oreo", "dpo"):
            self.reference = copy.deepcopy(self.model).eval().requires_grad_(False)
        self.value_model = self.value_optimizer = None
        if c.method == "oreo":
            self.value_model = ValueModel.from_pretrained(resolve_model(c.value_model or c.model), dtype).to(self.device)
            if c.train_layers is not None:  # the critic's backbone trains as much as the policy; its head always
                freeze_below_top(self.value_model.backbone, c.train_layers)
            self.value_optimizer = torch.optim.AdamW([p for p in self.value_model.parameters() if p.requires_grad],
                                                     lr=c.value_lr, weight_decay=c.weight_decay)
        data = trajectories if trajectories is not None else load_dataset(c.dataset)
        self.items = self._training_items(data)
        if not self.items:
            raise ValueError(f"no training data for {c.method}: " + {
                "bc": "the dataset has no won trajectory", "dpo": "no task has both a won and a failed trajectory",
                "simpo": "no task has both a won and a failed trajectory"}.get(c.method, "the dataset is empty"))
        self.out_dir = Path(c.out_dir)
        self.pad_id = self.policy.pad_id

    def _training_items(self, data: list[Trajectory]) -> list[Any]:
        c = self.config
        if c.method == "bc":
            data = bc.successful(data)
        tokenized = tokenize_trajectories(data, self.tokenizer, c.env_id, c.history_window, c.max_prompt_tokens,
                                          self.policy.template, eos_id=self.policy.eos_ids[0])
        if c.method in ("dpo", "simpo"):
            return preference_pairs(tokenized, c.max_pairs_per_task)
        return tokenized

    def _batch(self) -> list[Any]:
        n = min(self.config.batch_trajectories, len(self.items))
        return [self.items[i] for i in self.rng.choice(len(self.items), n, replace=False)]

    # ---- one optimiser step per method ----------------------------------------------------------
    def step(self) -> dict[str, float]:
        self.model.train()
        items = self._batch()
        with self.policy.compute():  # the rollout policy's numerics (bf16 autocast when configured)
            if self.config.method == "oreo":
                return self._oreo_step(items)
            if self.config.method == "bc":
                return self._bc_step(items)
            return self._preference_step(items)

    def _bc_step(self, trajectories: list) -> dict[str, float]:
        batch = pack_steps(trajectories, self.pad_id).to(self.device)
        lp = logprobs_of(response_logits(self.model, batch), batch.targets, batch.mask)
        loss = bc.bc_loss(lp, batch.mask)
        loss.backward()
        return {"loss": loss.item(), "grad_norm": _clip_and_step(self.params, self.optimizer, self.config.max_grad_norm)}

    def _sequence_logprobs(self, model: torch.nn.Module, trajectories: list) -> tuple[torch.Tensor, torch.Tensor]:
        """(summed response log-prob, response token count) per trajectory."""
        batch = pack_steps(trajectories, self.pad_id).to(self.device)
        lp = logprobs_of(response_logits(model, batch), batch.targets, batch.mask).sum(-1)
        sums = torch.zeros(len(trajectories), device=self.device).index_add(0, batch.traj, lp)
        counts = torch.zeros(len(trajectories), device=self.device).index_add(0, batch.traj, batch.mask.sum(-1))
        return sums, counts

    def _preference_step(self, pairs: list) -> dict[str, float]:
        c = self.config
        chosen, rejected = [p[0] for p in pairs], [p[1] for p in pairs]
        pc, nc = self._sequence_logprobs(self.model, chosen)
        pr, nr = self._sequence_logprobs(self.model, rejected)
        if c.method == "dpo":
            with torch.no_grad():
                rc, _ = self._sequence_logprobs(self.reference, chosen)
                rr, _ = self._sequence_logprobs(self.reference, rejected)
            loss, margin = dpo.dpo_loss(pc, pr, rc, rr, c.dpo_beta)
        else:
            loss, margin = dpo.simpo_loss(pc, pr, nc, nr, c.simpo_beta, c.simpo_gamma)
        loss.backward()
        return {"loss": loss.item(), "margin": margin.mean().item(), "pair_accuracy": (margin > 0).float().mean().item(),
                "grad_norm": _clip_and_step(self.params, self.optimizer, c.max_grad_norm)}

    def _oreo_step(self, trajectories: list) -> dict[str, float]:
        c = self.config
        batch = pack_steps(trajectories, self.pad_id).to(self.device)
        logits = response_logits(self.model, batch)
        with torch.no_grad():
            ref_logits = response_logits(self.reference, batch)
        logratio = logprobs_of(logits, batch.targets, batch.mask) - logprobs_of(ref_logits, batch.targets, batch.mask)
        values = state_values(self.value_model, batch)
        v_loss = self.value_loss(values, logratio, batch)
        v_loss.backward()
        v_norm = _clip_and_step(list(self.value_model.parameters()), self.value_optimizer, c.max_grad_norm)
        policy_loss = oreo.policy_loss_token if c.oreo_variant == "token" else oreo.policy_loss_step
        p_loss = policy_loss(logratio, batch.mask, batch.traj, batch.reward, values, c.beta, average=c.oreo_average)
        kl = oreo.exact_kl(logits, ref_logits, batch.mask)
        (p_loss + c.kl_coef * kl).backward()
        norm = _clip_and_step(self.params, self.optimizer, c.max_grad_norm)
        return {"loss": p_loss.item(), "value_loss": v_loss.item(), "kl": kl.item(), "grad_norm": norm,
                "value_grad_norm": v_norm, "value_s0": values[:, 0].mean().item()}

    def value_loss(self, values: torch.Tensor, logratio: torch.Tensor, batch) -> torch.Tensor:
        """OREO's critic loss as configured; the step-level variant trains V at step starts only."""
        c = self.config
        return oreo.value_loss(values, logratio, batch.mask, batch.traj, batch.reward, c.beta,
                               step_level=c.oreo_variant == "step", after_action=c.oreo_value_after_action,
                               average=c.oreo_average)

    # ---- evaluation, saving, the loop ------------------------------------------------------------
    def evaluate(self, n_tasks: int | None = None, k: int = 0) -> dict[str, Any]:
        """Success of the greedy (or `eval_temperature`) policy on held-out seeds; value-guided with k > 0."""
        c = self.config
        tasks = [TaskSpec(seed=c.eval_seed_offset + i) for i in range(n_tasks or c.eval_tasks)]
        return summarize(self.evaluate_episodes(tasks, k))

    def evaluate_episodes(self, tasks: list[TaskSpec], k: int = 0) -> list[Trajectory]:
        """One episode per task in `eval_env_kwargs`' games (else the training ones), in task order."""
        from turnrl.envs.pool import make_pool
        from turnrl.trainers.offline.value_search import ValueGuidedAgent

        c = self.config
        self.model.eval()
        agent: Any = self.policy.with_sampling(temperature=c.eval_temperature)
        if k > 0:
            if self.value_model is None:
                raise ValueError("value-guided selection needs the OREO critic (method: oreo)")
            self.value_model.eval()
            agent = ValueGuidedAgent(self.policy, self.value_model, k=k, seed=c.seed)
        env_kwargs = c.env_kwargs if c.eval_env_kwargs is None else c.eval_env_kwargs
        with make_pool(c.env_id, c.num_envs, "inprocess", env_kwargs=env_kwargs) as pool, torch.no_grad():
            return collect(pool, agent, tasks, max_steps=c.max_steps, progress=False)

    def export(self, directory: str | Path | None = None) -> Path:
        """`policy/` (and `value/`) model folders plus `offline.yaml`, what `oreo:<dir>` loads."""
        out = Path(directory) if directory is not None else self.out_dir
        self.model.save_pretrained(out / "policy")
        self.tokenizer.save_pretrained(out / "policy")
        if self.value_model is not None:
            self.value_model.save_pretrained(out / "value")
        (out / "offline.yaml").write_text(self.config.to_yaml(), encoding="utf-8")
        return out

    def save(self, iteration: int) -> None:
        c = self.config
        save_checkpoint(self.out_dir / "checkpoints", iteration, self.model, self.optimizer, None, c.to_dict(),
                        self.rng, c.keep_checkpoints)
        if self.value_model is not None:
            save_checkpoint(self.out_dir / "checkpoints" / "value", iteration, self.value_model, self.value_optimizer,
                            None, c.to_dict(), None, c.keep_checkpoints)

    def train(self, on_iteration: Callable[[int, dict], None] | None = None) -> list[dict[str, Any]]:
        c = self.config
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / "config.yaml").write_text(c.to_yaml(), encoding="utf-8")
        logger = MetricsLogger(self.out_dir, tensorboard=c.tensorboard)
        try:
            for it in range(c.iterations):
                start = time.perf_counter()
                metrics = self.step()
                metrics["time_update"] = time.perf_counter() - start
                last = it + 1 == c.iterations
                if (c.eval_every and (it + 1) % c.eval_every == 0) or last:
                    metrics["eval_success_rate"] = self.evaluate()["success_rate"]
                    if last and c.eval_k and self.value_model is not None:
                        metrics["eval_value_guided_success_rate"] = self.evaluate(k=c.eval_k)["success_rate"]
                logger.log(it, metrics)
                if on_iteration is not None:
                    on_iteration(it, metrics)
                if c.save_every and ((it + 1) % c.save_every == 0 or last):
                    self.save(it)
        finally:
            logger.close()
        if c.plot:
            plot_curves(read_metrics(logger.path), self.out_dir / "curves.png", f"turnrl offline {c.method}")
        self.export()
        return read_metrics(logger.path)
