"""`turnrl play ENV`: a person plays an env in the terminal.

Type a command, or the number of an admissible action. Meta commands start with a colon:
`:hint` shows the expert's action (when the env has one), `:reset` starts a new episode with the
next seed, `:quit` leaves, as do `quit`, `exit`, Ctrl-D and Ctrl-C. `--record FILE` appends each
episode to JSONL.
"""
from __future__ import annotations

import argparse
from typing import Any

HELP = "play an environment yourself in the terminal"
LEAVE = (":quit", ":q", "quit", "exit")
INTRO = ("type a command, or the number of an action; :hint asks the expert, :reset starts a new episode, "
         ":quit (or quit, exit, Ctrl-D) leaves")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("env", help="environment id, e.g. turnrl/TextWorld-v0 (see `turnrl list`)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first episode")
    p.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="env constructor argument; VALUE is parsed as JSON if it can be (repeatable)")
    p.add_argument("--max-steps", type=int, default=None,
                   help="step limit per episode (default: the env's registered max_episode_steps)")
    p.add_argument("--record", default=None, help="append finished episodes to this JSONL file")


def resolve(text: str, admissible: list[str] | None) -> str:
    """A number picks that admissible action (1-based); anything else is the command itself."""
    text = text.strip()
    if admissible and text.isdigit() and 1 <= int(text) <= len(admissible):
        return admissible[int(text) - 1]
    return text


def show(console: Any, obs: str, info: dict[str, Any], with_task: bool = False) -> None:
    """The observation and numbered admissible actions (and the task, at the start of an episode)."""
    from rich.markup import escape

    console.print(f"\n{escape(obs)}")
    if with_task and info.get("task") and str(info["task"]) not in obs:
        console.print(f"[dim]task: {escape(str(info['task']))}[/dim]")
    actions = info.get("admissible_actions")
    if actions:
        console.print("[cyan]" + "  ".join(f"{i}) {escape(a)}" for i, a in enumerate(actions, 1)) + "[/cyan]")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    import turnrl  # noqa: F401  (registers envs)
    from turnrl.cli.options import parse_key_values
    from turnrl.envs.pool import make_env
    from turnrl.envs.wrappers import EpisodeRecorder

    console = Console(highlight=False)
    env_kwargs = parse_key_values(args.env_arg)
    if args.max_steps is not None:
        env_kwargs["max_episode_steps"] = args.max_steps  # make_env's one StepLimit takes it
    env = make_env(args.env, env_kwargs)
    if args.record:
        env = EpisodeRecorder(env, args.record)
    seed = args.seed
    try:
        console.print(f"[dim]{INTRO}[/dim]")
        obs, info = env.reset(seed=seed)
        show(console, obs, info, with_task=True)
        total = 0.0
        while True:
            try:
                text = console.input("[bold]> [/bold]")
            except (EOFError, KeyboardInterrupt):  # Ctrl-D, Ctrl-C: leave like :quit
                console.print()
                break
            if text.strip().lower() in LEAVE:
                break
            if text.strip() == ":hint":
                console.print(f"[yellow]expert: {info.get('expert_action') or '(no expert here)'}[/yellow]")
                continue
            if text.strip() == ":reset":
                seed += 1
                (obs, info), total = env.reset(seed=seed), 0.0
                show(console, obs, info, with_task=True)
                continue
            try:
                obs, reward, terminated, truncated, info = env.step(resolve(text, info.get("admissible_actions")))
            except Exception as e:  # noqa: BLE001 - an engine failure ends the game, not the session
                console.print(f"[red]the environment failed: {type(e).__name__}: {e}; :reset to start over[/red]")
                continue
            total += reward
            show(console, obs, info)
            console.print(f"[dim]reward {reward:+g} (total {total:g})[/dim]")
            if terminated or truncated:
                verdict = "won" if info.get("won") else info.get("end_reason") or ("over" if terminated else "truncated")
                console.print(f"[bold]episode {verdict}[/bold]; :reset for another, :quit to leave")
    finally:
        env.close()
    return 0
