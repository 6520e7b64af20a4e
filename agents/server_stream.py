"""Streaming for `turnrl serve`: text deltas as tokens arrive, and the chunks OpenAI's stream format has.

`TextStream` decodes a choice incrementally (a short window of ids, as TGI and vLLM do, so a
long answer costs no quadratic re-decoding), holds back a split multi-byte character, and stops
sending at the token whose text completes a stop string. What it sends is a prefix of the
final `Generation.text`; `rest` gives what remains (the stop string included) once it ends.
"""
from __future__ import annotations

from typing import Any, Sequence


class TextStream:
    def __init__(self, tokenizer: Any, stop: Sequence[str] = ()):
        self.tokenizer = tokenizer
        self.stop = tuple(stop)
        self.ids: list[int] = []
        self.sent = ""
        self._prefix = 0  # ids[_prefix:_read] were decoded last time, for context
        self._read = 0
        self._stopped = False

    def push(self, token: int) -> str:
        """The text `token` adds ("" while a character is incomplete or after a stop string)."""
        if self._stopped:
            return ""
        self.ids.append(token)
        before = self._decode(self.ids[self._prefix:self._read])
        now = self._decode(self.ids[self._prefix:])
        if len(now) <= len(before) or now.endswith("\ufffd"):
            return ""
        delta = now[len(before):]
        self._prefix, self._read = self._read, len(self.ids)
        if self.stop and any(s in self.sent + delta for s in self.stop):
            self._stopped = True  # where the final text ends is decided by the generation: `rest` sends it
            return ""
        self.sent += delta
        return delta

    def rest(self, final_text: str) -> str:
        """What of the final text has not been sent (nothing when the sent text is not its prefix)."""
        return final_text[len(self.sent):] if final_text.startswith(self.sent) else ""

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)


def chunk(base: dict[str, Any], index: int, delta: dict[str, Any], finish_reason: str | None = None,
          **extra: Any) -> dict[str, Any]:
    """One `chat.completion.chunk` carrying `delta` for choice `index`."""
    choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason, **extra}
    return {**base, "choices": [choice]}
