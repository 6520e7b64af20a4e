"""`turnrl/ALFWorld-v0`: ALFWorld's text games (TextWorld PDDL engine) as a turnrl `TextEnv`.

Settings come from constructor kwargs and can be overridden per episode in `reset(options=...)`:
`split` ("train" | "valid_seen" | "valid_unseen"), `task_types` (names, aliases or 1-6), `game`
(index, `<task folder>/<trial>` or path; otherwise the seed picks one), `data_dir`, `reward`
("success": 1 on a win; "gigpo10": 10 x won as the GiGPO reference uses) and `expert`
("handcoded+planner", the default: ALFWorld's hand-coded expert until it cycles, then the PDDL
planner | "handcoded" | "planner" | "none"). The same seed and options always start the same game
in the same state, so group members reset identically on any pool backend.

`info` carries the contract keys plus `task_type`, `game`, `split` and `expert_action`.
`state_key` hashes the PDDL facts the engine holds (true state); `obs_key` is ALFWorld's raw
observation (the GiGPO paper's anchor). A command that is not admissible gets ALFWorld's own
"Nothing happens." and `valid=False`; unusable text (empty, huge, control characters) never
reaches the engine (see `TextEnv`). The PDDL engine runs a command only when it equals one
admissible command, so chained commands (`look. inventory`, a whole plan joined with ". ") and
interpreter words (quit, save, restart) change nothing: it has no parser that splits or meta verbs.
"""
from __future__ import annotations

import os
from typing import Any

from turnrl.envs.alfworld import engine
from turnrl.envs.alfworld import snapshot as alf_snapshot
from turnrl.envs.alfworld.games import (
    Game,
    find_game,
    list_games,
    list_tasks,
    parse_task_types,
    split_name,
)
from turnrl.envs.base import TextEnv

REWARDS = {"success": 1.0, "gigpo10": 10.0}
SETTINGS = ("split", "task_types", "game", "data_dir", "reward", "expert")


