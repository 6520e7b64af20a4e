"""Rolling out groups of episodes for the trainer.

`rollout` uses the shared pool and rollout loop (`turnrl.envs.pool.make_pool`,
`turnrl.rollout.collect`) when they are installed. Until then (they are built in parallel)
`collect_lockstep` plays the same contract in-process: every task runs `group_size` times with
identical seed and options under one group id, all live episodes step together so the policy
sees one batch per turn, and each Step gets the env's fields and the agent's token ids.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from turnrl.types import AgentInput, Step, Trajectory


@dataclass
class Task:
    seed: int
    options: dict[str, Any] | None = None
    task_id: str | None = None


def shared_rollout_available() -> bool:
    try:
        import turnrl.envs.pool  # noqa: F401
        import turnrl.rollout  # noqa: F401
    except ImportError:
        return False
    return True


def make_envs(env_id: str, n: int, env_kwargs: dict[str, Any]) -> list[gym.Env]:
    from turnrl.envs.registration import register_all

    register_all()
    return [gym.make(env_id, **env_kwargs) for _ in range(n)]


def collect_lockstep(envs: list[gym.Env], agent: Any, tasks: list[Task], group_size: int, max_steps: int,
                     env_id: str | None = None, group_prefix: str = "") -> list[Trajectory]:
    """Runs len(tasks) * group_size episodes, len(envs) at a time; trajectories in (task, member) order."""
    jobs = [(t, k) for t, task in enumerate(tasks) for k in range(group_size)]
    results: list[Trajectory | None] = [None] * len(jobs)
    for start in range(0, len(jobs), len(envs)):
        wave = jobs[start:start + len(envs)]
        for slot, traj in zip(range(start, start + len(wave)), _play_wave(envs, agent, tasks, wave, max_steps,
                                                                          env_id, group_prefix)):
            results[slot] = traj
    return [t for t in results if t is not None]


def _play_wave(envs, agent, tasks, wave, max_steps, env_id, group_prefix) -> list[Trajectory]:
    trajs, obs, infos = [], [], []
    for env, (t, k) in zip(envs, wave):
        task = tasks[t]
        o, info = env.reset(seed=task.seed, options=task.options)
        trajs.append(Trajectory(task_id=task.task_id or str(info.get("game", task.seed)), seed=task.seed,
                                group_id=f"{group_prefix}{t}", task=str(info.get("task", ""))))
        obs.append(o)
        infos.append(info)
    live = list(range(len(wave)))
    for step in range(max_steps):
        if not live:
            break
        inputs = [AgentInput(observation=obs[i], task=trajs[i].task,
                             history=[(s.observation, s.action) for s in trajs[i].steps],
                             admissible_actions=infos[i].get("admissible_actions"), step=step, info=infos[i],
                             env_id=env_id) for i in live]
        outputs = agent.act(inputs)
        still = []
        for i, out in zip(live, outputs):
            o, r, term, trunc, info = envs[i].step(out.action if out.valid and out.action else "")
            trunc = trunc or (step == max_steps - 1 and not term)
            trajs[i].steps.append(Step(
                observation=obs[i], action=out.action, reward=float(r), terminated=term, truncated=trunc,
                end_reason=("won" if info.get("won") else "terminated") if term else ("max_steps" if trunc else None),
                valid=bool(out.valid and info.get("valid", True)),
                invalid_reason=out.invalid_reason or info.get("invalid_reason"),
                state_key=infos[i].get("state_key"), obs_key=infos[i].get("obs_key"), t=step,
                reward_components=dict(info.get("reward_components") or {}),
                prompt_ids=out.prompt_ids, response_ids=out.response_ids, response_logprobs=out.response_logprobs))
            trajs[i].won = bool(info.get("won", False))
            obs[i], infos[i] = o, info
            if not (term or trunc):
                still.append(i)
        live = still
    return trajs


def summarize(trajectories: list[Trajectory]) -> dict[str, float]:
    """Episode statistics the trainer logs (same keys as `turnrl.rollout.summarize`)."""
    n = len(trajectories)
    steps = sum(t.length for t in trajectories)
    if n == 0:
        return {"success_rate": 0.0, "mean_return": 0.0, "mean_length": 0.0, "invalid_rate": 0.0, "n_episodes": 0}
    return {"success_rate": sum(t.won for t in trajectories) / n,
            "mean_return": sum(t.episode_return for t in trajectories) / n,
            "mean_length": steps / n,
            "invalid_rate": sum(not s.valid for t in trajectories for s in t.steps) / max(steps, 1),
            "n_episodes": n}
