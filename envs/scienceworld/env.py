"""`turnrl/ScienceWorld-v0`: the 30 ScienceWorld tasks on the real simulator, as a turnrl `TextEnv`.

Settings are constructor kwargs, each overridable per episode in `reset(options=...)`:
`task` (None = all 30; a name such as "boil", an id such as "1-1", comma-separated names or a
list), `split` ("train" | "dev" | "test", ScienceWorld's own variation split), `variation` (an
engine variation index inside that split; otherwise the seed picks one) and `simplifications`
(ScienceWorld's string, e.g. "easy") and `expert` (generate the gold path). The seed picks the task (when several are allowed) and the
variation from `self.np_random`, so the same seed and options start every group member, on any
backend, in the identical state.

Per step: the observation is the engine's text; `info["admissible_actions"]` are the valid
action-object combinations the engine returns with that step; reward is the score change / 100;
`won` when the task is completed (score 100); ScienceWorld's failure ending (score -100, e.g.
focusing on the wrong object) terminates the episode as a loss (`end_reason` "failed").
The env counts no steps and the engine's own step limit is off (`engine.py`): the limit is
turnrl's one `StepLimit`, which `turnrl.envs.registration.make` wraps around it (300 for the
registered id; `max_steps=N` or `max_episode_steps=N` there, `--max-steps` on the CLI); the
constructor's old `max_steps` kwarg is gone, and the class built directly has no limit. Text the
parser cannot map to an action gets the engine's "No known action matches that input." and
`valid=False`; the parser maps a whole line to one action template, so chained commands
(`look around. inventory`, the gold path joined with ". ") and interpreter words (quit, save)
are such text and change nothing. `info["expert_action"]` is the next action of the engine's gold path while the
agent is on it (None once it leaves it, or with `expert=False`).

`state_key` (`state_key="tree"`, the default) is a canonical hash of the engine's full object
tree: the true state (see `state.py`); `state_key="observation"` uses the observation text
instead and saves the ~5 ms the tree costs per step. A step the parser rejects keeps the previous
key without asking the engine for its tree (no action ran, so no tick either).

Determinism: the same seed and options give the same start state (same observation and state
key, also across JVMs). Some engine dynamics are random beyond that: pollination and offspring
in the genetics and plant tasks, and electrical propagation can light a bulb a tick earlier or
later. With `expert=True` each episode follows the engine's own flow (load with gold path, then
its reset), so the gold path matches the run; with `expert=False` each episode is a fresh load,
which is cheaper.

The env starts its own JVM at the first reset, reuses it across resets, and closes it in
`close()`, when garbage collected and at interpreter exit. If the JVM dies or hangs, `reset` and
`step` raise `ScienceWorldJVMError`; the next `reset` starts a fresh JVM.
"""
from __future__ import annotations

from typing import Any, Sequence

from turnrl.envs.base import TextEnv
from turnrl.envs.scienceworld.engine import (
    DEFAULT_JAVA_OPTS,
    UNKNOWN_ACTION,
    EngineStep,
    ScienceWorldJVMError,
    Simulator,
)
from turnrl.envs.scienceworld.state import state_key as tree_state_key
from turnrl.envs.scienceworld.tasks import TASK_IDS, list_tasks, split_name, task_names, variation_splits
from turnrl.types import END_FAILED, END_TERMINATED, END_WON

SETTINGS = ("task", "split", "variation", "simplifications", "expert")
STATE_KEYS = ("tree", "observation")

__all__ = ["ScienceWorldTextEnv", "ScienceWorldJVMError", "list_tasks"]


