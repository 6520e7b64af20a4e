"""The one data model that flows from environments through agents and credit to trainers.

A `Step` is one agent turn, a `Trajectory` one episode of one player, a `Group` the trajectories
started from the same task and seed. Everything is plain Python so it serialises to JSON
losslessly; `turnrl.batch` lowers a list of trajectories to flat numpy rows for `credit/`.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any


# Why an episode ended (`Step.end_reason`, `info["end_reason"]`). Code compares with these
# names, never with literals; an env may give a more specific text of its own (invalid action...).
END_WON = "won"  # the task was solved
END_FAILED = "failed"  # the env ended the episode as a loss (ScienceWorld's failure ending)
END_TERMINATED = "terminated"  # the env ended it, without saying more
END_TRUNCATED = "truncated"  # the env cut it short, without saying more
END_STEP_LIMIT = "step limit"  # the episode's step (or move) limit was reached
END_GAME_OVER = "game over"  # a multi-agent game reached its own end
END_PURCHASE = "purchase"  # WebShop: the agent bought something
END_RESET = "reset before the end"  # a new reset cut the running episode

# The reset option with which one episode asks for a step limit (`collect` sets it; `StepLimit`,
# the one step-limit implementation, reads it and hides it from the env it wraps).
STEP_LIMIT_OPTION = "max_steps"


def at_step_limit(elapsed: int, limit: int | None) -> bool:
    """THE step-limit rule: `elapsed` steps (every step counts, invalid ones too) have reached
    `limit` (None: no limit). `turnrl.envs.wrappers.StepLimit` truncates by it, self-play's move
    limit ends games by it, and `collect` checks by it that an env kept its limit."""
    return limit is not None and elapsed >= limit


@dataclass
class Step:
    """One turn: what the agent saw, what it did, and what came back.

    `observation` is the text the agent acted on (before the action); `reward`, `terminated`,
    `truncated` and `info` are what `env.step(action)` returned. `state_key` is the env's
    canonical key of the true state the agent acted in (or the raw observation where the engine
    exposes no state), `obs_key` the raw observation without history or template.
    """

    observation: str
    action: str
    reward: float = 0.0
    reward_components: dict[str, float] = field(default_factory=dict)
    terminated: bool = False
    truncated: bool = False
    end_reason: str | None = None
    valid: bool = True
    invalid_reason: str | None = None
    state_key: str | None = None
    obs_key: str | None = None
    t: int = 0  # step index; for multi-agent games the joint step index of the whole game
    info: dict[str, Any] = field(default_factory=dict)
    # Filled by LLM agents (token-in, token-out: exactly the ids that were generated).
    prompt_ids: list[int] | None = None
    response_ids: list[int] | None = None
    response_logprobs: list[float] | None = None
    # Filled by scoring agents, whose policy is a softmax over the admissible actions: every
    # candidate's ids (response_ids is one of them) and log pi(action | state) of the chosen one.
    candidate_ids: list[list[int]] | None = None
    action_logprob: float | None = None

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Step":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown Step fields: {sorted(unknown)}")
        return cls(**d)


# info keys that Step stores in its own fields or that are too big to copy into every step
_NOT_IN_STEP_INFO = {"admissible_actions", "state_key", "obs_key", "task", "traceback"}
_MAX_INFO_STR = 2000


def step_info(info: dict[str, Any]) -> dict[str, Any]:
    """The small, JSON-able part of an env's info worth keeping on every Step."""
    out = {}
    for k, v in info.items():
        if k in _NOT_IN_STEP_INFO:
            continue
        if v is None or isinstance(v, (bool, int, float)) or (isinstance(v, str) and len(v) <= _MAX_INFO_STR):
            out[k] = v
    return out


