"""A canonical key of ScienceWorld's true state, from the engine's object tree.

The engine serialises every object (location, containment, temperature, state of matter,
device on/off, electrical connections, life stage...) with an internal uuid. Uuids count up
over the JVM's lifetime, and children sit in hash maps keyed by "name-uuid", so the raw tree
differs between two JVMs (or two resets) in the same state. The key therefore drops the uuids
and hashes each object's properties with the sorted multiset of its children's hashes: equal
exactly when the object trees are equal up to uuids.

Temperatures enter the key in whole degrees Celsius, the resolution of the engine's
thermometer: heat diffusion visits objects in hash-map order, which differs between a fresh load
and a reset, so the same actions leave float noise of ~1e-3 degrees in otherwise equal states.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any

_UUID_SUFFIX = re.compile(r"-\d+$")


def _without_uuids(value: Any) -> Any:
    """Properties with uuid references ("terminal 1-17596") reduced to object names, and
    temperatures rounded to whole degrees (see the module docstring)."""
    if isinstance(value, dict):
        return {k: round(v) if k == "temperatureC" and isinstance(v, float) else _without_uuids(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return sorted((_without_uuids(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, str):
        return _UUID_SUFFIX.sub("", value)
    return value


def _digest(node: dict[str, Any]) -> str:
    props = {k: v for k, v in node.items() if k not in ("uuid", "contents")}
    h = hashlib.blake2b(json.dumps(_without_uuids(props), sort_keys=True).encode(), digest_size=16)
    for child in sorted(_digest(c) for c in (node.get("contents") or {}).values()):
        h.update(child.encode())
    return h.hexdigest()


def state_key(object_tree_json: bytes | str) -> str:
    """Hex key of the true state described by the engine's `objectTree.json`."""
    return _digest(json.loads(object_tree_json))
