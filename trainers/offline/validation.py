"""Type checks for offline dataset records, so a bad file fails on load naming its file and line.

Without them a JSONL record loads whatever it holds: `won: "false"` trains as a success (a
non-empty string is true), a NaN reward turns OREO's loss into NaN, a null action is trained as
the text "None", and a deeply nested `info` raises a bare RecursionError. Each record is checked
against the field types of `turnrl.types.Trajectory` / `Step` before it is built.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from turnrl.types import Trajectory

MAX_DEPTH = 32  # nesting of lists/dicts inside one record (turnrl writes at most ~5)

Check = Callable[[Any], bool]


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _optional(check: Check) -> Check:
    return lambda x: x is None or check(x)


def _list_of(check: Check) -> Check:
    return lambda x: isinstance(x, list) and all(check(v) for v in x)


def _str(x: Any) -> bool:
    return isinstance(x, str)


def _bool(x: Any) -> bool:
    return isinstance(x, bool)


def _dict(x: Any) -> bool:
    return isinstance(x, dict)


def _components(x: Any) -> bool:
    return isinstance(x, dict) and all(isinstance(k, str) and _number(v) for k, v in x.items())


# field -> (check, what it must be); fields not listed are left to the dataclass constructor
TRAJECTORY_FIELDS: dict[str, tuple[Check, str]] = {
    "task_id": (_str, "a string"),
    "seed": (_optional(_int), "an integer or null"),
    "group_id": (_optional(_str), "a string or null"),
    "player_id": (_optional(_str), "a string or null"),
    "task": (_str, "a string"),
    "steps": (lambda x: isinstance(x, list), "a list of steps"),
    "won": (_bool, "true or false"),
    "metadata": (_dict, "an object"),
}
STEP_FIELDS: dict[str, tuple[Check, str]] = {
    "observation": (_str, "a string"),
    "action": (_str, "a string"),
    "reward": (_number, "a finite number"),
    "reward_components": (_components, "an object of finite numbers"),
    "terminated": (_bool, "true or false"),
    "truncated": (_bool, "true or false"),
    "end_reason": (_optional(_str), "a string or null"),
    "valid": (_bool, "true or false"),
    "invalid_reason": (_optional(_str), "a string or null"),
    "state_key": (_optional(_str), "a string or null"),
    "obs_key": (_optional(_str), "a string or null"),
    "t": (_int, "an integer"),
    "info": (_dict, "an object"),
    "prompt_ids": (_optional(_list_of(_int)), "a list of integers or null"),
    "response_ids": (_optional(_list_of(_int)), "a list of integers or null"),
    "response_logprobs": (_optional(_list_of(_number)), "a list of finite numbers or null"),
    "candidate_ids": (_optional(_list_of(_list_of(_int))), "a list of lists of integers or null"),
    "action_logprob": (_optional(_number), "a finite number or null"),
}


def depth(value: Any) -> int:
    """Nesting depth of lists and dicts (iterative, so it cannot overflow the stack itself)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, (list, dict)):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in (node.values() if isinstance(node, dict) else node))
    return deepest


def _check_fields(record: Any, fields: dict[str, tuple[Check, str]], where: str) -> None:
    if not isinstance(record, dict):
        raise ValueError(f"{where or 'the record'} must be an object, got {type(record).__name__}")
    for name, (check, what) in fields.items():
        if name in record and not check(record[name]):
            raise ValueError(f"{where}{name} must be {what}, got {record[name]!r:.80}")


def check_record(record: Any) -> None:
    """Raises ValueError saying which field of a trajectory record has the wrong type."""
    if depth(record) > MAX_DEPTH:
        raise ValueError(f"the record is nested deeper than {MAX_DEPTH} levels")
    _check_fields(record, TRAJECTORY_FIELDS, "")
    for i, step in enumerate(record.get("steps", [])):
        _check_fields(step, STEP_FIELDS, f"steps[{i}].")
        for required in ("observation", "action"):
            if required not in step:
                raise ValueError(f"steps[{i}].{required} is missing")


def read_records(path: str | Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON) of each non-blank line; unparseable lines raise naming file and line."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line)
            except RecursionError:
                raise ValueError(f"{path}:{lineno}: the record is nested too deeply to parse") from None
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{lineno}: not JSON ({e})") from e


def load_checked(path: str | Path) -> list[Trajectory]:
    """Trajectories of a JSONL file, every record type-checked first (errors name file and line)."""
    out = []
    for lineno, record in read_records(path):
        try:
            check_record(record)
            out.append(Trajectory.from_dict(record))
        except (TypeError, ValueError) as e:
            raise ValueError(f"{path}:{lineno}: not a valid trajectory record: {e}") from e
    return out
