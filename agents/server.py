"""An OpenAI-compatible chat-completions server over a local `HFPolicy` (FastAPI + uvicorn).

Endpoints: `GET /health`, `GET /v1/models`, `POST /v1/chat/completions` (with `stream: true`
as server-sent events, `data: [DONE]` last, as the OpenAI API streams). Besides the standard
fields, each choice carries `token_ids` and the response carries `prompt_token_ids`, so clients
can stay token-in, token-out over HTTP; `logprobs: true` returns the raw (temperature 1) model
log-probs of the generated tokens. The returned text keeps the stop string it ended on.

Safety: errors come in the OpenAI shape; the body size, stop strings, max_tokens, n and the
queue are bounded (`ServerLimits`; a full queue answers 429); a client that hangs up has its
work cancelled; `api_key` requires `Authorization: Bearer <key>` (all but /health), and `serve` refuses a
non-loopback address without a key unless told `insecure_bind`. Requests that arrive together
are generated as one batch (`RequestBatcher`); it remains a test and demo server, use vLLM for
throughput serving.
"""
from __future__ import annotations

import asyncio
import ipaddress
import time
import uuid
import warnings
from pathlib import Path
from typing import Any, AsyncIterator

from fastapi import FastAPI, Request
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from turnrl.agents.generation import Generation, SamplingParams
from turnrl.agents.hf import HFPolicy
from turnrl.agents.prompts import render_ids
from turnrl.agents.server_batcher import Job, QueueFull, RequestBatcher
from turnrl.agents.server_http import APIError, GuardMiddleware, error_body, install_error_handlers, sse
from turnrl.agents.server_schema import ChatRequest, ServerLimits, check_limits
from turnrl.agents.server_stream import TextStream, chunk

__all__ = ["ChatRequest", "RequestBatcher", "ServerLimits", "create_app", "serve", "serve_model_spec"]


def create_app(policy: HFPolicy, model_name: str, limits: ServerLimits | None = None,
               api_key: str | None = None) -> FastAPI:
    """The FastAPI app serving `policy` under the model id `model_name`."""
    limits = limits or ServerLimits()
    app = FastAPI(title="turnrl serve")
    install_error_handlers(app)
    app.add_middleware(GuardMiddleware, max_body_bytes=limits.max_body_bytes, api_key=api_key)
    batcher = RequestBatcher(policy, max_queue=limits.max_queue)
    context = getattr(getattr(policy.model, "config", None), "max_position_embeddings", None)
    app.state.batcher = batcher

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model_name, "object": "model", "created": 0,
                                            "owned_by": "turnrl"}]}

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(req: ChatRequest, request: Request) -> dict[str, Any] | Response:
        if req.model not in (None, model_name):
            raise APIError(404, f"model {req.model!r} is not served here; this server has {model_name!r}",
                           param="model", code="model_not_found")
        check_limits(req, limits)
        prompt = await run_in_threadpool(_render, policy.tokenizer, req)
        if len(prompt) > limits.max_prompt_tokens:
            raise APIError(400, f"prompt has {len(prompt)} tokens, more than this server's {limits.max_prompt_tokens}",
                           param="messages", code="context_length_exceeded")
        sampling = _sampling(req, limits, room=context - len(prompt) if context else None)
        if context and len(prompt) + sampling.max_new_tokens > context:
            raise APIError(400, f"prompt ({len(prompt)} tokens) plus max_tokens ({sampling.max_new_tokens}) is more "
                           f"than the model's context of {context} tokens", param="max_tokens",
                           code="context_length_exceeded")
        job = Job([prompt] * (req.n or 1), sampling, req.seed)
        reply = _Reply(model_name, prompt, req, policy.tokenizer)
        if req.stream:
            return _stream(batcher, job, reply)
        _admit(batcher, job)
        gens = await _result_unless_gone(batcher, job, request)
        if gens is None:  # the client has gone: nobody reads this
            return Response(status_code=499)
        return await run_in_threadpool(reply.completion, gens)  # decoding each token's text: off the event loop

    return app


