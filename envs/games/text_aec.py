"""`TextGameEnv`: any PettingZoo AEC game as an AEC env whose observations and actions are text.

Observations say what game it is, which seat you hold, the position as you may see it, and your
legal moves in natural notation. Actions are text, parsed back to the engine's action id by the
game's codec. A move that cannot be used (unparsable, illegal, wrong type, empty, huge) never
reaches the engine; what happens next is the `illegal` policy:

- "retry": the same player moves again, told why; after `max_retries` consecutive bad moves it
  forfeits;
- "penalize": as retry, and every bad move costs `invalid_penalty` reward;
- "forfeit": the first bad move loses the game (-1 for the offender, +1 shared by the others).

`infos[agent]` carries `legal_moves` (the admissible texts), `valid`, `invalid_reason` and the
codec's `game_state` for scripted opponents; both are filled for the player to move only (the
others cannot act, and computing them every step would double the text overhead).
"""
from __future__ import annotations

from typing import Any, ClassVar

from pettingzoo import AECEnv

from turnrl.envs.base import action_problem
from turnrl.envs.games.codec import GameCodec
from turnrl.envs.spaces import FreeText

ILLEGAL_POLICIES = ("retry", "penalize", "forfeit")
MAX_ACTION_CHARS = 1000


class TextObservation(str):
    """A `str` that also states its dtype, as PettingZoo's `api_test` asks of every observation
    (it compares `observation.dtype` with the space's; `gymnasium.spaces.Text` says `str`)."""

    dtype = str


class TextGameEnv(AECEnv):
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "is_parallelizable": False}

    def __init__(self, codec: GameCodec, illegal: str = "retry", max_retries: int = 3,
                 invalid_penalty: float = 0.1, render_mode: str | None = None, **game_kwargs: Any):
        super().__init__()
        if illegal not in ILLEGAL_POLICIES:
            raise ValueError(f"illegal must be one of {ILLEGAL_POLICIES}, got {illegal!r}")
        self.codec, self.illegal, self.max_retries = codec, illegal, int(max_retries)
        self.invalid_penalty, self.render_mode = float(invalid_penalty), render_mode
        self.game = codec.make(**game_kwargs)
        self._raw = self.game.unwrapped
        self.metadata = {**self.metadata, "name": f"turnrl_{codec.name}"}
        self.possible_agents = list(self.game.possible_agents)
        self._obs_space = FreeText(1 << 16)
        self._act_space = FreeText(MAX_ACTION_CHARS)
        self.moves_played = 0

    def observation_space(self, agent: str) -> FreeText:
        return self._obs_space

    def action_space(self, agent: str) -> FreeText:
        return self._act_space

    # -- episode ----------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        self.game.reset(seed=seed)
        self._forfeited = False
        self._strikes = dict.fromkeys(self.possible_agents, 0)
        self._notes = dict.fromkeys(self.possible_agents, "")
        self.moves_played = 0
        self._sync()

    def _sync(self) -> None:
        """Copies the engine's AEC bookkeeping and adds the text-level info of every live agent."""
        raw = self._raw  # PettingZoo's wrappers forward these attributes one getattr at a time
        self.agents = list(raw.agents)
        self.agent_selection = raw.agent_selection
        self.rewards = {a: float(r) for a, r in raw.rewards.items()}
        self._cumulative_rewards = {a: float(r) for a, r in raw._cumulative_rewards.items()}
        self.terminations = dict(raw.terminations)
        self.truncations = dict(raw.truncations)
        mover = self.agent_selection
        live = bool(self.agents) and not (self.terminations.get(mover) or self.truncations.get(mover))
        self._moves = self.codec.legal_moves(raw, mover) if live else {}
        self.infos = {a: self._info(a) for a in self.agents}

    def _info(self, agent: str, valid: bool = True, reason: str | None = None) -> dict[str, Any]:
        """Legal moves and game state for the player to move; the others wait (empty)."""
        if agent != self.agent_selection or not self._moves:
            return {"legal_moves": [], "valid": valid, "invalid_reason": reason, "game_state": {}}
        return {"legal_moves": list(self._moves), "valid": valid, "invalid_reason": reason,
                "game_state": self.codec.state(self._raw, agent)}

    def observe(self, agent: str) -> str:
        if agent not in self.possible_agents:
            raise KeyError(f"unknown agent {agent!r}")
        seat = self.codec.seat_name(self._raw, agent)
        header = f"Game: {self.codec.title}. You are {agent}" + (f" ({seat})." if seat != agent else ".")
        body = self.codec.render(self._raw, agent)
        info = self.infos.get(agent, {})
        if self._forfeited or not self.agents:
            turn = "The game is over."
        elif agent == self.agent_selection:
            turn = "It is your turn. Legal moves: " + ", ".join(info.get("legal_moves", [])) + "."
        else:
            turn = f"It is {self.agent_selection}'s turn."
        note = self._notes.get(agent, "")
        return TextObservation("\n".join(x for x in (note, header, body, turn) if x))

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations.get(agent) or self.truncations.get(agent):
            if self._forfeited:
                self._was_dead_step(action)
            else:
                self.game.step(None)
                self._sync()
            return
        move, reason = self._decode(agent, action)
        self.moves_played += 1
        if move is None:
            self._reject(agent, reason or "unusable move")
            return
        self._strikes[agent] = 0
        self._notes[agent] = ""
        self.game.step(move)
        self._sync()

    def _decode(self, agent: str, action: Any) -> tuple[int | None, str | None]:
        if not isinstance(action, str):
            return None, f"a move must be text, got {type(action).__name__}"
        problem = action_problem(action, MAX_ACTION_CHARS)
        if problem:
            return None, problem
        move = self.codec.parse(action, self._moves, self.game, agent)
        if move is None or move not in self._moves.values():
            shown = action if len(action) <= 40 else action[:40] + "..."
            return None, f"{shown!r} is not a legal move here"
        return move, None

    def _reject(self, agent: str, reason: str) -> None:
        """Applies the illegal-move policy; the engine never sees the move."""
        self._strikes[agent] += 1
        self._cumulative_rewards[agent] = 0.0
        self.rewards = dict.fromkeys(self.agents, 0.0)
        if self.illegal == "forfeit" or self._strikes[agent] > self.max_retries:
            self._forfeit(agent, reason)
            return
        if self.illegal == "penalize":
            self.rewards[agent] = -self.invalid_penalty
        self._accumulate_rewards()
        self._notes[agent] = f"Invalid move: {reason}. Try again."
        self.infos[agent] = self._info(agent, valid=False, reason=reason)

    def _forfeit(self, agent: str, reason: str) -> None:
        others = [a for a in self.agents if a != agent]
        self.rewards = {a: (-1.0 if a == agent else 1.0 / max(len(others), 1)) for a in self.agents}
        self._accumulate_rewards()
        self._forfeited = True
        self.terminations = dict.fromkeys(self.agents, True)
        self._notes = {a: f"{agent} forfeited ({reason})." for a in self.possible_agents}
        self.infos = {a: {"legal_moves": [], "valid": a != agent, "invalid_reason": reason if a == agent else None,
                          "game_state": {}, "forfeit": agent} for a in self.agents}

    # -- extras -----------------------------------------------------------------------------
    def state_key(self) -> str:
        return self.codec.state_key(self._raw)

    def render(self) -> str:
        return self.observe(self.agent_selection) if self.agents else "The game is over."

    def close(self) -> None:
        self.game.close()
