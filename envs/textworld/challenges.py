"""TextWorld's four built-in challenges and the difficulty presets turnrl offers for each.

A preset maps a difficulty name to the settings dict that the challenge's own `make` function
takes (`textworld.challenges.CHALLENGES[name][1](settings, options)`). Coin Collector and
Treasure Hunter also accept an integer `level` (their native difficulty scale) instead of a name.
Presets follow the challenges' own documentation:

- tw-treasure_hunter: easy/medium/hard = levels 5/15/25 (5/10/20 rooms; medium adds closed doors
  and containers, hard locked ones); taking the wrong object loses the game.
- tw-coin_collector: levels 5/15/110 (a chain of rooms to the coin; 110 adds distractor rooms).
- tw-simple: the fixed six-room house with dense/balanced/sparse rewards and a detailed/brief/no
  objective.
- tw-cooking: the First TextWorld Problems recipe games: 1/2/3 ingredients over 1/6/9 rooms,
  with opening, cutting and cooking switched on as difficulty grows; burning food loses.

Splits: `train` games use generator seeds 0, 1, ...; `valid` and `test` use disjoint seed ranges,
and where the challenge has held-out content of its own (tw-cooking foods, tw-simple's test
distribution) that content is used as well.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CHALLENGE_ALIASES = {
    "simple": "tw-simple", "coin": "tw-coin_collector", "coin_collector": "tw-coin_collector",
    "treasure": "tw-treasure_hunter", "treasure_hunter": "tw-treasure_hunter", "cooking": "tw-cooking",
}
CHALLENGES = ("tw-treasure_hunter", "tw-coin_collector", "tw-simple", "tw-cooking")
DIFFICULTIES = ("easy", "medium", "hard")
SPLITS = ("train", "valid", "test")
SPLIT_SEED_OFFSET = {"train": 0, "valid": 1_000_000, "test": 2_000_000}

_LEVELS = {
    "tw-treasure_hunter": {"easy": 5, "medium": 15, "hard": 25},
    "tw-coin_collector": {"easy": 5, "medium": 15, "hard": 110},
}
_LEVEL_RANGE = {"tw-treasure_hunter": (1, 30), "tw-coin_collector": (1, 300)}  # coin: <= 100 rooms, checked by TextWorld
_SIMPLE = {
    "easy": {"rewards": "dense", "goal": "detailed"},
    "medium": {"rewards": "balanced", "goal": "brief"},
    "hard": {"rewards": "sparse", "goal": "none"},
}
_COOKING = {
    "easy": {"recipe": 1, "take": 1, "go": 1, "open": False, "cook": False, "cut": False},
    "medium": {"recipe": 2, "take": 2, "go": 6, "open": True, "cook": False, "cut": True},
    "hard": {"recipe": 3, "take": 3, "go": 9, "open": True, "cook": True, "cut": True},
}


@dataclass(frozen=True)
class GameSpec:
    """One game: which challenge, at which difficulty, from which split, and its generator seed."""

    challenge: str
    difficulty: str  # a preset name, or "level<N>" for an explicit level
    split: str
    index: int  # position in the split's game pool

    @property
    def seed(self) -> int:
        return SPLIT_SEED_OFFSET[self.split] + self.index

    @property
    def name(self) -> str:
        """A file-system-safe identifier, also the game's task id."""
        return f"{self.challenge}/{self.difficulty}-{self.split}/game-{self.index:05d}"

    def settings(self) -> dict[str, Any]:
        """The settings dict the challenge's `make` function expects."""
        if self.challenge in _LEVELS:
            return {"level": level_of(self.challenge, self.difficulty)}
        if self.challenge == "tw-simple":
            return {**_SIMPLE[self.difficulty], "test": self.split == "test"}
        return {**_COOKING[self.difficulty], "drop": False, "recipe_seed": 0, "split": self.split}


def challenge_name(name: str) -> str:
    """`tw-cooking`, `cooking` -> `tw-cooking`; raises ValueError on unknown names."""
    full = CHALLENGE_ALIASES.get(str(name).lower(), str(name).lower())
    if full not in CHALLENGES:
        raise ValueError(f"unknown TextWorld challenge {name!r}; known: {list(CHALLENGES)} "
                         f"or aliases {sorted(CHALLENGE_ALIASES)}")
    return full


def difficulty_name(challenge: str, difficulty: str | int) -> str:
    """A preset name, or `level<N>` when a level-based challenge is given an integer level."""
    if isinstance(difficulty, str) and difficulty in DIFFICULTIES:
        return difficulty
    text = str(difficulty)
    level = text.removeprefix("level")
    if challenge in _LEVEL_RANGE and level.isdigit():
        low, high = _LEVEL_RANGE[challenge]
        if not low <= int(level) <= high:
            raise ValueError(f"{challenge} level must be in [{low}, {high}], got {level}")
        return f"level{int(level)}"
    levels = f" or a level {_LEVEL_RANGE[challenge]}" if challenge in _LEVEL_RANGE else ""
    raise ValueError(f"unknown difficulty {difficulty!r} for {challenge}; known: {list(DIFFICULTIES)}{levels}")


def level_of(challenge: str, difficulty: str) -> int:
    return int(difficulty[len("level"):]) if difficulty.startswith("level") else _LEVELS[challenge][difficulty]


def split_name(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"unknown TextWorld split {split!r}; known: {list(SPLITS)}")
    return split
