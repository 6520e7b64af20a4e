"""`turnrl serve` against the official `openai` client: plain chat, streaming, OpenAI error shapes, the API key,
and the resource bounds (queue, abandoned requests). All traffic goes to 127.0.0.1."""
from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

openai = pytest.importorskip("openai")

from turnrl.agents.server import check_bind, serve_model_spec  # noqa: E402
from turnrl.agents.server_schema import ServerLimits  # noqa: E402

HI = [{"role": "user", "content": "hi"}]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Served:
    def __init__(self, app, url: str):
        self.app = app
        self.url = url  # ends in /v1

    @property
    def batcher(self):
        return self.app.state.batcher

    def client(self, **kwargs) -> "openai.OpenAI":
        kwargs.setdefault("api_key", "unused")
        kwargs.setdefault("max_retries", 0)
        return openai.OpenAI(base_url=self.url, **kwargs)


@pytest.fixture(scope="module")
def tiny_model(tiny_dir):
    from turnrl.agents.hf import HFPolicy

    return HFPolicy.from_pretrained(tiny_dir, device="cpu")


@pytest.fixture()
def serve_app(tiny_model):
    """Starts `create_app` under uvicorn on 127.0.0.1 in a thread; stops every server it started."""
    import uvicorn

    from turnrl.agents.server import create_app

    servers = []

    def start(limits: ServerLimits | None = None, api_key: str | None = None) -> _Served:
        app = create_app(tiny_model, "hf:tiny", limits=limits, api_key=api_key)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return _Served(app, f"http://127.0.0.1:{port}/v1")

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def _wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# ---- item 2: requests without `stop` -----------------------------------------------------------------------------
def test_plain_chat_completion_without_stop(serve_app):
    served = serve_app()
    with served.client() as client:
        assert [m.id for m in client.models.list()] == ["hf:tiny"]
        r = client.chat.completions.create(model="hf:tiny", messages=HI, max_tokens=6, n=2)
    assert r.object == "chat.completion" and r.model == "hf:tiny" and len(r.choices) == 2
    for i, choice in enumerate(r.choices):
        assert choice.index == i and choice.message.role == "assistant" and isinstance(choice.message.content, str)
        assert choice.finish_reason in ("stop", "length")
        assert 1 <= len(choice.model_extra["token_ids"]) <= 6
    assert r.usage.completion_tokens == sum(len(c.model_extra["token_ids"]) for c in r.choices)
    assert r.usage.prompt_tokens == len(r.model_extra["prompt_token_ids"]) > 0
    with serve_app(ServerLimits(default_max_tokens=5)).client() as client:  # no max_tokens: the default applies
        r = client.chat.completions.create(model="hf:tiny", messages=HI, temperature=0)
    assert r.usage.completion_tokens == 5 and r.choices[0].finish_reason == "length"  # greedy tiny: never EOS


