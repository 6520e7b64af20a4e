"""What `turnrl serve` accepts: the chat-completions request, and the bounds a server puts on it.

Static checks (types, NaN, the seed range torch accepts) live in the pydantic model, so a bad
field is a 400 naming that field before anything runs. Bounds that a server chooses
(`ServerLimits`) are checked by `check_limits`, still before any tokenising or generating.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from turnrl.agents.server_http import APIError

SEED_MIN, SEED_MAX = -(2 ** 63), 2 ** 64 - 1  # the range torch.manual_seed accepts


@dataclass(frozen=True)
class ServerLimits:
    """Per-server resource bounds; every one is checked before the request costs more than its bytes."""

    max_body_bytes: int = 1 << 20  # a larger body is refused (413) before it is parsed
    max_prompt_tokens: int = 4096
    max_tokens: int = 2048  # the most new tokens one choice may ask for
    default_max_tokens: int = 256  # when a request names no max_tokens
    max_stop: int = 4  # stop strings per request (the OpenAI API's own limit)
    max_stop_chars: int = 256  # characters per stop string
    max_n: int = 16  # choices per request
    max_queue: int = 256  # requests admitted (queued or generating) at once; one more gets 429


class ChatMessage(BaseModel):
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(str(part.get("text", "")) for part in self.content if part.get("type", "text") == "text")


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatRequest(BaseModel):
    """The fields of an OpenAI chat-completions request this server honours (others are ignored)."""

    model_config = ConfigDict(extra="ignore")

    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    temperature: float | None = Field(None, ge=0.0, le=10.0, allow_inf_nan=False)
    top_p: float | None = Field(None, gt=0.0, le=1.0, allow_inf_nan=False)
    top_k: int | None = Field(None, ge=0)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    n: int | None = Field(None, ge=1)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(None, ge=0)
    seed: int | None = Field(None, ge=SEED_MIN, le=SEED_MAX)
    stream: bool | None = None
    stream_options: StreamOptions | None = None

    @field_validator("stop")
    @classmethod
    def _stop_list(cls, v: str | list[str] | None) -> list[str]:
        return [v] if isinstance(v, str) else list(v or [])

    @property
    def stops(self) -> list[str]:
        return list(self.stop or [])


def check_limits(req: ChatRequest, limits: ServerLimits) -> None:
    """Raises a 400 `APIError` naming the field that is over this server's bounds."""
    if len(req.stops) > limits.max_stop:
        raise APIError(400, f"at most {limits.max_stop} stop strings are allowed, got {len(req.stops)}", param="stop")
    if any(not s or len(s) > limits.max_stop_chars for s in req.stops):
        raise APIError(400, f"each stop string must have 1 to {limits.max_stop_chars} characters", param="stop")
    for name in ("max_tokens", "max_completion_tokens"):
        value = getattr(req, name)
        if value is not None and value > limits.max_tokens:
            raise APIError(400, f"{name} is {value}, more than this server's limit of {limits.max_tokens}", param=name)
    if (req.n or 1) > limits.max_n:
        raise APIError(400, f"n is {req.n}, more than this server's limit of {limits.max_n}", param="n")
    if req.top_logprobs:
        raise APIError(400, "top_logprobs is not supported (logprobs: true returns the chosen tokens' log-probs)",
                       param="top_logprobs")
