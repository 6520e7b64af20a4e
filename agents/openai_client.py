"""An agent policy over any OpenAI-compatible chat-completions endpoint (vLLM, `turnrl serve`, ...).

Requests for a batch go out concurrently (a thread pool over one `httpx.Client`), each with a
timeout; connection errors, timeouts, 429 and 5xx are retried with exponential backoff, and when
the retries run out `PolicyServerError` says which server failed and why, so a dead server never
hangs a rollout. Servers that return `token_ids` / `prompt_token_ids` (as `turnrl serve` does)
and `logprobs` fill the token fields of the outputs; others leave them None.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from turnrl.agents.generation import SAMPLING_KEYS, Generation, SamplingParams, to_agent_output
from turnrl.agents.prompts import build_messages
from turnrl.types import AgentInput, AgentOutput

RETRY_STATUS = {408, 429, 500, 502, 503, 504}


class PolicyServerError(RuntimeError):
    """The chat-completions server could not be reached or answered with an error."""


class OpenAIPolicy:
    name = "openai"

    def __init__(self, base_url: str, model: str | None = None, api_key: str | None = None, *,
                 sampling: SamplingParams | None = None, history_window: int | None = 4, concurrency: int = 8,
                 timeout: float = 60.0, max_retries: int = 2, backoff: float = 0.5, logprobs: bool = True,
                 map_to_admissible: bool = True):
        self.base_url = base_url.rstrip("/")
        self.sampling = sampling or SamplingParams()
        self.history_window = history_window
        self.concurrency = max(1, concurrency)
        self.max_retries = max_retries
        self.backoff = backoff
        self.logprobs = logprobs
        self.map_to_admissible = map_to_admissible
        key = api_key or os.environ.get("OPENAI_API_KEY")
        self.client = httpx.Client(base_url=self.base_url, timeout=timeout,
                                   headers={"Authorization": f"Bearer {key}"} if key else {})
        self._model = model

    @property
    def model(self) -> str:
        """The model id sent with requests (the server's first model when none was given)."""
        if self._model is None:
            data = self._request("GET", "/models")
            try:
                self._model = str(data["data"][0]["id"])
            except (KeyError, IndexError, TypeError) as e:
                raise PolicyServerError(f"{self.base_url}/models returned no model list: {data!r:.200}") from e
        return self._model

    def act(self, inputs: list[AgentInput]) -> list[AgentOutput]:
        if not inputs:
            return []
        model = self.model
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(inputs))) as pool:
            gens = list(pool.map(lambda x: self.complete(build_messages(x, self.history_window), model), inputs))
        return [to_agent_output(x, g, self.map_to_admissible) for x, g in zip(inputs, gens)]

    def complete(self, messages: list[dict[str, str]], model: str | None = None) -> Generation:
        """One chat completion as a `Generation`."""
        s = self.sampling
        body: dict[str, Any] = {"model": model or self.model, "messages": messages, "temperature": s.temperature,
                                "top_p": s.top_p, "max_tokens": s.max_new_tokens, "stop": list(s.stop) or None,
                                "logprobs": self.logprobs}
        data = self._request("POST", "/chat/completions", json=body)
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"] or ""
            finish = str(choice.get("finish_reason") or "stop")
            tokens = choice.get("token_ids")
            lps = choice.get("logprobs") or {}
            logprobs = [float(t["logprob"]) for t in lps.get("content") or []] or None
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise PolicyServerError(f"{self.base_url} sent a malformed completion: {data!r:.300}") from e
        if text and s.stop and finish == "stop" and not any(x in text for x in s.stop):
            text += s.stop[0]  # OpenAI servers drop the matched stop string; put the closing tag back
        return Generation(data.get("prompt_token_ids"), tokens, logprobs, text, finish)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        last: str = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self.client.request(method, path, **kwargs)
            except httpx.TransportError as e:  # refused, reset, timed out
                last = f"{type(e).__name__}: {e}"
                continue
            if response.status_code in RETRY_STATUS:
                last = f"HTTP {response.status_code}: {response.text[:200]}"
                continue
            if response.is_error:
                raise PolicyServerError(f"{method} {self.base_url}{path} failed with HTTP "
                                        f"{response.status_code}: {response.text[:300]}")
            try:
                return response.json()
            except ValueError as e:
                raise PolicyServerError(f"{self.base_url}{path} did not return JSON: {response.text[:200]!r}") from e
        raise PolicyServerError(f"{method} {self.base_url}{path} failed after {self.max_retries + 1} attempts "
                                f"({last or 'no answer'})")

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "OpenAIPolicy":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def make_openai_agent(argument: str | None, **kwargs: Any) -> OpenAIPolicy:
    """Registry factory for `openai:<base url>` (default http://127.0.0.1:8000/v1)."""
    sampling = SamplingParams(**{k: kwargs.pop(k) for k in list(kwargs) if k in SAMPLING_KEYS})
    keys = {"model", "api_key", "history_window", "concurrency", "timeout", "max_retries", "logprobs",
            "map_to_admissible"}
    return OpenAIPolicy(argument or "http://127.0.0.1:8000/v1", sampling=sampling,
                        **{k: v for k, v in kwargs.items() if k in keys})