# ---- item 3: streaming ---------------------------------------------------------------------------------------------
def test_streaming_sends_the_same_text_as_a_plain_request(serve_app):
    served = serve_app()
    ask = dict(model="hf:tiny", messages=HI, temperature=1.0, max_tokens=24, seed=7)
    with served.client() as client:
        whole = client.chat.completions.create(**ask).choices[0].message.content
        assert len(whole) > 4
        stop = whole[len(whole) // 2: len(whole) // 2 + 2]  # a stop string this seed is known to produce
        stopped = client.chat.completions.create(**ask, stop=[stop])
        chunks = list(client.chat.completions.create(**ask, stop=[stop], stream=True,
                                                     stream_options={"include_usage": True}))
    text = stopped.choices[0].message.content
    assert stop in text and len(text) < len(whole) and stopped.choices[0].finish_reason == "stop"
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    with_choices = [c for c in chunks if c.choices]
    assert "".join(c.choices[0].delta.content or "" for c in with_choices) == text
    assert len(with_choices) >= 4  # the text came in pieces, not in one final chunk
    assert [c.choices[0].finish_reason for c in with_choices][-1] == "stop"
    assert all(c.choices[0].finish_reason is None for c in with_choices[:-1])
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == stopped.usage.completion_tokens


def test_stream_wire_format_ends_with_done(serve_app):
    served = serve_app()
    body = {"model": "hf:tiny", "messages": HI, "max_tokens": 5, "n": 2, "stream": True, "logprobs": True}
    with httpx.stream("POST", f"{served.url}/chat/completions", json=body, timeout=30) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        raw = r.read().decode()
    events = [e for e in raw.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"
    choices = [json.loads(e[6:])["choices"][0] for e in events[:-1]]
    finishes = [c for c in choices if c["finish_reason"]]
    assert sorted(c["index"] for c in finishes) == [0, 1]
    for c in finishes:  # the finishing chunk carries the choice's token ids and their raw log-probs
        assert 1 <= len(c["token_ids"]) == len(c["logprobs"]["content"]) <= 5
        assert all(t["logprob"] <= 0 for t in c["logprobs"]["content"])


# ---- items 4 and 7: errors in the OpenAI shape, validated fields ----------------------------------------------------
def test_errors_have_the_openai_shape(serve_app):
    served = serve_app()
    with served.client() as client:
        cases = [
            (dict(seed=2 ** 80), openai.BadRequestError, "seed"),
            (dict(max_tokens=10 ** 6), openai.BadRequestError, "max_tokens"),
            (dict(stop=[f"s{i}" for i in range(5)]), openai.BadRequestError, "stop"),
            (dict(stop=["x" * 10_000]), openai.BadRequestError, "stop"),
            (dict(n=17), openai.BadRequestError, "n"),
            (dict(model="gpt-4o"), openai.NotFoundError, "model"),
        ]
        for kwargs, error, param in cases:
            ask = {"model": "hf:tiny", "messages": HI, "max_tokens": 4, **kwargs}
            with pytest.raises(error) as info:
                client.chat.completions.create(**ask)
            assert info.value.param == param, kwargs
            assert info.value.type == "invalid_request_error" and info.value.message
            assert set(info.value.body) == {"message", "type", "param", "code"}
        with pytest.raises(openai.BadRequestError, match="messages"):
            client.chat.completions.create(model="hf:tiny", messages=[])
    for field, value in (("temperature", "NaN"), ("top_p", "Infinity"), ("temperature", "-Infinity")):
        # the openai client refuses to send NaN, other clients do not: Python's json writes it
        raw = httpx.post(f"{served.url}/chat/completions", headers={"content-type": "application/json"},
                         content=f'{{"messages": {json.dumps(HI)}, "max_tokens": 2, "{field}": {value}}}')
        assert raw.status_code == 400 and raw.json()["error"]["param"] == field
    raw = httpx.post(f"{served.url}/chat/completions", content=b"{not json",
                     headers={"content-type": "application/json"})
    assert raw.status_code == 400 and set(raw.json()["error"]) == {"message", "type", "param", "code"}
    missing = httpx.get(f"{served.url}/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "invalid_request_error"
    assert httpx.post(f"{served.url}/chat/completions", json={"messages": HI, "max_tokens": 2}).status_code == 200


def test_prompt_plus_max_tokens_must_fit_the_model_context(serve_app):
    served = serve_app(ServerLimits(max_tokens=8192))  # the tiny model's context is 4096 positions
    with served.client() as client, pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="hf:tiny", messages=HI, max_tokens=4095)
    assert info.value.code == "context_length_exceeded" and "4096" in info.value.message


# ---- item 6: the API key -------------------------------------------------------------------------------------------
def test_api_key_is_required_when_set(serve_app):
    served = serve_app(api_key="s3cret-key")
    with served.client(api_key="wrong") as client, pytest.raises(openai.AuthenticationError) as info:
        client.chat.completions.create(model="hf:tiny", messages=HI, max_tokens=2)
    assert info.value.status_code == 401 and info.value.code == "invalid_api_key"
    assert httpx.get(f"{served.url}/models").status_code == 401  # no header at all
    assert httpx.get(served.url.removesuffix("/v1") + "/openapi.json").status_code == 401
    assert httpx.get(f"{served.url}/models", headers={"Authorization": "Bearer s3cret-ke"}).status_code == 401
    assert httpx.get(served.url.removesuffix("/v1") + "/health").status_code == 200  # health stays open
    with served.client(api_key="s3cret-key") as client:
        assert client.chat.completions.create(model="hf:tiny", messages=HI, max_tokens=2).choices


def test_non_loopback_bind_needs_a_key_or_an_explicit_force():
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_bind(host, api_key=None)
    for host in ("0.0.0.0", "::", "192.168.1.10", "my-host.example"):
        with pytest.raises(PermissionError, match="insecure-bind"):
            check_bind(host, api_key=None)
        check_bind(host, api_key="k")
        check_bind(host, api_key=None, insecure_bind=True)


# ---- item 8: one model spelling ------------------------------------------------------------------------------------
def test_model_is_spelled_as_eval_spells_agents():
    assert serve_model_spec("hf:tiny") == ("hf:tiny", None)
    assert serve_model_spec("hf:/some/checkpoint") == ("hf:/some/checkpoint", None)
    spec, note = serve_model_spec("tiny")
    assert spec == "hf:tiny" and "deprecated" in note and "--model hf:tiny" in note
    for bad in ("hf", "hf:", "openai:http://127.0.0.1:8000/v1", "random"):
        with pytest.raises(ValueError, match="hf:"):
            serve_model_spec(bad)


# ---- item 5: bounded queue, abandoned work cancelled ---------------------------------------------------------------
def _abandon(url: str, body: dict, after: float = 0.5) -> None:
    """Sends `body` and hangs up after `after` seconds, as a client that times out does."""
    with httpx.Client(timeout=after) as http:
        with pytest.raises(httpx.TimeoutException):
            http.post(f"{url}/chat/completions", json=body)


def _long(seed: int) -> dict:
    # greedy on the random tiny model never meets EOS: 1000 tokens take a second or more; a seed makes each run alone
    return {"model": "hf:tiny", "messages": HI, "max_tokens": 1000, "temperature": 0, "seed": seed}


def test_abandoned_requests_are_cancelled_and_do_not_delay_later_ones(serve_app, tiny_model):
    from turnrl.agents.generation import SamplingParams

    served = serve_app()
    start = time.monotonic()
    tiny_model.generate([[1, 5, 9]], SamplingParams(temperature=0, max_new_tokens=1000, stop=()))
    one_long = time.monotonic() - start  # what each abandoned request would cost if it kept running
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda s: _abandon(served.url, _long(s)), range(4)))
    assert _wait_until(lambda: served.batcher.admitted == 0, timeout=one_long), "abandoned work was not dropped"
    start = time.monotonic()
    with served.client() as client:
        r = client.chat.completions.create(model="hf:tiny", messages=HI, max_tokens=4)
    waited = time.monotonic() - start
    assert r.usage.completion_tokens <= 4
    assert waited < max(2.0, one_long), f"a 4-token request waited {waited:.1f}s behind abandoned work"

    with httpx.stream("POST", f"{served.url}/chat/completions", json={**_long(9), "stream": True}) as r:
        next(r.iter_lines())  # the stream started; now hang up
    assert _wait_until(lambda: served.batcher.admitted == 0, timeout=one_long), "abandoned stream kept generating"


def test_full_queue_answers_429(serve_app):
    served = serve_app(ServerLimits(max_queue=2))
    url = f"{served.url}/chat/completions"
    with httpx.Client(timeout=60) as a, httpx.Client(timeout=60) as b:
        # two streams hold both places (a stream is admitted before its first byte), until they are closed
        with a.stream("POST", url, json={**_long(1), "stream": True}) as ra, \
                b.stream("POST", url, json={**_long(2), "stream": True}) as rb:
            assert ra.status_code == rb.status_code == 200 and served.batcher.admitted == 2
            with served.client() as client, pytest.raises(openai.RateLimitError) as info:
                client.chat.completions.create(model="hf:tiny", messages=HI, max_tokens=2)
    assert info.value.status_code == 429 and info.value.response.headers["retry-after"] == "1"
    assert info.value.type == "rate_limit_error" and info.value.code == "rate_limit_exceeded"
    assert _wait_until(lambda: served.batcher.admitted == 0, timeout=30)  # closing the streams freed both
    with served.client() as client:
        assert client.chat.completions.create(model="hf:tiny", messages=HI, max_tokens=2).choices
