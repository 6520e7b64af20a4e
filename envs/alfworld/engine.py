"""ALFWorld's TextWorld engine and experts, wrapped the way ALFWorld's own text env wraps them.

`new_engine` builds the wrapper stack of `AlfredTWEnv.init_env` (TextWorld's PDDL engine and
`AlfredDemangler` for object names such as "desk 1"); one stack is kept per turnrl env and
`load_game` puts the next game into it, because each stack owns a private copy of
fast-downward's shared library (the library keeps global state, so copies cannot be shared).

The experts are ALFWorld's: `HandcodedExpert` drives `HandCodedTWAgent` exactly as ALFWorld's
`AlfredExpert` wrapper does, except that a give-up (`HandCodedAgentTimeout`/`Failed`) yields no
action instead of an exception that would kill the episode, and its tie-break `random.choice`
draws from the expert's own seeded RNG so that expert rollouts repeat under a seed.
`planner_action` reads the PDDL planner's replanned policy (`policy_commands`), and
`HandcodedThenPlanner` (the default expert) hands over from the hand-coded expert to the planner
when the former starts going round in circles.

Importing `alfworld` sets `$ALFWORLD_DATA` to its own cache folder when unset; that would
shadow `$TURNRL_DATA` in `turnrl.datadir`, so the import below restores the variable.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import re
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def _keep_alfworld_data_var() -> Iterator[None]:
    saved = os.environ.get("ALFWORLD_DATA")
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("ALFWORLD_DATA", None)
        else:
            os.environ["ALFWORLD_DATA"] = saved


with _keep_alfworld_data_var():
    import textworld
    from alfworld.agents.environment.alfred_tw_env import AlfredDemangler
    from alfworld.agents.expert import (
        HandCodedAgentFailed,
        HandCodedAgentTimeout,
        HandCodedTWAgent,
    )
    from textworld.envs.pddl import PddlEnv

BANNER = re.compile(r"^\s*-= Welcome to TextWorld, ALFRED! =-\s*")
TASK_LINE = re.compile(r"Your task is to:\s*(.+?)\s*$", re.MULTILINE)
EXPERTS = ("handcoded+planner", "handcoded", "planner", "none")


def request_infos(expert: str) -> textworld.EnvInfos:
    """What the engine computes each step: facts feed the hand-coded expert, the plan the planner
    (the combined expert plans on demand, see `plan_now`)."""
    return textworld.EnvInfos(won=True, admissible_commands=True, facts=expert.startswith("handcoded"),
                              policy_commands=expert == "planner")


def new_engine(expert: str) -> textworld.core.Environment:
    """TextWorld's PDDL engine behind ALFWorld's name demangler ("desk 1", not "desk_bar__minus_...").

    `AlfredInfos`, the other wrapper of `AlfredTWEnv`, only adds the game path to the state; the
    env keeps that itself, so it is left out.
    """
    return AlfredDemangler(PddlEnv(request_infos(expert)))


def load_game(env: textworld.core.Environment, game_file: str) -> None:
    """Loads a game from its parsed JSON (TextWorld's own loader leaves the file open); a file that
    is not JSON is a ValueError naming file, line and column."""
    with open(game_file) as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{game_file}:{e.lineno}:{e.colno}: ALFWorld game is not valid JSON ({e.msg})") from None
    env.load(data)


def set_expert_infos(env: textworld.core.Environment, expert: str) -> None:
    """Switch what an existing engine computes (takes effect at the next reset)."""
    env.request_infos.facts = expert.startswith("handcoded")
    env.request_infos.policy_commands = expert == "planner"


def strip_banner(feedback: str) -> str:
    """The observation as ALFWorld agents see it: without TextWorld's welcome line."""
    return BANNER.sub("", feedback, count=1)


def task_sentence(intro: str) -> str:
    """The goal from the first observation ("put a clean mug in coffeemachine.")."""
    match = TASK_LINE.search(intro)
    return match.group(1) if match else ""


def state_key(state: Any) -> str:
    """A canonical hash of the true PDDL facts the engine holds (order-free).

    Fast Downward's SAS+ encoding also reports explicit negations (`not_atlocation ...` once
    the agent has left its start, `not_opened ...` once a drawer was closed again); they
    follow from the positive facts under the closed-world assumption but depend on the path
    taken, so they are left out. `checked ?r` stays: ALFWorld's domain records visited
    receptacles as real state.
    """
    facts = sorted(f"{p.name}({','.join(v.name for v in p.arguments)})" for p in state["_facts"]
                   if not p.name.startswith("not_"))
    return hashlib.sha1("\n".join(facts).encode()).hexdigest()


def planner_action(state: Any) -> str | None:
    """The first command of the PDDL planner's plan from this state (None when it finds none)."""
    plan = state.get("policy_commands") or []
    return plan[0] if plan else None


def plan_now(env: textworld.core.Environment) -> list[str]:
    """The PDDL planner's plan from the engine's current state, for a state computed without
    `policy_commands`. Reaches into `PddlEnv`'s planner state and names as `_gather_infos` does
    (ALFWorld's `AlfredDemangler` uses the same attributes through the wrapper)."""
    return list(env._pddl_state.replan(env._entity_infos))


class HandcodedExpert:
    """ALFWorld's hand-coded expert, fed each engine state as `AlfredExpert` feeds it."""

    def __init__(self, max_steps: int = 200, seed: int | None = None):
        self.agent = HandCodedTWAgent(max_steps=max_steps)
        self.rng = random.Random(seed)
        self.failure: str | None = None

    def reset(self, game_file: str, state: Any, seed: int | None = None) -> str:
        """Starts on a game; ALFWorld's expert always opens with `look`."""
        if seed is not None:
            self.rng.seed(seed)
        self.failure = None
        self.agent.reset(game_file)
        self.agent.observe(state["feedback"])
        return "look"

    def next_action(self, state: Any, last_command: str) -> str | None:
        """The expert's action after `last_command` led to `state` (None once it gave up)."""
        if self.failure is not None:
            return None
        outer = random.getstate()
        random.setstate(self.rng.getstate())
        try:
            action = self.agent.act(state, 0, state["won"], last_command)
        except HandCodedAgentTimeout:
            self.failure = "hand-coded expert ran out of steps"
            return None
        except HandCodedAgentFailed:
            self.failure = "hand-coded expert finished its subgoals without winning"
            return None
        finally:
            self.rng.setstate(random.getstate())
            random.setstate(outer)
        # as AlfredExpert: an inadmissible suggestion becomes "look"
        return action if action in state["admissible_commands"] else "look"


class HandcodedThenPlanner:
    """ALFWorld's hand-coded expert until it goes round in circles or gives up, then the planner.

    The hand-coded expert is cheap but in some games (mostly pick_two_obj_and_place, where it
    keeps returning to a receptacle it already emptied) it cycles until the step limit. A cycle
    is the expert proposing, in a true state (PDDL facts) it was in before, the action it proposed
    there then, with every action since then being its own proposal: when the agent does
    something else (an invalid command leaves the state as it was, and the expert proposes the
    same action again), that is the agent's detour, not the expert's cycle, and the count starts
    afresh. From a cycle on, the PDDL planner chooses every action from the true state; while the
    agent follows the plan the rest of it holds (PDDL actions are deterministic), so it replans
    only when the agent deviates. The planner finds no plan from some states ALFWorld's domain
    cannot leave (seen once in valid_unseen, after the hand-coded expert picked up an unrelated
    object); there the hand-coded expert, still fed every state, proposes the action instead.
    The hand-coded expert's choices before a cycle are untouched, so an episode it wins without
    cycling is the same episode as with `expert="handcoded"` under the same seed.
    """

    def __init__(self, env: textworld.core.Environment, max_steps: int = 200):
        self.env = env
        self.handcoded = HandcodedExpert(max_steps)
        self.proposed: set[tuple[str, str]] = set()  # (state key, action) pairs proposed and followed since
        self.planning_since: int | None = None  # step at which the planner took over
        self.plan: list[str] = []  # the planner's plan from the current state, once it has taken over
        self.last_proposal: str | None = None
        self.steps = 0

    @property
    def failure(self) -> str | None:
        return self.handcoded.failure

    def reset(self, game_file: str, state: Any, seed: int | None = None) -> str | None:
        self.proposed.clear()
        self.planning_since, self.plan, self.steps = None, [], 0
        return self._choose(state, self.handcoded.reset(game_file, state, seed=seed), followed=False)

    def next_action(self, state: Any, last_command: str) -> str | None:
        self.steps += 1
        followed = last_command == self.last_proposal
        if not followed:
            self.proposed.clear()
        return self._choose(state, self.handcoded.next_action(state, last_command), followed)

    def _choose(self, state: Any, handcoded: str | None, followed: bool) -> str | None:
        if self.planning_since is None:
            key = (state_key(state), handcoded)
            if handcoded is not None and key not in self.proposed:
                self.proposed.add(key)
                self.last_proposal = handcoded
                return handcoded
            self.planning_since = self.steps
        if followed and len(self.plan) > 1 and self.plan[1] in state["admissible_commands"]:
            self.plan = self.plan[1:]
        else:
            self.plan = plan_now(self.env)
        self.last_proposal = self.plan[0] if self.plan else handcoded
        return self.last_proposal
