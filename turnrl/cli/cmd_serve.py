"""`turnrl serve`: a local Hugging Face model behind an OpenAI-compatible chat-completions API."""
from __future__ import annotations

import argparse
import os
import sys

HELP = "serve a local model (hf:smollm2, hf:tiny or hf:<checkpoint dir>) as an OpenAI-compatible API on 127.0.0.1"
API_KEY_ENV = "TURNRL_API_KEY"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True,
                   help="hf:smollm2, hf:tiny or hf:/path/to/checkpoint (the spelling of `turnrl eval --agent`)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    p.add_argument("--api-key", default=None,
                   help=f"require 'Authorization: Bearer <key>' on /v1 (default: ${API_KEY_ENV}; prefer the "
                        "variable, a flag shows in the process list)")
    p.add_argument("--insecure-bind", action="store_true",
                   help="allow a non-loopback --host without an API key (anyone who reaches it can use it)")
    p.add_argument("--max-queue", type=int, default=None, help="requests held at once; more get 429 (default 256)")
    p.add_argument("--max-tokens-limit", type=int, default=None, help="largest max_tokens a request may ask (2048)")
    p.add_argument("--max-prompt-tokens", type=int, default=None, help="longest prompt accepted (default 4096)")
    p.add_argument("--max-body-bytes", type=int, default=None, help="largest request body (default 1 MiB)")


def _limits(args: argparse.Namespace):
    from turnrl.agents.server_schema import ServerLimits

    chosen = {"max_queue": args.max_queue, "max_tokens": args.max_tokens_limit,
              "max_prompt_tokens": args.max_prompt_tokens, "max_body_bytes": args.max_body_bytes}
    return ServerLimits(**{k: v for k, v in chosen.items() if v is not None})


def run(args: argparse.Namespace) -> int:
    from turnrl.agents.server import check_bind, serve, serve_model_spec

    api_key = args.api_key or os.environ.get(API_KEY_ENV) or None
    try:
        check_bind(args.host, api_key, args.insecure_bind)
        model, note = serve_model_spec(args.model)
    except (PermissionError, ValueError) as e:
        print(f"turnrl serve: {e}", file=sys.stderr)
        return 2
    if note:
        print(f"turnrl serve: {note}", file=sys.stderr)
    try:
        print(f"turnrl serve: loading {model} to serve on http://{args.host}:{args.port}/v1"
              f"{' (API key required)' if api_key else ''}", file=sys.stderr, flush=True)
        serve(model, host=args.host, port=args.port, device=args.device, log_level=args.log_level,
              api_key=api_key, insecure_bind=args.insecure_bind, limits=_limits(args))
    except FileNotFoundError as e:
        print(f"turnrl serve: {e}", file=sys.stderr)
        return 2
    return 0
