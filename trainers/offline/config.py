"""Configuration of an offline run: one flat dataclass, every default written down, loadable from YAML.

Same conventions as `trainers.config.TrainConfig` (unknown keys are errors, `key=value` overrides).
OREO defaults follow the paper (beta 0.03, alpha 0.01 token-level / 0.1 step-level); learning rates
are scaled for the small CPU models this suite trains by default.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from turnrl.trainers.yaml_config import YamlConfig

METHODS = ("oreo", "dpo", "simpo", "bc")
OREO_VARIANTS = ("token", "step")


@dataclass
class OfflineConfig(YamlConfig):
    # ---- data ----
    dataset: str = ""  # directory written by `turnrl collect` (or a trajectories JSONL)
    env_id: str = "turnrl/TextWorld-Coin-v0"  # for prompts and evaluation
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    method: str = "oreo"

    # ---- policy ----
    model: str = "tiny"  # tiny | smollm2 | local checkpoint dir (also the value model's backbone)
    value_model: str | None = None  # None: same as `model`
    device: str = "auto"
    dtype: str = "auto"
    prompt: str = "compact"  # compact | default (the env family's template)
    history_window: int = 2
    max_prompt_tokens: int = 1024
    train_layers: int | None = None  # train only the top k decoder layers of policy and critic; None: all
    autocast: str = "off"  # bf16: mixed-precision forwards over float32 weights (CPU with AVX512-BF16, CUDA)

    # ---- optimisation ----
    iterations: int = 100  # optimiser steps
    batch_trajectories: int = 8  # trajectories (DPO, SimPO: pairs) per step
    lr: float = 5e-6
    value_lr: float = 5e-6
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0

    # ---- OREO ----
    beta: float = 0.03
    alpha: float | None = None  # KL coefficient; None: 0.01 (token) or 0.1 (step)
    oreo_variant: str = "token"
    oreo_average: str = "trajectory"  # loss mean per trajectory then batch (jwhj/OREO); "position": all at once
    oreo_value_after_action: bool = False  # also train V at the state right after each action (turnrl's earlier rule)

    # ---- DPO / SimPO ----
    dpo_beta: float = 0.1
    simpo_beta: float = 2.0
    simpo_gamma: float = 1.0
    max_pairs_per_task: int = 8

    # ---- evaluation, logging, checkpoints ----
    eval_tasks: int = 16
    eval_every: int = 0  # iterations; 0: only at the end
    eval_temperature: float = 0.0  # of the scoring policy's candidate softmax; 0 = greedy
    eval_k: int = 0  # > 0: also evaluate value-guided selection with K samples (OREO only)
    eval_seed_offset: int = 1_000_000_000
    eval_env_kwargs: dict[str, Any] | None = None  # None: env_kwargs (held-out seeds of the training games)
    max_steps: int = 20
    num_envs: int = 4
    out_dir: str = "runs/offline"
    save_every: int = 0
    keep_checkpoints: int = 2
    tensorboard: bool = False
    plot: bool = True
    progress: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        checks = [
            (self.method in METHODS, f"method must be one of {METHODS}"),
            (self.oreo_variant in OREO_VARIANTS, f"oreo_variant must be one of {OREO_VARIANTS}"),
            (self.oreo_average in ("trajectory", "position"), "oreo_average must be trajectory or position"),
            (self.prompt in ("compact", "default"), "prompt must be compact or default"),
            (self.iterations >= 0 and self.batch_trajectories >= 1, "iterations >= 0, batch_trajectories >= 1"),
            (self.lr > 0 and self.value_lr > 0 and self.max_grad_norm > 0, "learning rates and max_grad_norm > 0"),
            (self.beta > 0, "beta must be > 0"),
            (self.eval_k >= 0 and self.max_steps >= 1, "eval_k >= 0, max_steps >= 1"),
            (self.train_layers is None or self.train_layers >= 1, "train_layers must be >= 1 or null"),
            (self.autocast in ("off", "bf16"), "autocast must be off or bf16"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"invalid OfflineConfig: {message}")

    @property
    def kl_coef(self) -> float:
        if self.alpha is not None:
            return self.alpha
        return 0.1 if self.oreo_variant == "step" else 0.01
