"""An OpenAI-compatible chat-completions server over a local `HFPolicy` (FastAPI + uvicorn).

Endpoints: `GET /health`, `GET /v1/models`, `POST /v1/chat/completions`. Besides the standard
fields, each choice carries `token_ids` and the response carries `prompt_token_ids`, so clients
can stay token-in, token-out over HTTP; `logprobs: true` returns the raw (temperature 1) model
log-probs of the generated tokens. Requests that arrive together are generated as one batch
(`RequestBatcher`: one worker thread owns the model), so concurrent clients share the batched
speed-up; it remains a test and demo server, use vLLM for throughput serving.
"""
from __future__ import annotations

import queue
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field, field_validator

from turnrl.agents.generation import Generation, SamplingParams
from turnrl.agents.hf import HFPolicy
from turnrl.agents.prompts import render_ids


class ChatMessage(BaseModel):
    role: str
    content: str | list[dict[str, Any]]

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(str(part.get("text", "")) for part in self.content if part.get("type", "text") == "text")


class ChatRequest(BaseModel):
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    temperature: float = Field(1.0, ge=0.0, le=10.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    top_k: int = Field(0, ge=0)
    max_tokens: int | None = Field(None, ge=1, le=8192)
    max_completion_tokens: int | None = Field(None, ge=1, le=8192)
    stop: str | list[str] | None = None
    n: int = Field(1, ge=1, le=16)
    logprobs: bool = False
    seed: int | None = None

    @field_validator("stop")
    @classmethod
    def _stop_list(cls, v: str | list[str] | None) -> list[str]:
        return [v] if isinstance(v, str) else list(v or [])


@dataclass
class _Job:
    prompts: list[list[int]]
    sampling: SamplingParams
    seed: int | None
    done: Future = field(default_factory=Future)


class RequestBatcher:
    """Collects the requests waiting at one moment and generates those with equal sampling as one batch."""

    def __init__(self, policy: HFPolicy, max_batch: int = 32):
        self.policy = policy
        self.max_batch = max_batch
        self.jobs: queue.Queue[_Job] = queue.Queue()
        threading.Thread(target=self._loop, name="turnrl-serve-batcher", daemon=True).start()

    def submit(self, prompts: list[list[int]], sampling: SamplingParams, seed: int | None = None) -> list[Generation]:
        job = _Job(prompts, sampling, seed)
        self.jobs.put(job)
        return job.done.result()

    def _loop(self) -> None:
        while True:
            waiting = [self.jobs.get()]
            while len(waiting) < self.max_batch:
                try:
                    waiting.append(self.jobs.get_nowait())
                except queue.Empty:
                    break
            seeded = [j for j in waiting if j.seed is not None]  # a seed makes a request run on its own
            by_sampling: dict[SamplingParams, list[_Job]] = {}
            for j in waiting:
                if j.seed is None:
                    by_sampling.setdefault(j.sampling, []).append(j)
            for group in [*by_sampling.values(), *([j] for j in seeded)]:
                self._run(group)

    def _run(self, group: list[_Job]) -> None:
        try:
            if group[0].seed is not None:
                import torch

                torch.manual_seed(group[0].seed)
            gens = self.policy.generate([p for j in group for p in j.prompts], group[0].sampling)
        except Exception as e:  # the request fails, the server stays up
            for j in group:
                j.done.set_exception(e)
            return
        for j in group:
            j.done.set_result(gens[: len(j.prompts)])
            gens = gens[len(j.prompts):]


def create_app(policy: HFPolicy, model_name: str, max_prompt_tokens: int = 4096) -> FastAPI:
    """The FastAPI app serving `policy` under the model id `model_name`."""
    app = FastAPI(title="turnrl serve")
    batcher = RequestBatcher(policy)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model_name, "object": "model", "owned_by": "turnrl"}]}

    @app.post("/v1/chat/completions")
    def chat(req: ChatRequest) -> dict[str, Any]:  # sync: FastAPI runs it in a worker thread
        if req.model not in (None, model_name):
            raise HTTPException(404, f"model {req.model!r} is not served here; this server has {model_name!r}")
        try:
            prompt = render_ids(policy.tokenizer, [{"role": m.role, "content": m.text()} for m in req.messages])
        except Exception as e:  # a chat template rejecting the roles, for instance
            raise HTTPException(400, f"cannot render messages: {e}") from e
        if len(prompt) > max_prompt_tokens:
            raise HTTPException(400, f"prompt has {len(prompt)} tokens, more than this server's {max_prompt_tokens}")
        sampling = SamplingParams(temperature=req.temperature, top_p=req.top_p, top_k=req.top_k,
                                  max_new_tokens=req.max_completion_tokens or req.max_tokens or 256,
                                  stop=tuple(req.stop))
        try:
            gens = batcher.submit([prompt] * req.n, sampling, req.seed)
        except Exception as e:
            raise HTTPException(500, f"generation failed: {type(e).__name__}: {e}") from e
        choices = []
        for i, g in enumerate(gens):
            choice: dict[str, Any] = {"index": i, "message": {"role": "assistant", "content": g.text},
                                      "finish_reason": g.finish_reason, "token_ids": g.response_ids, "logprobs": None}
            if req.logprobs:
                choice["logprobs"] = {"content": [
                    {"token": policy.tokenizer.decode([t]), "logprob": lp}
                    for t, lp in zip(g.response_ids or [], g.response_logprobs or [])]}
            choices.append(choice)
        completion = sum(len(g.response_ids or []) for g in gens)
        return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
                "model": model_name, "choices": choices, "prompt_token_ids": prompt,
                "usage": {"prompt_tokens": len(prompt), "completion_tokens": completion,
                          "total_tokens": len(prompt) + completion}}

    return app


def serve(model: str, host: str = "127.0.0.1", port: int = 8000, device: str | None = None,
          log_level: str = "warning") -> None:
    """Loads `model` (`smollm2`, `tiny` or a local checkpoint) and serves it until interrupted."""
    import uvicorn

    from turnrl.agents.models import resolve_model

    path = resolve_model(model)
    policy = HFPolicy.from_pretrained(path, device=device)
    uvicorn.run(create_app(policy, model_name=model), host=host, port=port, log_level=log_level)
