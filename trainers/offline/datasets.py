"""Offline datasets: logged trajectories on disk, and their tokenization for offline losses.

A dataset directory holds `trajectories.jsonl` (lossless, `turnrl.io`) and `meta.json` (how it
was collected); `export_hf` writes the same records as a Hugging Face `datasets` folder.

Offline steps usually come from agents without token ids (expert, random), so prompts are
rebuilt from the trajectory with the same prompt code the policies use (`agents.prompts`): the
history, the observation and the admissible actions the agent saw, which `turnrl collect` keeps in
`step.info["admissible_actions"]`. The response is the scoring policy's `<action>a</action><eos>`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from turnrl.io import atomic_write_json, save_trajectories, to_hf_dataset
from turnrl.trainers.offline.validation import load_checked
from turnrl.types import AgentInput, Trajectory

TRAJECTORIES = "trajectories.jsonl"
META = "meta.json"
ADMISSIBLE_KEY = "admissible_actions"


def save_dataset(directory: str | Path, trajectories: Sequence[Trajectory], meta: dict[str, Any] | None = None) -> Path:
    """Writes the trajectories (atomic JSONL) and a small meta record with counts."""
    directory = Path(directory)
    save_trajectories(directory / TRAJECTORIES, trajectories)
    counts = {"n_trajectories": len(trajectories), "n_steps": sum(t.length for t in trajectories),
              "n_won": sum(t.won for t in trajectories)}
    atomic_write_json(directory / META, {**(meta or {}), **counts})
    return directory


def load_dataset(directory: str | Path) -> list[Trajectory]:
    """Reads a dataset directory (or a bare JSONL file). Every record is type-checked
    (`validation.py`): a corrupt line, a wrong type (`won: "false"`, a NaN reward, a null action)
    or runaway nesting raises ValueError naming the file and line."""
    path = Path(directory)
    path = path / TRAJECTORIES if path.is_dir() else path
    if not path.is_file():
        raise FileNotFoundError(f"{directory}: no {TRAJECTORIES} (make one with `turnrl collect`)")
    return load_checked(path)


def load_meta(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / META
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def export_hf(directory: str | Path, out: str | Path | None = None) -> Path:
    """Saves the dataset as a Hugging Face `datasets` folder (`<directory>/hf` by default)."""
    out = Path(out) if out is not None else Path(directory) / "hf"
    to_hf_dataset(load_dataset(directory)).save_to_disk(str(out))
    return out


def agent_inputs(traj: Trajectory, env_id: str | None = None) -> list[AgentInput]:
    """What the agent saw at each step, rebuilt from the trajectory (full history, as rollout gives it)."""
    inputs = []
    for t, step in enumerate(traj.steps):
        inputs.append(AgentInput(observation=step.observation, task=traj.task,
                                 history=[(s.observation, s.action) for s in traj.steps[:t]],
                                 admissible_actions=step.info.get(ADMISSIBLE_KEY), step=t, env_id=env_id))
    return inputs


@dataclass
class TokenizedStep:
    """One step as token ids: the prompt the policy would see and the action it emitted."""

    prompt_ids: list[int]
    response_ids: list[int]


@dataclass
class TokenizedTrajectory:
    steps: list[TokenizedStep]
    reward: float  # episode return R
    won: bool
    task_id: str
    rewards_to_go: list[float] | None = None  # per step: sum of the rewards from that step on (None: R everywhere)

    def step_targets(self) -> list[float]:
        """The reward each step's soft-Bellman target telescopes to: its reward-to-go (R for sparse rewards)."""
        return list(self.rewards_to_go) if self.rewards_to_go is not None else [self.reward] * len(self.steps)


def rewards_to_go(traj: Trajectory) -> list[float]:
    """Undiscounted sum of the step rewards from each step to the end (OREO's undiscounted Bellman):
    rewards [1, 0] give [1, 0], so V(s_2) is not credited with a reward that came before it."""
    out, total = [], 0.0
    for step in reversed(traj.steps):
        total += float(step.reward)
        out.append(total)
    return out[::-1]


def action_ids(tokenizer: Any, action: str, eos_id: int | None) -> list[int]:
    """The scoring policy's response for `action`: `<action>a</action>` then EOS."""
    from turnrl.agents.parsing import CLOSE, OPEN

    ids = list(tokenizer.encode(f"{OPEN}{action}{CLOSE}", add_special_tokens=False))
    return ids + ([eos_id] if eos_id is not None else [])


def tokenize_trajectories(trajectories: Sequence[Trajectory], tokenizer: Any, env_id: str | None = None,
                          history_window: int | None = 2, max_prompt_tokens: int | None = 1024,
                          template: Any = None, eos_id: int | None = None) -> list[TokenizedTrajectory]:
    """Prompt and response ids for every step; trajectories without steps are dropped.

    `eos_id` must be the EOS the scoring policy appends (its `eos_ids[0]`); default the tokenizer's.
    """
    from turnrl.agents.prompts import fit_prompt_ids

    eos_id = tokenizer.eos_token_id if eos_id is None else eos_id
    out = []
    for traj in trajectories:
        if not traj.steps:
            continue
        steps = [TokenizedStep(fit_prompt_ids(tokenizer, x, history_window, max_prompt_tokens, template).ids,
                               action_ids(tokenizer, s.action, eos_id))
                 for x, s in zip(agent_inputs(traj, env_id), traj.steps)]
        out.append(TokenizedTrajectory(steps, traj.episode_return, traj.won, traj.task_id, rewards_to_go(traj)))
    return out


def preference_pairs(trajectories: Sequence[TokenizedTrajectory], max_pairs_per_task: int = 8
                     ) -> list[tuple[TokenizedTrajectory, TokenizedTrajectory]]:
    """(chosen, rejected) pairs of a successful and a failed trajectory of the same task.

    Pairs are formed round-robin so every trajectory is used before any is reused; at most
    `max_pairs_per_task` per task keeps easy tasks with many episodes from dominating.
    """
    by_task: dict[str, tuple[list, list]] = {}
    for t in trajectories:
        wins, losses = by_task.setdefault(t.task_id, ([], []))
        (wins if t.won else losses).append(t)
    pairs = []
    for wins, losses in by_task.values():
        n = min(max(len(wins), len(losses)), max_pairs_per_task) if wins and losses else 0
        pairs += [(wins[i % len(wins)], losses[i % len(losses)]) for i in range(n)]
    return pairs
