"""YAML loading shared by the trainers' flat config dataclasses.

A typo in a config file is an error naming the unknown key, never a silently ignored setting.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

import yaml

C = TypeVar("C", bound="YamlConfig")


class YamlConfig:
    """Mixin for a flat `@dataclass` config: `from_dict`, `from_yaml` (with overrides), `to_dict`, `to_yaml`."""

    @classmethod
    def from_dict(cls: type[C], values: dict[str, Any]) -> C:
        if not isinstance(values, dict):
            raise ValueError(f"a config must be a mapping of settings, got {type(values).__name__}")
        unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)})  # type: ignore[arg-type]
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; see {cls.__module__}.{cls.__name__}")
        return cls(**values)

    @classmethod
    def from_yaml(cls: type[C], path: str | Path, overrides: dict[str, Any] | None = None) -> C:
        try:
            values = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            raise ValueError(f"{path}: not valid YAML ({e})") from e
        return cls.from_dict({**values, **(overrides or {})})

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain YAML/JSON-able values (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}  # type: ignore[call-overload]
