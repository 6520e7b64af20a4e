"""The trainer's configuration: one flat dataclass, every default written down, loadable from YAML.

Flat on purpose (CleanRL style): a YAML file is a list of `name: value` lines and a typo is an
error naming the unknown key, never a silently ignored setting.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from turnrl.trainers.yaml_config import YamlConfig

LOSS_AGGREGATIONS = ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum")
KL_ESTIMATORS = ("k1", "k2", "k3")
POLICY_MODES = ("score", "generate")
PROMPTS = ("default", "compact")
ROLLOUT_ENGINES = ("hf", "vllm")


@dataclass
class TrainConfig(YamlConfig):
    # ---- environment and rollout ----
    env_id: str = "turnrl/ALFWorld-v0"
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    eval_env_kwargs: dict[str, Any] | None = None  # held-out split; None: same kwargs, disjoint seeds
    pool_backend: str = "inprocess"  # inprocess | subprocess | ray
    num_envs: int = 8
    step_timeout: float | None = None
    reset_timeout: float | None = None  # a reset taking longer ends that episode unplayed (subprocess, ray)
    tasks_per_iter: int = 4  # groups per iteration
    group_size: int = 4  # episodes per group (same seed and options)
    max_steps: int = 20  # per episode
    train_task_seeds: list[int] | None = None  # None: seeds drawn from range(num_train_tasks)
    num_train_tasks: int = 1_000_000
    eval_seed_offset: int = 1_000_000_000  # eval seeds start here so they never meet training seeds

    # ---- policy ----
    model: str = "tiny"  # tiny | smollm2 | local checkpoint dir
    policy_mode: str = "score"  # score: sample from softmax over admissible actions' log-likelihood
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    dtype: str = "auto"  # auto (bf16 on CUDA, fp32 on CPU) | float32 | bfloat16
    autocast: str = "off"  # bf16: mixed-precision forward/backward over float32 weights (CPU with AVX512-BF16, CUDA)
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    lora_target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    train_layers: int | None = None  # train only the top k decoder layers (LoRA: adapters only there); None: all
    score: str = "mean"  # scoring mode: a candidate's score is the mean | sum of its token log-likelihoods
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 64
    history_window: int = 2
    prompt: str = "default"  # default: the env family's template (agents.prompts); compact: minimal text
    max_prompt_tokens: int = 1024
    policy_batch_size: int = 16
    # hf: rollouts through the trained model itself; vllm (CUDA, generate mode): a vLLM engine per rank
    # beside the trainer, weights synced after every update, behaviour log-probs recomputed by the trainer
    rollout_engine: str = "hf"
    vllm_gpu_memory_utilization: float = 0.4  # share of the GPU the engine may take (training needs the rest)

    # ---- credit ----
    credit: str = "grpo"
    credit_params: dict[str, Any] = field(default_factory=dict)
    invalid_penalty: float = 0.0  # coef >= 0 subtracted on the invalid step's row, every credit method (ref. 0.1)
    dynamic_sampling: bool = False  # drop groups whose advantages are all zero

    # ---- supervised warm start (trainers/sft.py), run once before the first RL iteration ----
    sft_dataset: str | None = None  # a `turnrl collect` directory (or JSONL) of expert trajectories
    sft_epochs: int = 2
    sft_lr: float = 1e-4

    # ---- optimisation ----
    iterations: int = 100
    time_limit_s: float | None = None  # stop starting new iterations after this much wall time
    lr: float = 1e-5
    weight_decay: float = 0.0
    adam_betas: tuple[float, float] = (0.9, 0.999)
    warmup_iterations: int = 0
    max_grad_norm: float = 1.0
    ppo_epochs: int = 1
    mini_batches: int = 1  # optimiser steps per epoch
    micro_batch_tokens: int = 8192  # token budget of one forward/backward (gradient accumulation beyond)
    clip_low: float = 0.2
    clip_high: float = 0.28  # clip-higher (DAPO): a larger upper bound keeps exploration alive
    dual_clip: float | None = 3.0  # bound on the loss of negative-advantage tokens (None: off)
    kl_coef: float = 0.0
    kl_estimator: str = "k3"  # k1 (plain log-ratio) | k2 | k3 (low-variance, unbiased)
    entropy_coef: float = 0.0
    loss_agg: str = "token-mean"

    # ---- evaluation, logging, checkpoints ----
    eval_every: int = 10  # iterations; 0 disables
    eval_tasks: int = 16
    eval_temperature: float = 0.0  # 0: greedy
    out_dir: str = "runs/turnrl"
    save_every: int = 5  # iterations; 0 disables
    export_model: bool = True  # write out_dir/model, a plain checkpoint that `hf:<out_dir>/model` loads
    keep_checkpoints: int = 2
    tensorboard: bool = True
    plot: bool = True
    progress: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        self.adam_betas = tuple(self.adam_betas)  # YAML gives a list
        checks = [
            (self.policy_mode in POLICY_MODES, f"policy_mode must be one of {POLICY_MODES}"),
            (self.prompt in PROMPTS, f"prompt must be one of {PROMPTS}"),
            (self.score in ("mean", "sum"), "score must be mean or sum"),
            (self.autocast in ("off", "bf16"), "autocast must be off or bf16"),
            (self.sft_dataset is None or self.rollout_engine == "hf", "sft_dataset needs rollout_engine hf"),
            (self.sft_epochs >= 1 and self.sft_lr > 0, "sft_epochs must be >= 1 and sft_lr > 0"),
            (self.train_layers is None or self.train_layers >= 1, "train_layers must be >= 1 or null"),
            (self.rollout_engine in ROLLOUT_ENGINES, f"rollout_engine must be one of {ROLLOUT_ENGINES}"),
            (self.rollout_engine != "vllm" or self.policy_mode == "generate",
             "rollout_engine vllm generates actions: it needs policy_mode generate"),
            (self.loss_agg in LOSS_AGGREGATIONS, f"loss_agg must be one of {LOSS_AGGREGATIONS}"),
            (self.kl_estimator in KL_ESTIMATORS, f"kl_estimator must be one of {KL_ESTIMATORS}"),
            (self.group_size >= 1 and self.tasks_per_iter >= 1, "group_size and tasks_per_iter must be >= 1"),
            (self.max_steps >= 1 and self.iterations >= 0, "max_steps must be >= 1, iterations >= 0"),
            (self.ppo_epochs >= 1 and self.mini_batches >= 1, "ppo_epochs and mini_batches must be >= 1"),
            (self.micro_batch_tokens >= 1, "micro_batch_tokens must be >= 1"),
            (0 <= self.clip_low < 1 and self.clip_high >= 0, "need 0 <= clip_low < 1 and clip_high >= 0"),
            (self.dual_clip is None or self.dual_clip > 1, "dual_clip must be > 1 or None"),
            (self.lr > 0 and self.max_grad_norm > 0, "lr and max_grad_norm must be > 0"),
            (self.temperature > 0, "temperature must be > 0 for training rollouts"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"invalid TrainConfig: {message}")


def parse_override(text: str) -> tuple[str, Any]:
    """`key=value` from the command line; the value is parsed as YAML (numbers, lists, null)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(f"override must look like key=value, got {text!r}")
    return key.strip(), yaml.safe_load(value)
