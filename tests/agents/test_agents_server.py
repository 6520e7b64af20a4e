"""The OpenAI-compatible client against a real `turnrl serve` process running the tiny model."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from turnrl.agents.generation import SamplingParams
from turnrl.agents.logprobs import response_logprobs_list
from turnrl.agents.openai_client import OpenAIPolicy, PolicyServerError
from turnrl.types import AgentInput


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(model_dir: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "turnrl", "serve", "--model", f"hf:{model_dir}", "--port", str(port),
                             "--device", "cpu"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # torch start-up on 2 busy cores can take a minute
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"turnrl serve exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, f"{base}/v1"
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("turnrl serve did not come up within 180 s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture()
def server(tiny_dir):
    """`turnrl serve` as its own process, so the test can kill it."""
    proc, url = _start_server(tiny_dir)
    yield proc, url
    _stop(proc)


@pytest.fixture()
def app_url(tiny_dir):
    """The same app under uvicorn in a thread of this process (no second torch start-up)."""
    import uvicorn

    from turnrl.agents.hf import HFPolicy
    from turnrl.agents.server import create_app

    policy = HFPolicy.from_pretrained(tiny_dir, device="cpu")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(policy, str(tiny_dir)), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    thread.join(timeout=10)


def _inputs(n: int) -> list[AgentInput]:
    return [AgentInput(observation=f"room {i}", task="find the exit", admissible_actions=["go east", "go west"],
                       env_id="turnrl/TextWorld-v0") for i in range(n)]


def test_client_gets_exact_ids_and_raw_logprobs_over_http(app_url, tiny_dir):
    from transformers import AutoModelForCausalLM

    url = app_url
    with OpenAIPolicy(url, sampling=SamplingParams(temperature=0.8, max_new_tokens=12), concurrency=4) as policy:
        assert policy.model == str(tiny_dir)
        outs = policy.act(_inputs(6))
    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    ref = response_logprobs_list(model, [o.prompt_ids for o in outs], [o.response_ids for o in outs])
    for o, r in zip(outs, ref):
        assert not o.valid and o.invalid_reason  # a random model breaks the format: invalid, no error
        assert 0 < len(o.response_ids) <= 12
        np.testing.assert_allclose(o.response_logprobs, r, atol=1e-4)

    bad = httpx.post(f"{url}/chat/completions", json={"messages": [], "max_tokens": 4})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "messages"
    wrong = httpx.post(f"{url}/chat/completions", json={"model": "other", "messages": [{"role": "user",
                                                                                          "content": "hi"}]})
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "model_not_found"
    with OpenAIPolicy(url, model="other", max_retries=0) as policy, pytest.raises(PolicyServerError, match="404"):
        policy.act(_inputs(1))


def test_server_stopped_mid_run_gives_a_clear_error_without_hanging(server):
    proc, url = server
    with OpenAIPolicy(url, sampling=SamplingParams(max_new_tokens=2)) as probe:
        assert len(probe.act(_inputs(1))[0].response_ids) <= 2  # the server works
    policy = OpenAIPolicy(url, sampling=SamplingParams(max_new_tokens=400, stop=()), concurrency=4, timeout=30,
                          max_retries=1, backoff=0.1)
    result: dict[str, BaseException | None] = {}

    def run() -> None:
        try:
            policy.act(_inputs(16))  # requests queue behind one model lock: this takes several seconds
            result["error"] = None
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            result["error"] = e

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.5)
    proc.kill()
    thread.join(timeout=60)  # a killed server resets or refuses connections: no timeout is needed
    assert not thread.is_alive(), "client hung after the server died"
    assert isinstance(result["error"], PolicyServerError) and "failed after 2 attempts" in str(result["error"])
    with pytest.raises(PolicyServerError, match="ConnectError"):
        policy.act(_inputs(1))
    policy.close()


def test_unreachable_server_fails_fast():
    policy = OpenAIPolicy(f"http://127.0.0.1:{_free_port()}/v1", model="m", max_retries=1, backoff=0.05, timeout=2)
    start = time.monotonic()
    with pytest.raises(PolicyServerError, match="failed after 2 attempts"):
        policy.act(_inputs(2))
    assert time.monotonic() - start < 10


def test_batcher_returns_each_request_its_own_generations(tiny_policy):
    from concurrent.futures import ThreadPoolExecutor

    from turnrl.agents.server import RequestBatcher

    greedy = SamplingParams(temperature=0, max_new_tokens=8, stop=())
    prompts = [[1, 5 + i, 9, 7 + 2 * i] for i in range(6)]
    expected = [g.response_ids for g in tiny_policy.generate(prompts, greedy)]
    batcher = RequestBatcher(tiny_policy)
    with ThreadPoolExecutor(6) as pool:
        got = list(pool.map(lambda p: batcher.submit([p, p], greedy), prompts))
    assert [[g.response_ids for g in gens] for gens in got] == [[e, e] for e in expected]
    with pytest.raises(ValueError, match="empty prompt"):
        batcher.submit([[]], greedy)
    assert batcher.submit([prompts[0]], greedy)[0].response_ids == expected[0]  # still serving after a failure


def test_served_model_is_named_as_eval_names_it(server, tiny_dir):
    _, url = server  # started as `turnrl serve --model hf:<dir>`
    assert httpx.get(f"{url}/models").json()["data"][0]["id"] == f"hf:{tiny_dir}"


def _rss(proc: subprocess.Popen) -> int:
    import psutil

    return psutil.Process(proc.pid).memory_info().rss


def test_huge_body_is_refused_quickly_with_bounded_memory(server):
    proc, url = server
    httpx.post(f"{url}/chat/completions", json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})
    before = _rss(proc)
    body = b'{"messages": [{"role": "user", "content": "' + b"x" * (50 << 20) + b'"}]}'
    start = time.monotonic()
    declared = httpx.post(f"{url}/chat/completions", content=body, headers={"content-type": "application/json"},
                          timeout=30)
    took = time.monotonic() - start

    def pieces():  # no Content-Length: the server must count the bytes itself
        for i in range(0, len(body), 1 << 20):
            yield body[i:i + (1 << 20)]

    chunked = httpx.post(f"{url}/chat/completions", content=pieces(), headers={"content-type": "application/json"},
                         timeout=30)
    grown = _rss(proc) - before
    for r in (declared, chunked):
        assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
    assert took < 5, f"a 50 MB body took {took:.1f}s to refuse"
    assert grown < 32 << 20, f"the server grew by {grown >> 20} MiB reading a refused body"
    ok = httpx.post(f"{url}/chat/completions", json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})
    assert ok.status_code == 200


def test_non_loopback_bind_without_key_is_refused_by_the_cli():
    run = subprocess.run([sys.executable, "-m", "turnrl", "serve", "--model", "hf:tiny", "--host", "0.0.0.0"],
                         capture_output=True, text=True, timeout=300, env={**os.environ, "TURNRL_API_KEY": ""})
    assert run.returncode == 2 and "--insecure-bind" in run.stderr and "TURNRL_API_KEY" in run.stderr
