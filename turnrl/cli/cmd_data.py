"""`turnrl data`: where datasets are, and downloading them for users with internet."""
from __future__ import annotations

import argparse

HELP = "locate or download third-party data (alfworld, webshop, nyc_taxi)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["path", "download"])
    p.add_argument("name", help="dataset name")
    p.add_argument("--target", default=None, help="download destination (default: user cache)")


def run(args: argparse.Namespace) -> int:
    from turnrl import datadir

    if args.action == "path":
        try:
            print(datadir.data_dir(args.name))
        except FileNotFoundError as e:
            print(e)
            return 1
        return 0
    try:
        print(f"downloaded {args.name} to {datadir.download(args.name, args.target)}")
    except OSError as e:  # offline machines land here with the downloader's message
        print(f"download of {args.name} failed: {e}")
        return 1
    return 0
