"""What an environment family declares about itself, in one place: its own `register.py`.

A family's register.py holds a `FAMILY = EnvFamily(...)`: the pip extra its envs need, the
top-level modules that extra installs (checked without importing them, so `turnrl list` stays
fast), its prompt text, and its third-party dataset if any. `turnrl.envs.registration` collects
the declarations; the prompt builder (`turnrl.agents.prompts`), the data commands
(`turnrl.datadir`) and `turnrl list` read them from there. Everything here is plain data:
envs/ never imports agents/, trainers/ or torch.

Entry points go through `EnvFamily.lazy_classes`, a module `__getattr__` for register.py: the env
class is imported on first use (registering stays cheap), and an env whose extra is missing
fails with the pip-install line instead of a bare ModuleNotFoundError, wherever it is made
(`gym.make`, pools, the CLI).
"""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any, Callable

from turnrl.datadir import DatasetSpec


@dataclass(frozen=True)
class PromptText:
    """A family's prompt text; `turnrl.agents.prompts` builds its PromptTemplate from these strings."""

    system: str  # the system message
    setting: str  # one paragraph on what kind of world this is and what actions look like


class MissingExtra(ModuleNotFoundError):
    """An env needs a module that its family's pip extra installs, and it is not installed."""


def install_line(extra: str) -> str:
    """How a user gets an extra, said the same way everywhere."""
    return f"pip install 'turnrl[{extra}]'"


def missing_extra(family: str, extra: str, module: str) -> MissingExtra:
    return MissingExtra(f"the {family} envs need {module!r}, which is not installed: {install_line(extra)}",
                        name=module)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules, or with no spec
        return False


@dataclass(frozen=True)
class EnvFamily:
    name: str  # e.g. "alfworld"
    extra: str | None = None  # the pyproject extra that installs what the envs import
    modules: tuple[str, ...] = ()  # top-level modules the extra installs
    prompt: PromptText | None = None  # None: the generic prompt
    dataset: DatasetSpec | None = None  # third-party data the envs read (`turnrl data download NAME`)

    def missing_modules(self) -> list[str]:
        """The declared modules that cannot be found (nothing is imported)."""
        return [m for m in self.modules if not _installed(m)]

    def lazy_classes(self, **classes: str) -> Callable[[str], Any]:
        """A module `__getattr__` for register.py: `ClassName="module"` pairs, each imported on first
        use, so `entry_point=f"{__name__}:ClassName"` loads no engine until an env is made.

        A module the import cannot find (other than turnrl's own) raises `MissingExtra` with the
        pip-install line of this family's extra."""

        def __getattr__(name: str) -> Any:
            if name not in classes:
                raise AttributeError(f"the {self.name} family registers no {name!r}; it has {sorted(classes)}")
            try:
                module = importlib.import_module(classes[name])
            except ModuleNotFoundError as e:
                top = (e.name or "").split(".")[0]
                if self.extra is None or not top or top == "turnrl":
                    raise
                raise missing_extra(self.name, self.extra, top) from None
            return getattr(module, name)

        return __getattr__
