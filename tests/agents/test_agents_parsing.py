"""Action parsing: every malformed output gives an invalid step with a reason, never an exception."""
from __future__ import annotations

import pytest

from turnrl.agents.parsing import match_admissible, parse_action


def test_well_formed_with_think():
    p = parse_action("<think>the key opens it</think>\n<action>  open   door </action>")
    assert (p.action, p.valid, p.reason, p.think) == ("open door", True, None, "the key opens it")


@pytest.mark.parametrize("text, reason", [
    ("open door", "missing <action> tag"),
    ("<action>open door", "unclosed <action> tag"),
    ("open door</action>", "missing opening <action> tag"),
    ("<action>go</action><action>take</action>", "2 <action> tags, expected one"),
    ("<action>go <action>take</action></action>", "nested <action> tags"),
    ("<action>   </action>", "empty action"),
    ("</action>go<action>", "</action> before <action>"),
    ("", "missing <action> tag"),
])
def test_broken_formats_are_invalid_with_reason(text, reason):
    p = parse_action(text)
    assert not p.valid and p.action == "" and p.reason == reason


def test_tags_are_case_insensitive_and_unicode_survives():
    p = parse_action("<THINK>İstanbul ünïcødé 🤖</THINK><Action>prendre la clé 🗝️</ACTION>")
    assert p.valid and p.action == "prendre la clé 🗝️" and p.think == "İstanbul ünïcødé 🤖"


def test_action_inside_think_is_ignored():
    p = parse_action("<think>maybe <action>go west</action>? no.</think><action>go east</action>")
    assert p.valid and p.action == "go east"


def test_100kb_outputs_parse_quickly_and_safely():
    junk = "x<act" * 20_000  # 100 KB of near-tags
    assert parse_action(junk).reason == "missing <action> tag"
    big = parse_action(f"<action>{'a' * 100_000}</action>")
    assert not big.valid and big.reason.startswith("action longer than")
    ok = parse_action("<think>" + "y" * 100_000 + "</think><action>look</action>")
    assert ok.valid and ok.action == "look"


@pytest.mark.parametrize("value", [None, 42, b"<action>go</action>", ["<action>go</action>"]])
def test_non_text_is_invalid(value):
    p = parse_action(value)
    assert not p.valid and "not text" in p.reason


def test_near_miss_maps_to_admissible():
    admissible = ["take red key from table", "go north"]
    p = parse_action("<action>take red key from the table</action>", admissible)
    assert p.valid and p.matched and p.action == "take red key from table" and "mapped" in p.reason
    exact = parse_action("<action>GO  North</action>", admissible)
    assert exact.action == "go north" and not exact.matched and exact.reason is None


def test_unmatched_action_kept_unless_required():
    admissible = ["go north"]
    assert parse_action("<action>dance</action>", admissible).action == "dance"
    strict = parse_action("<action>dance</action>", admissible, require_admissible=True)
    assert not strict.valid and strict.reason == "action not admissible"
    no_map = parse_action("<action>go nort</action>", admissible, map_to_admissible=False)
    assert no_map.action == "go nort"


def test_match_admissible_cutoff():
    assert match_admissible("xyz", ["go north"]) == (None, False)
