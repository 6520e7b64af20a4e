"""Exact snapshots of `ALFWorldEnv`: the PDDL engine's state plus the env's and the expert's bookkeeping.

ALFWorld's engine is TextWorld's `PddlEnv`, whose true state lives in fast-downward's C library:
the library can return to any state it has registered (`set_state_id`), but those ids mean
nothing to another process, and rebuilding the engine (`PddlEnv.reset`, two PDDL translations)
costs about 0.7 s. So the snapshot holds the PDDL operators applied since the reset, by name
(`step` below records them), plus the Python-side facts, the current observation and the
expert's state. Restoring returns the library to the start state (id 0 after a reset, which
every engine that has played the game has), re-applies the operators in C (no text generation)
and recomputes the engine's admissible commands once: about one step's cost. Only an env that
has not yet played the snapshot's game pays a reset first (about 0.7 s).

Measured on valid_unseen: about 30 KB pickled (facts and the expert); a restore on a warm engine
takes 70-100 ms, as long as a step (its one `_gather_infos`), see tests/snapshots.
"""
from __future__ import annotations

import io
import pickle
from typing import Any

import textworld
from fast_downward import Atom, Operator
from textworld.logic import Proposition, Variable

from turnrl.envs.base import TextEnv
from turnrl.envs.textworld.snapshot import _rebuilt

_EXPERT_FIELDS = ("proposed", "planning_since", "plan", "last_proposal", "steps")


def _pddl(env: Any) -> Any:
    """The `PddlEnv` under ALFWorld's name demangler."""
    return env._engine._wrapped_env


def op_name(action: Any) -> str:
    """The fast-downward operator name of an applied PDDL action (`name arg1 arg2 ...`)."""
    return " ".join([action.name, *(v.name for v in action.mapping.values())])


def step(env: Any, action: str) -> tuple:
    """`TextEnv.step`, recording the operator the engine applied (if any) for snapshots."""
    pddl = _pddl(env) if env._engine is not None else None
    moves = getattr(pddl, "_moves", None)
    result = TextEnv.step(env, action)
    if pddl is not None and pddl._moves != moves and pddl._last_action is not None:
        ops = getattr(env, "_snapshot_ops", None)
        if ops is None or ops[0] is not pddl._pddl_state:  # a reset since: a new engine state, a new log
            ops = env._snapshot_ops = (pddl._pddl_state, [])
        ops[1].append(op_name(pddl._last_action))
    return result


def _applied_ops(env: Any) -> list[str]:
    ops = getattr(env, "_snapshot_ops", None)
    return list(ops[1]) if ops is not None and ops[0] is _pddl(env)._pddl_state else []


def _dumps(obj: Any) -> bytes:
    class Pickler(pickle.Pickler):
        def reducer_override(self, o: Any) -> Any:
            return _rebuilt(o)

    buf = io.BytesIO()
    Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getvalue()


def _expert_state(expert: Any) -> bytes | None:
    if expert is None:
        return None
    if hasattr(expert, "handcoded"):  # HandcodedThenPlanner: everything but its engine
        return _dumps(("then_planner", expert.handcoded, {k: getattr(expert, k) for k in _EXPERT_FIELDS}))
    return _dumps(("handcoded", expert, None))


def _set_expert(env: Any, data: bytes | None) -> None:
    if data is None:
        return
    kind, handcoded, fields = pickle.loads(data)
    if kind == "handcoded":
        env._expert = handcoded
        return
    expert = env._new_expert("handcoded+planner")
    expert.handcoded = handcoded
    for k, v in fields.items():
        setattr(expert, k, v)
    env._expert = expert


def snapshot(env: Any) -> dict[str, Any]:
    if env._engine is None or env._state is None or env.game is None:
        raise RuntimeError("ALFWorldEnv.snapshot() before reset()")
    pddl = _pddl(env)
    facts = [(f.name, tuple((v.name, v.type) for v in f.arguments)) for f in pddl._pddl_state.facts]
    return {"game": env.game, "settings": dict(env._settings), "task": env._task, "done": env._done,
            "ops": _applied_ops(env), "facts": facts, "moves": pddl._moves,
            "feedback": pddl.state["feedback"], "last_command": pddl.state.get("last_command"),
            "expert": _expert_state(env._expert if env._settings["expert"].startswith("handcoded") else None)}


def _apply_op(lib: Any, name: str) -> None:
    count = lib.get_applicable_operators_count()
    operators = (Operator * count)()
    lib.get_applicable_operators(operators)
    for op in operators:
        if " ".join(op.name.split()) == name:
            lib.apply_operator(op.id, (Atom * op.nb_effect_atoms)())
            return
    raise RuntimeError(f"PDDL operator {name!r} is not applicable while restoring an ALFWorld snapshot")


def restore(env: Any, state: dict[str, Any]) -> None:
    settings = state["settings"]
    if env._engine is None or env._loaded != (str(state["game"].path), settings["expert"]) or env._state is None:
        env.reset(options={**settings, "game": str(state["game"].path)})  # builds and loads the engine
    pddl = _pddl(env)
    ps = pddl._pddl_state
    ps.downward_lib.set_state_id(0)  # the start state, registered first at the engine's reset
    for name in state["ops"]:
        _apply_op(ps.downward_lib, name)
    ps.remove_facts(list(ps.facts))
    ps.add_facts([Proposition(n, [Variable(a, t) for a, t in args]) for n, args in state["facts"]])
    pddl._moves, pddl._last_action = state["moves"], None
    pddl.state = textworld.GameState()
    pddl.state.feedback = pddl.state.raw = state["feedback"]
    if state["last_command"] is not None:
        pddl.state.last_command = state["last_command"]
    pddl._gather_infos()
    pddl.state["score"] = 1 if pddl.state["won"] else 0
    pddl.state["done"] = pddl.state["won"] or pddl.state["lost"]
    env._snapshot_ops = (ps, list(state["ops"]))
    env.game, env._settings, env._task, env._done = state["game"], dict(settings), state["task"], state["done"]
    env._state = pddl.state
    _set_expert(env, state["expert"])
