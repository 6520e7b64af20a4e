"""An OpenAI-compatible chat-completions server over a local `HFPolicy` (FastAPI + uvicorn).

Endpoints: `GET /health`, `GET /v1/models`, `POST /v1/chat/completions`. Besides the standard
fields, each choice carries `token_ids` and the response carries `prompt_token_ids`, so clients
can stay token-in, token-out over HTTP; `logprobs: true` returns the raw (temperature 1) model
log-probs of the generated tokens. One model serves requests one at a time (a lock around
generation): this is a test and demo server, not a throughput server; use vLLM for that.
"""
from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field, field_validator

from turnrl.agents.generation import SamplingParams
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


def create_app(policy: HFPolicy, model_name: str, max_prompt_tokens: int = 4096) -> FastAPI:
    """The FastAPI app serving `policy` under the model id `model_name`."""
    app = FastAPI(title="turnrl serve")
    lock = threading.Lock()

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
        with lock:
            if req.seed is not None:
                import torch

                torch.manual_seed(req.seed)
            gens = policy.generate([prompt] * req.n, sampling)
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