def _key(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else str(value)


def make_step(observation: str, before: dict[str, Any], action: "str | AgentOutput", after: dict[str, Any], *,
              t: int, reward: float = 0.0, terminated: bool = False, truncated: bool = False,
              end_reason: str | None = None, info: dict[str, Any] | None = None) -> Step:
    """THE way a turn becomes a Step (rollouts, the episode recorder and self-play all call it).

    `before` is the info the agent acted on (its state and observation keys), `after` the info
    the env returned (validity, reward components). An agent's output brings its own validity
    and token ids; a plain action string is valid unless the env says otherwise.
    """
    out = action if isinstance(action, AgentOutput) else AgentOutput(action=str(action))
    env_valid = bool(after.get("valid", True))
    invalid_reason = out.invalid_reason if not out.valid else (None if env_valid else after.get("invalid_reason"))
    return Step(
        observation=observation, action=out.action, reward=float(reward),
        reward_components={k: float(v) for k, v in (after.get("reward_components") or {}).items()},
        terminated=bool(terminated), truncated=bool(truncated), end_reason=end_reason,
        valid=bool(out.valid) and env_valid, invalid_reason=invalid_reason,
        state_key=_key(before.get("state_key")), obs_key=_key(before.get("obs_key")), t=t,
        info=step_info(after) if info is None else info, prompt_ids=out.prompt_ids, response_ids=out.response_ids,
        response_logprobs=out.response_logprobs, candidate_ids=out.candidate_ids, action_logprob=out.action_logprob)


@dataclass
class Trajectory:
    """One episode of one player (single-agent envs have player_id None)."""

    task_id: str
    seed: int | None = None
    group_id: str | None = None
    player_id: str | None = None
    task: str = ""  # the goal text
    steps: list[Step] = field(default_factory=list)
    won: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def episode_return(self) -> float:
        return float(math.fsum(s.reward for s in self.steps))

    @property
    def length(self) -> int:
        return len(self.steps)

    @property
    def terminated(self) -> bool:
        return bool(self.steps) and self.steps[-1].terminated

    @property
    def truncated(self) -> bool:
        return bool(self.steps) and self.steps[-1].truncated

    @property
    def end_reason(self) -> str | None:
        return self.steps[-1].end_reason if self.steps else None

    @property
    def invalid_rate(self) -> float:
        return sum(not s.valid for s in self.steps) / len(self.steps) if self.steps else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "steps"}
        d["steps"] = [s.to_dict() for s in self.steps]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Trajectory":
        d = dict(d)
        steps = [Step.from_dict(s) for s in d.pop("steps", [])]
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown Trajectory fields: {sorted(unknown)}")
        return cls(steps=steps, **d)


@dataclass
class Group:
    """The trajectories started from one task and seed, as group-based credit needs them."""

    group_id: str
    trajectories: list[Trajectory] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.trajectories)

    def __iter__(self):
        return iter(self.trajectories)

    @property
    def success_rate(self) -> float:
        return sum(t.won for t in self.trajectories) / len(self.trajectories) if self.trajectories else 0.0


def group_trajectories(trajectories: list[Trajectory]) -> list[Group]:
    """Groups by `group_id`, keeping first-seen order (a None group id makes a singleton group)."""
    groups: dict[str, Group] = {}
    for i, traj in enumerate(trajectories):
        gid = traj.group_id if traj.group_id is not None else f"__single_{i}"
        groups.setdefault(gid, Group(gid)).trajectories.append(traj)
    return list(groups.values())


@dataclass
class AgentInput:
    """What an agent sees at one turn. `history` holds earlier (observation, action) pairs."""

    observation: str
    task: str = ""
    history: list[tuple[str, str]] = field(default_factory=list)
    admissible_actions: list[str] | None = None
    step: int = 0
    info: dict[str, Any] = field(default_factory=dict)
    env_id: str | None = None


@dataclass
class AgentOutput:
    """An agent's answer. LLM agents add the exact token ids and log-probs they generated."""

    action: str
    valid: bool = True
    invalid_reason: str | None = None
    raw_text: str | None = None
    prompt_ids: list[int] | None = None
    response_ids: list[int] | None = None
    response_logprobs: list[float] | None = None
    candidate_ids: list[list[int]] | None = None  # scoring agents: see Step
    action_logprob: float | None = None
