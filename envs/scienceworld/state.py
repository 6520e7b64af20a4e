"""A canonical key of ScienceWorld's true state, from the engine's object tree.

The engine serialises every object (location, containment, temperature, state of matter,
device on/off, electrical connections, life stage...) with an internal uuid. Uuids count up
over the JVM's lifetime, and children sit in hash maps keyed by "name-uuid", so the raw tree
differs between two JVMs (or two resets) in the same state. The key therefore drops the uuids
and hashes each object's properties followed by the sorted list of its children's canonical
forms: equal exactly when the object trees are equal up to uuids.

Temperatures enter the key in whole degrees Celsius, the resolution of the engine's
thermometer: heat diffusion visits objects in hash-map order, which differs between a fresh load
and a reset, so the same actions leave float noise of ~1e-3 degrees in otherwise equal states.

The key is computed on every step, so it follows the tree's schema (scienceworld 1.2: uuids in
`uuid` and in the `propElectricalConnection.connectedTo` names, temperatures in
`propMaterial.temperatureC`) rather than walking every value, and serialises with orjson:
~2 ms per step for a 370-object house, against ~10 ms for a generic walk with `json`.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

import orjson

_UUID_SUFFIX = re.compile(r"-\d+$")


def _canonical(node: dict[str, Any]) -> bytes:
    """The node's properties without uuids, then its children's canonical forms in sorted order.
    Mutates `node` (a freshly parsed tree nobody else holds)."""
    children = node.pop("contents", None)
    node.pop("uuid", None)
    material = node.get("propMaterial")
    if material and isinstance(material.get("temperatureC"), float):
        material["temperatureC"] = round(material["temperatureC"])
    wires = node.get("propElectricalConnection")
    if wires and wires.get("connectedTo"):  # names like "terminal 1-17596": the uuid of the other end
        wires["connectedTo"] = sorted(_UUID_SUFFIX.sub("", name) for name in wires["connectedTo"])
    props = orjson.dumps(node, option=orjson.OPT_SORT_KEYS)
    if not children:
        return props
    return props + b"[" + b",".join(sorted(_canonical(child) for child in children.values())) + b"]"


def state_key(object_tree_json: bytes | str) -> str:
    """Hex key of the true state described by the engine's `objectTree.json`."""
    return hashlib.blake2b(_canonical(orjson.loads(object_tree_json)), digest_size=16).hexdigest()