class ALFWorldEnv(TextEnv):
    """One ALFWorld game at a time; see the module docstring for settings and info keys."""

    metadata = {**TextEnv.metadata, "snapshot": "exact"}  # PDDL operators + bookkeeping (snapshot.py)
    _snapshot, _restore = alf_snapshot.snapshot, alf_snapshot.restore
    step = alf_snapshot.step  # TextEnv.step, recording the PDDL operator each step applies

    list_tasks = staticmethod(list_tasks)

    def __init__(self, split: str = "train", task_types: Any = None, game: str | int | None = None,
                 data_dir: str | os.PathLike | None = None, reward: str = "success",
                 expert: str = "handcoded+planner",
                 expert_max_steps: int = 200, render_mode: str | None = None):
        super().__init__(render_mode=render_mode)
        self.defaults = self._checked({"split": split, "task_types": task_types, "game": game,
                                       "data_dir": data_dir, "reward": reward, "expert": expert})
        self.expert_max_steps = int(expert_max_steps)
        self.game: Game | None = None
        self._engine = None  # textworld env, created at the first reset
        self._loaded: tuple[str, str] | None = None  # (game file, expert) the engine is set up for
        self._expert: engine.HandcodedExpert | engine.HandcodedThenPlanner | None = None
        self._state: Any = None
        self._task = ""
        self._settings: dict[str, Any] = dict(self.defaults)
        self._done = True

    # -- settings ---------------------------------------------------------------------------
    @staticmethod
    def _checked(settings: dict[str, Any]) -> dict[str, Any]:
        unknown = set(settings) - set(SETTINGS) - {"task_id", "task_type"}
        if unknown:
            raise ValueError(f"unknown ALFWorld options {sorted(unknown)}; known: {list(SETTINGS)}")
        out = dict(settings)
        if "split" in out:
            out["split"] = split_name(str(out["split"]))
        if "task_types" in out:
            out["task_types"] = parse_task_types(out["task_types"])
        if "reward" in out and out["reward"] not in REWARDS:
            raise ValueError(f"unknown ALFWorld reward {out['reward']!r}; known: {sorted(REWARDS)}")
        if "expert" in out:
            out["expert"] = str(out["expert"] or "none")
            if out["expert"] not in engine.EXPERTS:
                raise ValueError(f"unknown ALFWorld expert {out['expert']!r}; known: {list(engine.EXPERTS)}")
        return out

    def _pick_game(self, settings: dict[str, Any]) -> Game:
        split, types, data_dir = settings["split"], settings["task_types"], settings["data_dir"]
        if settings.get("game") is not None:
            return find_game(settings["game"], split, types, data_dir)
        games = list_games(split, types, data_dir)
        if not games:
            raise ValueError(f"ALFWorld split {split!r} has no games of task types {list(types)}")
        return games[int(self.np_random.integers(len(games)))]

    # -- TextEnv hooks ----------------------------------------------------------------------
    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        settings = {**self.defaults, **self._checked(options)}
        self.game = self._pick_game(settings)
        expert = settings["expert"]
        if self._engine is None:
            self._engine = engine.new_engine(expert)
        if self._loaded != (str(self.game.path), expert):
            engine.set_expert_infos(self._engine, expert)
            engine.load_game(self._engine, str(self.game.path))
            self._loaded = (str(self.game.path), expert)
        self._settings = settings
        self._state = self._engine.reset()
        self._done = False
        expert_action = None
        if expert.startswith("handcoded"):
            self._expert = self._new_expert(expert)
            seed = int(self.np_random.integers(2**31))
            expert_action = self._expert.reset(str(self.game.path), self._state, seed=seed)
        elif expert == "planner":
            expert_action = engine.planner_action(self._state)
        obs = engine.strip_banner(self._state["feedback"])
        self._task = engine.task_sentence(obs)
        return obs, self._info(obs, valid=True, expert_action=expert_action)

    def _new_expert(self, expert: str) -> engine.HandcodedExpert | engine.HandcodedThenPlanner:
        """The expert object for `expert`, kept across episodes when the kind stays the same."""
        if expert == "handcoded+planner":
            if isinstance(self._expert, engine.HandcodedThenPlanner) and self._expert.env is self._engine:
                return self._expert
            return engine.HandcodedThenPlanner(self._engine, self.expert_max_steps)
        if isinstance(self._expert, engine.HandcodedExpert):
            return self._expert
        return engine.HandcodedExpert(self.expert_max_steps)

    def _step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self._engine is None:
            raise RuntimeError("ALFWorldEnv.step() called before reset()")
        if self._done:
            return self.invalid_step("the episode has ended; call reset()")
        command = action.strip()
        valid = command in self._state["admissible_commands"]
        self._state, _, _ = self._engine.step(command)
        won = bool(self._state["won"])
        self._done = won
        expert = self._settings["expert"]
        expert_action = None
        if expert.startswith("handcoded") and self._expert is not None and not won:
            expert_action = self._expert.next_action(self._state, command)
        elif expert == "planner" and not won:
            expert_action = engine.planner_action(self._state)
        obs = engine.strip_banner(self._state["feedback"])
        info = self._info(obs, valid=valid, expert_action=expert_action)
        if not valid:
            info["invalid_reason"] = "not an admissible command"
        reward = REWARDS[self._settings["reward"]] * won
        info["reward_components"] = {"won": float(won)}
        return obs, reward, won, False, info

    def _info(self, obs: str, valid: bool, expert_action: str | None) -> dict[str, Any]:
        assert self.game is not None
        info = {
            "admissible_actions": list(self._state["admissible_commands"]),
            "won": bool(self._state["won"]),
            "valid": valid,
            "state_key": engine.state_key(self._state),
            "obs_key": obs,
            "task": self._task,
            "task_type": self.game.task_type,
            "game": self.game.game_id,
            "split": self.game.split,
            "expert_action": expert_action,
        }
        if self._expert is not None and self._settings["expert"].startswith("handcoded"):
            if self._expert.failure:
                info["expert_failure"] = self._expert.failure
            if getattr(self._expert, "planning_since", None) is not None:
                info["expert_planner_since"] = self._expert.planning_since
        return info

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        super().close()
