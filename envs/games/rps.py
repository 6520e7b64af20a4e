"""Rock-paper-scissors over several rounds; both players choose before either sees the other."""
from __future__ import annotations

from typing import Any

from pettingzoo import AECEnv
from pettingzoo.classic import rps_v2

from turnrl.envs.games.codec import GameCodec, normalize

MOVES = ("rock", "paper", "scissors")


class RockPaperScissorsCodec(GameCodec):
    name = "rps"
    title = "rock-paper-scissors"

    def make(self, rounds: int = 3, **kwargs: Any) -> AECEnv:
        return rps_v2.env(num_actions=3, max_cycles=rounds, **kwargs)

    def legal_moves(self, env: AECEnv, agent: str) -> dict[str, int]:
        return {m: i for i, m in enumerate(MOVES)}

    def _last_round(self, env: AECEnv, agent: str) -> str:
        raw = env.unwrapped
        if raw.num_moves == 0:
            return "none yet"
        mine = raw.possible_agents.index(agent)
        history = raw.history  # the last round's moves, player_0 first
        return f"you played {MOVES[history[mine]]}, your opponent played {MOVES[history[1 - mine]]}"

    def render(self, env: AECEnv, agent: str) -> str:
        raw = env.unwrapped
        return (f"Round {min(raw.num_moves + 1, raw.max_cycles)} of {raw.max_cycles} (win +1, loss -1 per round).\n"
                f"Last round: {self._last_round(env, agent)}.")

    def state(self, env: AECEnv, agent: str) -> dict[str, Any]:
        return {"round": int(env.unwrapped.num_moves)}

    def state_key(self, env: AECEnv) -> str:
        raw = env.unwrapped
        return f"{raw.num_moves}:{list(raw.history)}:{[raw.state[a] for a in raw.agents]}"

    def parse(self, text: str, moves: dict[str, int], env: AECEnv, agent: str) -> int | None:
        key = normalize(text)
        return moves.get({"r": "rock", "p": "paper", "s": "scissors"}.get(key, key))
