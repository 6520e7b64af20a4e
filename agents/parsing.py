"""Extracting the action from model text: `<think>...</think>` then exactly one `<action>...</action>`.

A broken format (no tag, an unclosed tag, several or nested actions, an empty or oversized
action) makes the step invalid with a reason the trainer can log; the env is then sent the
invalid marker instead of a guess. With `admissible` given, a near miss can be mapped to the
closest admissible action. Parsing never raises, whatever the model emitted.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

OPEN, CLOSE = "<action>", "</action>"
THINK_CLOSE = "</think>"
_WS = re.compile(r"\s+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class ParsedAction:
    action: str  # the action to send to the env ("" when invalid)
    valid: bool
    reason: str | None = None  # why the step is invalid, or how a near miss was mapped
    think: str | None = None  # the reasoning text, when present
    matched: bool = False  # True when the action was mapped to an admissible one by similarity


def _invalid(reason: str, think: str | None = None) -> ParsedAction:
    return ParsedAction(action="", valid=False, reason=reason, think=think)


def _think_text(text: str, lower: str) -> tuple[str | None, int]:
    """The reasoning and where the answer part starts (after the last `</think>`)."""
    end = lower.rfind(THINK_CLOSE)
    if end < 0:
        return None, 0
    start = lower.find("<think>")
    think = text[start + len("<think>"):end] if 0 <= start < end else text[:end]
    return think.strip(), end + len(THINK_CLOSE)


def match_admissible(action: str, admissible: list[str], cutoff: float = 0.85) -> tuple[str | None, bool]:
    """(admissible action, was_fuzzy): exact up to case and spaces first, then the closest by ratio."""
    key = action.casefold()
    by_key = {_WS.sub(" ", a).strip().casefold(): a for a in admissible}
    if key in by_key:
        return by_key[key], False
    close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=cutoff)
    return (by_key[close[0]], True) if close else (None, False)


def parse_action(text: Any, admissible: list[str] | None = None, *, map_to_admissible: bool = True,
                 require_admissible: bool = False, cutoff: float = 0.85, max_action_chars: int = 500) -> ParsedAction:
    """Parses one model output. `require_admissible` makes an action outside the list invalid."""
    if not isinstance(text, str):
        return _invalid(f"model output is {type(text).__name__}, not text")
    lower = text.translate(_ASCII_LOWER)  # case-insensitive tags with indices that match `text`
    think, start = _think_text(text, lower)
    opens = lower.count(OPEN, start)
    closes = lower.count(CLOSE, start)
    if opens == 0:
        return _invalid("missing <action> tag" if closes == 0 else "missing opening <action> tag", think)
    if closes == 0:
        return _invalid("unclosed <action> tag", think)
    if opens > 1 or closes > 1:
        first_open = lower.find(OPEN, start)
        second_open = lower.find(OPEN, first_open + len(OPEN))
        first_close = lower.find(CLOSE, start)
        nested = 0 <= second_open < first_close
        return _invalid("nested <action> tags" if nested else f"{max(opens, closes)} <action> tags, expected one",
                        think)
    i, j = lower.find(OPEN, start), lower.find(CLOSE, start)
    if j < i:
        return _invalid("</action> before <action>", think)
    action = _WS.sub(" ", text[i + len(OPEN):j]).strip()
    if not action:
        return _invalid("empty action", think)
    if len(action) > max_action_chars:
        return _invalid(f"action longer than {max_action_chars} characters", think)
    if not admissible or not (map_to_admissible or require_admissible):
        return ParsedAction(action, True, None, think)
    mapped, fuzzy = match_admissible(action, admissible, cutoff if map_to_admissible else 1.01)
    if mapped is None:
        if require_admissible:
            return ParsedAction("", False, "action not admissible", think)
        return ParsedAction(action, True, None, think)
    return ParsedAction(mapped, True, f"mapped {action!r} to {mapped!r}" if fuzzy else None, think, fuzzy)
