"""Load check of `turnrl serve`: 200 concurrent clients against the tiny model, on 127.0.0.1 only.

Starts `turnrl serve --model hf:<tiny dir>` as its own process and, with the official `openai`
client (AsyncOpenAI), sends 200 chat requests at once, then 200 streaming ones, then one 50 MB
body. Prints per phase: failures, p50 / p95 / max latency (and time to first token for
streams), requests per second, and the server's RSS before and after.

    python benchmarks/server_load.py                  # 200 concurrent, 16 new tokens each
    python benchmarks/server_load.py --concurrency 50 --max-tokens 64
"""
from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import psutil
from openai import AsyncOpenAI

HOST = "127.0.0.1"  # never anything else


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(model_dir: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "turnrl", "serve", "--model", f"hf:{model_dir}", "--host", HOST,
                             "--port", str(port), "--device", "cpu"], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"turnrl serve exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://{HOST}:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("turnrl serve did not come up within 120 s")


def rss_mib(proc: subprocess.Popen) -> float:
    return psutil.Process(proc.pid).memory_info().rss / 2 ** 20


def messages(i: int) -> list[dict[str, str]]:
    return [{"role": "system", "content": "You play a text adventure."},
            {"role": "user", "content": f"You are in room {i}. Exits: north, east. What do you do?"}]


async def one_chat(client: AsyncOpenAI, i: int, max_tokens: int) -> tuple[float, float]:
    start = time.perf_counter()
    r = await client.chat.completions.create(model=client.served_model, messages=messages(i), max_tokens=max_tokens)
    assert r.choices[0].finish_reason in ("stop", "length")
    took = time.perf_counter() - start
    return took, took


async def one_stream(client: AsyncOpenAI, i: int, max_tokens: int) -> tuple[float, float]:
    start = time.perf_counter()
    first = None
    stream = await client.chat.completions.create(model=client.served_model, messages=messages(i),
                                                  max_tokens=max_tokens, stream=True)
    async for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - start
    took = time.perf_counter() - start
    return took, first if first is not None else took


async def phase(name: str, call, url: str, model: str, n: int, max_tokens: int, proc: subprocess.Popen) -> None:
    before = rss_mib(proc)
    client = AsyncOpenAI(base_url=url, api_key="unused", max_retries=0, timeout=600)
    client.served_model = model  # type: ignore[attr-defined]
    start = time.perf_counter()
    results = await asyncio.gather(*(call(client, i, max_tokens) for i in range(n)), return_exceptions=True)
    wall = time.perf_counter() - start
    await client.close()
    ok = [r for r in results if not isinstance(r, BaseException)]
    failed = [r for r in results if isinstance(r, BaseException)]
    lat = np.array([r[0] for r in ok]) if ok else np.array([np.nan])
    first = np.array([r[1] for r in ok]) if ok else np.array([np.nan])
    print(f"{name:6s} {n} concurrent, max_tokens={max_tokens}: ok {len(ok)}, failed {len(failed)}, "
          f"wall {wall:.2f}s, {len(ok) / wall:.1f} req/s; latency p50 {np.percentile(lat, 50):.2f}s "
          f"p95 {np.percentile(lat, 95):.2f}s max {lat.max():.2f}s"
          + (f"; first token p50 {np.percentile(first, 50):.2f}s p95 {np.percentile(first, 95):.2f}s"
             if call is one_stream else "")
          + f"; server RSS {before:.0f} -> {rss_mib(proc):.0f} MiB")
    for e in failed[:3]:
        print(f"  failure: {type(e).__name__}: {e}")


def huge_body(url: str, proc: subprocess.Popen, mib: int = 50) -> None:
    body = b'{"messages": [{"role": "user", "content": "' + b"x" * (mib << 20) + b'"}]}'
    before = rss_mib(proc)
    start = time.perf_counter()
    r = httpx.post(f"{url}/chat/completions", content=body, headers={"content-type": "application/json"}, timeout=60)
    print(f"body   {mib} MB: HTTP {r.status_code} in {time.perf_counter() - start:.2f}s; "
          f"server RSS {before:.0f} -> {rss_mib(proc):.0f} MiB")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--concurrency", type=int, default=200)
    p.add_argument("--max-tokens", type=int, default=16)
    args = p.parse_args()

    from turnrl.agents.models import build_tiny_model

    port = free_port()
    url = f"http://{HOST}:{port}/v1"
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_server(build_tiny_model(Path(tmp) / "tiny"), port)
        try:
            model = httpx.get(f"{url}/models").json()["data"][0]["id"]
            print(f"turnrl serve --model {model} on {url} (pid {proc.pid}); idle RSS {rss_mib(proc):.0f} MiB")
            asyncio.run(phase("chat", one_chat, url, model, args.concurrency, args.max_tokens, proc))
            asyncio.run(phase("stream", one_stream, url, model, args.concurrency, args.max_tokens, proc))
            asyncio.run(phase("chat", one_chat, url, model, args.concurrency, args.max_tokens, proc))
            huge_body(url, proc)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
