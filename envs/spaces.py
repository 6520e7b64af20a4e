"""A Gymnasium space for free text.

`gymnasium.spaces.Text` only admits characters from a fixed charset (alphanumerics by default),
but observations of text games hold spaces, punctuation and newlines, and actions are whatever
a language model writes. `FreeText` admits any `str` up to `max_length` characters, so
`check_env` can check observations against it; `sample()` draws printable text from the
env's RNG.
"""
from __future__ import annotations

import string

import numpy as np
from gymnasium.spaces import Text

PRINTABLE = string.ascii_letters + string.digits + string.punctuation + " "


class FreeText(Text):
    def __init__(self, max_length: int = 1 << 20, min_length: int = 0, seed=None):
        super().__init__(max_length=max_length, min_length=min_length, charset=PRINTABLE, seed=seed)

    def contains(self, x) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"FreeText({self.min_length}, {self.max_length})"

    def __eq__(self, other) -> bool:
        return isinstance(other, FreeText) and (self.min_length, self.max_length) == (other.min_length, other.max_length)

    def sample(self, mask=None, probability=None) -> str:
        # short strings: sampling up to 1 MB of text per call would be useless and slow
        length = int(self.np_random.integers(self.min_length, min(self.max_length, 64) + 1))
        return "".join(self.np_random.choice(list(PRINTABLE), size=length)) if length else ""


__all__ = ["FreeText", "np"]