class ScienceWorldTextEnv(TextEnv):
    """One ScienceWorld task variation at a time; see the module docstring."""

    list_tasks = staticmethod(list_tasks)
    # pool limits (turnrl.envs.pool.default_timeouts): a reset regenerates the gold path, which takes
    # over a minute for the genetics tasks on a busy machine, and the engine's own read_timeout is 300 s
    default_reset_timeout = 600.0
    # ScienceWorld's engine offers no state to save or load: snapshots record the reset and the
    # actions and replay them (turnrl.envs.snapshot; the cost is measured in tests/snapshots)
    metadata = {**TextEnv.metadata, "snapshot": "replay"}

    def __init__(self, task: str | Sequence[str] | None = None, split: str = "train", variation: int | None = None,
                 simplifications: str = "", expert: bool = True, state_key: str = "tree",
                 read_timeout: float | None = 300.0,
                 java_opts: Sequence[str] = DEFAULT_JAVA_OPTS, render_mode: str | None = None):
        super().__init__(render_mode=render_mode)
        if state_key not in STATE_KEYS:
            raise ValueError(f"state_key must be one of {STATE_KEYS}, got {state_key!r}")
        self.defaults = self._checked(dict(task=task, split=split, variation=variation,
                                           simplifications=simplifications, expert=expert))
        self.state_key_mode = state_key
        self.read_timeout, self.java_opts = read_timeout, tuple(java_opts)
        self.simulator: Simulator | None = None  # started at the first reset
        self._episode: dict[str, Any] = {}
        self._gold: list[str] = []
        self._gold_next: int | None = None  # index of the next gold action; None once off the path
        self._score = 0
        self._done = True

    # -- settings ---------------------------------------------------------------------------
    @staticmethod
    def _checked(settings: dict[str, Any]) -> dict[str, Any]:
        unknown = set(settings) - set(SETTINGS) - {"task_id"}
        if unknown:
            raise ValueError(f"unknown ScienceWorld options {sorted(unknown)}; known: {list(SETTINGS)}")
        out = {k: v for k, v in settings.items() if k != "task_id"}
        if "task" in out:
            out["task"] = task_names(out["task"])
        if "split" in out:
            out["split"] = split_name(out["split"])
        if out.get("variation") is not None:
            try:
                out["variation"] = int(out["variation"])
            except (TypeError, ValueError):
                raise ValueError(f"variation must be an integer, got {out['variation']!r}") from None
        if "expert" in out and not isinstance(out["expert"], bool):
            raise ValueError(f"expert must be True or False, got {out['expert']!r}")
        if "simplifications" in out and not isinstance(out["simplifications"], str):
            raise ValueError(f"simplifications must be a comma-separated string, got {out['simplifications']!r}")
        return out

    def _pick(self, settings: dict[str, Any]) -> tuple[str, int]:
        """(task, variation) for this episode: fixed by the settings, else drawn from the seed."""
        tasks = settings["task"]
        task = tasks[0] if len(tasks) == 1 else tasks[int(self.np_random.integers(len(tasks)))]
        variations = variation_splits([task], self._simulator())[task][settings["split"]]
        variation = settings.get("variation")
        if variation is None:
            return task, variations[int(self.np_random.integers(len(variations)))]
        if variation not in variations:
            raise ValueError(f"variation {variation} of {task!r} is not in its {settings['split']!r} split "
                             f"({variations[0]}..{variations[-1]})")
        return task, variation

    @property
    def gold_path(self) -> list[str]:
        """The engine's gold path for the current episode (empty with `expert=False`)."""
        return list(self._gold)

    def _simulator(self) -> Simulator:
        if self.simulator is None or not self.simulator.alive:
            if self.simulator is not None:
                self.simulator.close()
            self.simulator = Simulator(self.java_opts, self.read_timeout)
        return self.simulator

    # -- TextEnv hooks ----------------------------------------------------------------------
    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        settings = {**self.defaults, **self._checked(options)}
        self._done = True  # until the reset below succeeds
        task, variation = self._pick(settings)
        sim = self._simulator()
        simplifications = settings["simplifications"]
        if settings["expert"]:
            # The engine's own flow (load with gold path, then its reset): some tasks are random
            # (pollination in the genetics tasks), and the gold path only holds for the run it
            # was generated with, which the engine's reset replays.
            held = (sim.taskName, sim.variationIdx, sim.simplificationStr, sim.goldPathGenerated)
            if held != (task, variation, simplifications, True):
                sim.load_variation(task, variation, simplifications, True)
            sim.restart_episode()
            self._gold = sim.gold_actions()
        else:
            # Without an expert a fresh load is the cheaper clean start (no gold path to regenerate).
            sim.load_variation(task, variation, simplifications, False)
            self._gold = []
        first = sim.step_once("look around")  # ScienceWorld's own first move (as its reset does)
        self._episode = {"task_name": task, "task_id": TASK_IDS[task], "variation": variation,
                         "split": settings["split"], "simplifications": settings["simplifications"],
                         "task": sim.task_description()}
        self._score, self._done = first.score, False
        self._gold_next = 0 if self._gold else None
        return first.observation, self._info(first, valid=True)

    def _step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self.simulator is None or not self._episode:
            raise RuntimeError("ScienceWorldTextEnv.step() called before reset()")
        if self._done:
            return self.invalid_step("the episode has ended; call reset()")
        command = action.strip()
        self._follow_gold(command)
        out = self.simulator.step_once(command)
        reward = (out.score - self._score) / 100.0
        self._score = out.score
        won, failed = out.completed and out.score >= 100, out.score < 0
        terminated = out.completed or failed
        self._done = terminated
        valid = out.observation.strip() != UNKNOWN_ACTION
        info = self._info(out, valid=valid)
        info["reward_components"] = {"score_delta": reward}
        if not valid:
            info["invalid_reason"] = "ScienceWorld's parser matched no action"
        if terminated:
            info["end_reason"] = END_WON if won else END_FAILED if failed else END_TERMINATED
        return out.observation, reward, terminated, False, info

    def _follow_gold(self, command: str) -> None:
        i = self._gold_next
        if i is not None:
            on_path = i < len(self._gold) and command.lower() == self._gold[i].strip().lower()
            self._gold_next = i + 1 if on_path else None

    def _info(self, out: EngineStep, valid: bool) -> dict[str, Any]:
        assert self.simulator is not None
        if self.state_key_mode != "tree":
            key = out.observation
        elif not valid and self._last_info.get("state_key") is not None:
            # the parser matched no action, so the engine ran no tick: the tree is the one already keyed
            key = self._last_info["state_key"]
        else:
            key = tree_state_key(self.simulator.object_tree_json())
        i = self._gold_next
        return {
            "admissible_actions": out.valid_actions,
            "won": out.completed and out.score >= 100,
            "valid": valid,
            "state_key": key,
            "obs_key": out.observation,
            "score": out.score,
            "moves": out.moves,
            "expert_action": self._gold[i] if i is not None and i < len(self._gold) and not self._done else None,
            **self._episode,
        }

    def close(self) -> None:
        if self.simulator is not None:
            self.simulator.close()
            self.simulator = None
        self._episode, self._done = {}, True
        super().close()
