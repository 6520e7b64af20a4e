"""`turnrl data`: where datasets are, and downloading them for users with internet."""
from __future__ import annotations

import argparse
import sys

HELP = "locate or download third-party data (alfworld, webshop, nyc_taxi)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["path", "download"])
    from turnrl.datadir import datasets  # names only: downloaders load on use

    p.add_argument("name", choices=sorted(datasets()), help="dataset name")
    p.add_argument("--target", default=None, help="download destination (default: user cache)")


def run(args: argparse.Namespace) -> int:
    from turnrl import datadir

    if args.action == "path":
        try:
            print(datadir.data_dir(args.name))
        except FileNotFoundError as e:
            print(e, file=sys.stderr)
            return 1
        return 0
    try:
        print(f"downloaded {args.name} to {datadir.download(args.name, args.target)}")
    except OSError as e:  # offline machines land here with the downloader's message
        print(f"download of {args.name} failed: {e}\n(no internet here? copy the data from a machine that has it and "
              f"point $TURNRL_DATA at the folder holding {args.name}/, or use --target)", file=sys.stderr)
        return 1
    return 0
