"""`turnrl arena GAME --agent A B C --games N`: round-robin tournament, W/D/L table and TrueSkill.

Every pair of agents plays N games of GAME (seats alternate, seeds SEED, SEED+1, ...) through
`turnrl.selfplay.play_games`; a game is a win for the player with the positive outcome, a draw
when outcomes tie or the move limit is reached. Ratings are TrueSkill (mu, sigma), updated game
by game in round-robin order; the ranking is by the conservative estimate mu - 3 sigma.
Agents are specs: random, minimax, c4search[:depth], stockfish[:skill], checkpoint:<dir>, hf:...
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path
from typing import Any

from turnrl.cli.options import renamed

HELP = "round-robin tournament between agents on a text game: W/D/L table and TrueSkill ratings"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("game", help="tictactoe, connect_four, leduc_holdem, texas_holdem, rps, chess, negotiation")
    p.add_argument("--agent", nargs="+", action="extend", required=True, metavar="SPEC",
                   help="two or more agent specs (--agent A B, or --agent A --agent B)")
    renamed(p, "--agents", "--agent")
    p.add_argument("--games", type=int, default=10, help="games per pair (seats alternate)")
    p.add_argument("--seed", type=int, default=0, help="first game seed")
    p.add_argument("--max-steps", type=int, default=400, help="move limit per game (a draw when reached)")
    renamed(p, "--max-moves", "--max-steps")
    p.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="game constructor argument, VALUE parsed as JSON if it can be (repeatable)")
    renamed(p, "--game-arg", "--env-arg")
    p.add_argument("--out", default=None, help="write the results JSON here")


def play_pair(game: str, a: tuple[str, Any], b: tuple[str, Any], n_games: int, seed: int, max_moves: int,
              game_kwargs: dict[str, Any]) -> list[float]:
    """Outcomes for `a` (sign: +1 win, 0 draw, -1 loss) of n games, `a` in the first seat on even games."""
    from turnrl.envs.games.catalog import make_game
    from turnrl.selfplay import play_games
    from turnrl.types import END_GAME_OVER

    def make_env():
        return make_game(game, **game_kwargs)

    signs: list[float] = [0.0] * n_games
    for a_first in (True, False):
        idx = [k for k in range(n_games) if (k % 2 == 0) == a_first]
        if not idx:
            continue
        seats = [a[1], b[1]] if a_first else [b[1], a[1]]
        trajs = play_games(make_env, seats, seeds=[seed + k for k in idx], max_moves=max_moves, game=game)
        for j, k in enumerate(idx):
            first, second = trajs[2 * j], trajs[2 * j + 1]
            mine, theirs = (first, second) if a_first else (second, first)
            truncated = mine.metadata.get("end_reason") != END_GAME_OVER
            diff = float(mine.metadata["outcome"]) - float(theirs.metadata["outcome"])
            signs[k] = 0.0 if truncated else float((diff > 0) - (diff < 0))
    return signs


def rate(names: list[str], games: dict[tuple[str, str], list[float]]) -> dict[str, dict[str, float]]:
    """TrueSkill, one 1-vs-1 update per game, pairs interleaved game by game."""
    import trueskill

    env = trueskill.TrueSkill(draw_probability=0.2)
    ratings = {n: env.create_rating() for n in names}
    n_games = max((len(v) for v in games.values()), default=0)
    for k in range(n_games):
        for (a, b), signs in games.items():
            if k >= len(signs):
                continue
            if signs[k] < 0:
                ratings[b], ratings[a] = env.rate_1vs1(ratings[b], ratings[a])
            else:
                ratings[a], ratings[b] = env.rate_1vs1(ratings[a], ratings[b], drawn=signs[k] == 0)
    return {n: {"mu": r.mu, "sigma": r.sigma, "conservative": r.mu - 3 * r.sigma} for n, r in ratings.items()}


def tally(names: list[str], games: dict[tuple[str, str], list[float]]) -> dict[str, dict[str, dict[str, int]]]:
    """W/D/L of every agent against every other."""
    table = {a: {b: {"win": 0, "draw": 0, "loss": 0} for b in names if b != a} for a in names}
    for (a, b), signs in games.items():
        for s in signs:
            key_a, key_b = ("win", "loss") if s > 0 else ("loss", "win") if s < 0 else ("draw", "draw")
            table[a][b][key_a] += 1
            table[b][a][key_b] += 1
    return table


def format_table(names: list[str], table: dict, ratings: dict) -> str:
    ranking = sorted(names, key=lambda n: -ratings[n]["conservative"])
    width = max(12, *(len(n) for n in names))
    lines = ["W/D/L of the row agent against the column agent; TrueSkill mu +- sigma",
             "".ljust(width) + "".join(n[:width].rjust(width + 1) for n in ranking) + "   rating"]
    for a in ranking:
        cells = ["-" if a == b else "{win}/{draw}/{loss}".format(**table[a][b]) for b in ranking]
        r = ratings[a]
        lines.append(a[:width].ljust(width) + "".join(c.rjust(width + 1) for c in cells)
                     + f"   {r['mu']:.1f} +- {r['sigma']:.1f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from turnrl.agents.opponents import make_opponent
    from turnrl.cli.options import parse_key_values
    from turnrl.envs.games.catalog import list_games
    from turnrl.io import atomic_write_json

    if args.game not in list_games():
        print(f"unknown game {args.game!r}; known: {', '.join(list_games())}", file=sys.stderr)
        return 2
    names = list(dict.fromkeys(args.agent))
    if len(names) < 2 or args.games < 1:
        print("need at least two distinct agents and --games >= 1", file=sys.stderr)
        return 2
    try:
        game_kwargs = parse_key_values(args.env_arg)
        agents = {n: make_opponent(n, seed=args.seed + i) for i, n in enumerate(names)}
    except (ValueError, FileNotFoundError) as e:
        print(f"arena: {e}", file=sys.stderr)
        return 2
    try:
        games = {(a, b): play_pair(args.game, (a, agents[a]), (b, agents[b]), args.games, args.seed, args.max_steps,
                                   game_kwargs)
                 for a, b in itertools.combinations(names, 2)}
    finally:
        for agent in agents.values():
            if hasattr(agent, "close"):
                agent.close()
    table, ratings = tally(names, games), rate(names, games)
    print(format_table(names, table, ratings))
    if args.out:
        result = {"game": args.game, "games_per_pair": args.games, "seed": args.seed, "agents": names,
                  "results": table, "ratings": ratings,
                  "ranking": sorted(names, key=lambda n: -ratings[n]["conservative"]),
                  "games": {f"{a} vs {b}": s for (a, b), s in games.items()}}
        atomic_write_json(Path(args.out), result)
    return 0