def _render(tokenizer: Any, req: ChatRequest) -> list[int]:
    try:
        return render_ids(tokenizer, [{"role": m.role, "content": m.text()} for m in req.messages])
    except Exception as e:  # a chat template rejecting the roles, for instance
        raise APIError(400, f"cannot render messages: {e}", param="messages") from e


def _sampling(req: ChatRequest, limits: ServerLimits, room: int | None = None) -> SamplingParams:
    """The request's sampling; without max_tokens, the server's default or what the context has room for."""
    default = limits.default_max_tokens if room is None else max(1, min(limits.default_max_tokens, room))
    return SamplingParams(temperature=1.0 if req.temperature is None else req.temperature,
                          top_p=1.0 if req.top_p is None else req.top_p, top_k=req.top_k or 0,
                          max_new_tokens=req.max_completion_tokens or req.max_tokens or default, stop=tuple(req.stops))


def _admit(batcher: RequestBatcher, job: Job) -> None:
    try:
        batcher.enqueue(job)
    except QueueFull as e:
        raise APIError(429, f"{e}; retry shortly", code="rate_limit_exceeded", headers={"Retry-After": "1"}) from e


async def _result_unless_gone(batcher: RequestBatcher, job: Job, request: Request) -> list[Generation] | None:
    """The job's generations, or None (and the job cancelled) when the client hangs up first."""
    result = asyncio.wrap_future(job.done)
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({result, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        if not job.done.done():
            batcher.cancel(job)
    if result.cancelled():
        return None
    try:
        return result.result()
    except Exception as e:
        raise APIError(500, f"generation failed: {type(e).__name__}: {e}") from e


async def _disconnected(request: Request) -> None:
    """Returns once the client has gone (the body was read already, so the next message is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


class _Reply:
    """Builds the response objects of one request (whole, or as stream chunks)."""

    def __init__(self, model_name: str, prompt: list[int], req: ChatRequest, tokenizer: Any):
        self.base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": model_name,
                     "system_fingerprint": None}
        self.prompt = prompt
        self.req = req
        self.tokenizer = tokenizer

    def logprobs(self, g: Generation) -> dict[str, Any] | None:
        if not self.req.logprobs:
            return None
        return {"content": [{"token": (tok := self.tokenizer.decode([t])), "logprob": lp,
                             "bytes": list(tok.encode()), "top_logprobs": []}
                            for t, lp in zip(g.response_ids or [], g.response_logprobs or [])]}

    def usage(self, gens: list[Generation]) -> dict[str, int]:
        completion = sum(len(g.response_ids or []) for g in gens)
        return {"prompt_tokens": len(self.prompt), "completion_tokens": completion,
                "total_tokens": len(self.prompt) + completion}

    def completion(self, gens: list[Generation]) -> dict[str, Any]:
        choices = [{"index": i, "message": {"role": "assistant", "content": g.text}, "finish_reason": g.finish_reason,
                    "token_ids": g.response_ids, "logprobs": self.logprobs(g)} for i, g in enumerate(gens)]
        return {**self.base, "object": "chat.completion", "choices": choices, "prompt_token_ids": self.prompt,
                "usage": self.usage(gens)}


def _stream(batcher: RequestBatcher, job: Job, reply: _Reply) -> StreamingResponse:
    """Admits `job` (429 before any byte is sent) and streams its choices as server-sent events."""
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[tuple[int, str] | None] = asyncio.Queue()
    texts = [TextStream(reply.tokenizer, job.sampling.stop) for _ in job.prompts]

    def post(item: tuple[int, str] | None) -> None:  # from the batcher thread
        try:
            loop.call_soon_threadsafe(events.put_nowait, item)
        except RuntimeError:  # the event loop is closed: the server is stopping
            pass

    def on_token(choice: int, token: int) -> None:
        if delta := texts[choice].push(token):
            post((choice, delta))

    job.on_token = on_token
    _admit(batcher, job)
    job.done.add_done_callback(lambda _: post(None))

    async def cancel() -> None:
        batcher.cancel(job)

    return StreamingResponse(_events(batcher, job, reply, events, texts), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
                             background=BackgroundTask(cancel))


async def _events(batcher: RequestBatcher, job: Job, reply: _Reply, events: asyncio.Queue,
                  texts: list[TextStream]) -> AsyncIterator[str]:
    base = {**reply.base, "object": "chat.completion.chunk"}
    try:
        for i in range(len(job.prompts)):
            yield sse(chunk(base, i, {"role": "assistant", "content": ""}))
        while (item := await events.get()) is not None:
            yield sse(chunk(base, item[0], {"content": item[1]}))
        try:
            gens: list[Generation] = job.done.result()
        except Exception as e:  # headers are sent: the error travels as an event, as OpenAI's does
            yield sse(error_body(f"generation failed: {type(e).__name__}: {e}", "server_error"))
            return
        for i, g in enumerate(gens):
            if rest := texts[i].rest(g.text):
                yield sse(chunk(base, i, {"content": rest}))
            final = chunk(base, i, {}, g.finish_reason, token_ids=g.response_ids)
            final["choices"][0]["logprobs"] = reply.logprobs(g)
            yield sse(final)
        if reply.req.stream_options and reply.req.stream_options.include_usage:
            yield sse({**base, "choices": [], "usage": reply.usage(gens)})
        yield sse("[DONE]")
    finally:
        batcher.cancel(job)  # a no-op when it finished; ends its rows when the client hung up


# ---- serving from the command line -----------------------------------------------------------------------------
def serve_model_spec(spec: str) -> tuple[str, str | None]:
    """The one spelling of a served model, `hf:<smollm2 | tiny | path>`, as `turnrl eval --agent` writes it.

    Returns (spec, note): a bare `tiny`, `smollm2` or path still works for now, as `hf:<it>`, with a
    deprecation note to show; other agent kinds raise ValueError.
    """
    from turnrl.agents.registry import AGENT_FACTORIES, split_spec

    kind, argument = split_spec(spec)
    if kind == "hf":
        if not argument:
            raise ValueError("model spec 'hf' needs a model: hf:smollm2, hf:tiny or hf:/path/to/checkpoint")
        return spec, None
    if kind in AGENT_FACTORIES and not Path(spec).exists():
        raise ValueError(f"only Hugging Face models can be served (hf:smollm2, hf:tiny, hf:/path); {spec!r} names "
                         f"an agent of kind {kind!r}")
    return f"hf:{spec}", (f"--model {spec} is deprecated and will stop working: write --model hf:{spec}, "
                          "the spelling `turnrl eval --agent` uses")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost may resolve anywhere
        return False


def check_bind(host: str, api_key: str | None, insecure_bind: bool = False) -> None:
    """Refuses to serve beyond this machine without an API key, unless told `insecure_bind`."""
    if not is_loopback(host) and not api_key and not insecure_bind:
        raise PermissionError(f"refusing to serve on {host} without an API key: anyone who can reach it could use "
                              "it. Set TURNRL_API_KEY (or --api-key), or pass --insecure-bind to serve without one")


def serve(model: str, host: str = "127.0.0.1", port: int = 8000, device: str | None = None,
          log_level: str = "warning", api_key: str | None = None, insecure_bind: bool = False,
          limits: ServerLimits | None = None) -> None:
    """Loads `model` (`hf:smollm2`, `hf:tiny` or `hf:<checkpoint dir>`) and serves it until interrupted."""
    import uvicorn

    from turnrl.agents.models import resolve_model
    from turnrl.agents.registry import split_spec

    check_bind(host, api_key, insecure_bind)
    name, note = serve_model_spec(model)
    if note:
        warnings.warn(note, FutureWarning, stacklevel=2)
    policy = HFPolicy.from_pretrained(resolve_model(split_spec(name)[1] or ""), device=device)
    limits = limits or ServerLimits()
    uvicorn.run(create_app(policy, model_name=name, limits=limits, api_key=api_key), host=host, port=port,
                log_level=log_level, limit_concurrency=2 * limits.max_queue + 16)
