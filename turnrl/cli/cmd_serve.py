"""`turnrl serve`: a local Hugging Face model behind an OpenAI-compatible chat-completions API."""
from __future__ import annotations

import argparse
import sys

HELP = "serve a local model (smollm2, tiny or a checkpoint dir) as an OpenAI-compatible API on 127.0.0.1"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="smollm2, tiny, or a local Hugging Face checkpoint directory")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])


def run(args: argparse.Namespace) -> int:
    from turnrl.agents.server import serve

    try:
        print(f"serving {args.model} on http://{args.host}:{args.port}/v1", file=sys.stderr, flush=True)
        serve(args.model, host=args.host, port=args.port, device=args.device, log_level=args.log_level)
    except FileNotFoundError as e:
        print(f"turnrl serve: {e}", file=sys.stderr)
        return 2
    return 0
