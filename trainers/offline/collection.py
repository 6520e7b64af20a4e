"""Collecting offline data: a per-step mixture of agents, with what each agent saw kept on its step.

`MixtureAgent` picks, independently at every step of every episode, one of its agents with the
given probabilities ("expert:0.7,random:0.3" is a noisy expert: each action is the expert's with
probability 0.7). Its log maps each decision to the admissible actions that were offered and the
agent that answered, so `collect_dataset` can store them in `step.info` (the rollout keeps only
scalar info) and offline prompts can be rebuilt exactly as the policy would see them.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from turnrl.trainers.offline.datasets import ADMISSIBLE_KEY
from turnrl.types import AgentInput, AgentOutput, Trajectory

AGENT_KEY = "behaviour_agent"


def parse_mixture(text: str) -> list[tuple[str, float]]:
    """"expert:0.5,random:0.5" -> [("expert", 0.5), ("random", 0.5)]; a spec without a weight gets 1.

    The weight is the part after the LAST colon when it parses as a number, so `hf:/models/x:0.3` works.
    Weights are normalised to sum to 1.
    """
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise ValueError("--agent needs at least one agent spec, e.g. expert:0.5 random:0.5")
    out = []
    for part in parts:
        spec, sep, weight = part.rpartition(":")
        try:
            w = float(weight) if sep else 1.0
        except ValueError:
            spec, w = part, 1.0
        else:
            spec = spec if sep else part
        if not np.isfinite(w) or w < 0:
            raise ValueError(f"agent weight must be a finite number >= 0, got {part!r}")
        out.append((spec, w))
    total = sum(w for _, w in out)
    if total <= 0:
        raise ValueError(f"agent weights sum to 0 in {text!r}")
    return [(s, w / total) for s, w in out]


def _key(x: AgentInput) -> tuple:
    return (x.task, x.observation, tuple(x.history))


class MixtureAgent:
    name = "mixture"

    def __init__(self, agents: Sequence[Any], weights: Sequence[float], names: Sequence[str], seed: int = 0):
        if not (len(agents) == len(weights) == len(names)) or not agents:
            raise ValueError("need as many agents as weights and names, at least one")
        self.agents, self.weights, self.names = list(agents), np.asarray(weights, dtype=float), list(names)
        self.rng = np.random.default_rng(seed)
        self.log: dict[tuple, tuple[list[str] | None, str]] = {}

    def act(self, inputs: list[AgentInput]) -> list[AgentOutput]:
        picks = self.rng.choice(len(self.agents), size=len(inputs), p=self.weights)
        outputs: list[AgentOutput | None] = [None] * len(inputs)
        for a in np.unique(picks):
            rows = [i for i in range(len(inputs)) if picks[i] == a]
            for i, out in zip(rows, self.agents[a].act([inputs[i] for i in rows])):
                outputs[i] = out
        for x, a in zip(inputs, picks):
            self.log[_key(x)] = (list(x.admissible_actions) if x.admissible_actions else None, self.names[a])
        return outputs  # type: ignore[return-value]

    def annotate(self, trajectories: Sequence[Trajectory]) -> None:
        """Stores the admissible actions and the acting agent of each step in `step.info`."""
        for traj in trajectories:
            for t, step in enumerate(traj.steps):
                key = (traj.task, step.observation, tuple((s.observation, s.action) for s in traj.steps[:t]))
                admissible, name = self.log.get(key, (None, None))
                step.info[ADMISSIBLE_KEY] = admissible
                step.info[AGENT_KEY] = name


def collect_dataset(env_id: str, mixture: Sequence[tuple[str, float]], episodes: int, *, seed: int = 0,
                    group_size: int = 1, max_steps: int = 50, num_envs: int = 4, backend: str = "inprocess",
                    env_kwargs: dict[str, Any] | None = None, progress: bool = False,
                    pool_kwargs: dict[str, Any] | None = None, on_episode: Callable[[Trajectory], None] | None = None,
                    finished: Sequence[Trajectory] = ()) -> list[Trajectory]:
    """`episodes` tasks (seeds seed, seed+1, ...) each run `group_size` times under the agent mixture.

    `pool_kwargs` go to `make_pool` (timeouts); `on_episode` sees each annotated trajectory as it
    finishes; `finished` are the episodes an interrupted collection already wrote (not run again)."""
    from turnrl.agents.registry import make_agent
    from turnrl.envs.pool import make_pool
    from turnrl.rollout import TaskSpec, collect

    agents = [make_agent(spec, seed=seed + i) for i, (spec, _) in enumerate(mixture)]
    agent = MixtureAgent(agents, [w for _, w in mixture], [s for s, _ in mixture], seed=seed)
    tasks = [TaskSpec(seed=seed + i) for i in range(episodes)]

    def done(traj: Trajectory) -> None:
        agent.annotate([traj])
        traj.metadata["agents"] = ",".join(f"{s}:{w:g}" for s, w in mixture)
        if on_episode is not None:
            on_episode(traj)

    with make_pool(env_id, num_envs, backend, env_kwargs=env_kwargs, **(pool_kwargs or {})) as pool:
        return collect(pool, agent, tasks, group_size=group_size, max_steps=max_steps, progress=progress,
                       on_episode=done, finished=finished)
