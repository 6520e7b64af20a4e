"""Single-agent views of the text games: the learner holds one seat, opponents hold the rest.

`GameEnv` is a `TextEnv` (Gymnasium) over a `TextGameEnv`. The opponent comes from a pool of
specs or agents (`random`, `minimax`, `c4search`, `stockfish:<skill>`, `checkpoint:<dir>`, an
agent object); which one and which seat are drawn from the env's RNG at reset, so a group reset
(same seed and options) gives every member the same opponent, seat and deal. `options` may fix
`opponent` (a spec) and `seat` per episode. The learner's reward is its own game reward: the
payoff at the end (+1/0/-1, chips for poker, value share for negotiation) and any penalties
for bad moves; a bad move leaves the position unchanged and says why, as the game's illegal
policy prescribes. A deal that ends before the learner moves (an opponent folds at once) is
dealt again with the next game seed: an episode starts with a decision.
"""
from __future__ import annotations

from typing import Any

from turnrl.envs.base import TextEnv
from turnrl.envs.games import snapshot as game_snapshot
from turnrl.envs.games.catalog import make_game
from turnrl.types import AgentInput

SEATS = ("random", "first", "second")


class GameEnv(TextEnv):
    metadata = {**TextEnv.metadata, "snapshot": "exact"}  # the pickled game engine (snapshot.py)
    _snapshot, _restore = game_snapshot.snapshot, game_snapshot.restore

    def __init__(self, game: str, opponent: Any = "random", seat: str = "random", render_mode: str | None = None,
                 **game_kwargs: Any):
        super().__init__(render_mode=render_mode)
        self.game_name = game
        self.game = make_game(game, **game_kwargs)
        self.pool: list[Any] = list(opponent) if isinstance(opponent, (list, tuple)) else [opponent]
        if not self.pool:
            raise ValueError("the opponent pool is empty")
        if seat not in SEATS and seat not in self.game.possible_agents:
            raise ValueError(f"seat must be one of {SEATS} or a player name {self.game.possible_agents}, got {seat!r}")
        self.seat = seat
        self._built: dict[str, Any] = {}  # spec -> opponent agent, reused across episodes (engine processes)

    # -- episode ----------------------------------------------------------------------------
    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        game_seed = int(self.np_random.integers(2**31 - 1))
        entry = options.get("opponent", self.pool[int(self.np_random.integers(len(self.pool)))])
        seat = options.get("seat", self.seat)
        players = self.game.possible_agents
        if seat == "random":
            self.learner = players[int(self.np_random.integers(len(players)))]
        else:
            self.learner = {"first": players[0], "second": players[-1]}.get(seat, seat)
            if self.learner not in players:
                raise ValueError(f"unknown seat {seat!r}")
        self.opponent = self._opponent(entry, game_seed)
        self.opponent_name = str(getattr(self.opponent, "name", entry))
        for attempt in range(100):
            self._opponent_history: dict[str, list[tuple[str, str]]] = {p: [] for p in players}
            self.game.reset(seed=game_seed + attempt)
            self._payoff = self._play_opponents()
            if not self._over():
                break
        else:
            raise RuntimeError(f"{self.game_name}: the opponents ended 100 deals before the learner could move")
        obs = self.game.observe(self.learner)
        return str(obs), self._info(str(obs))

    def _step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        self.game.step(action)
        reward = self.game.rewards.get(self.learner, 0.0)
        valid = bool(self.game.infos.get(self.learner, {}).get("valid", True))
        if valid:
            reward += self._play_opponents()
        self._payoff += reward
        obs = str(self.game.observe(self.learner))
        info = self._info(obs)
        if not valid and not self._over():
            info.update(valid=False, invalid_reason=self.game.infos[self.learner].get("invalid_reason"))
        return obs, reward, self._over(), False, info

    # -- helpers ----------------------------------------------------------------------------
    def _opponent(self, entry: Any, seed: int) -> Any:
        from turnrl.agents.opponents import make_opponent, reseed

        if not isinstance(entry, str):
            reseed(entry, seed)
            return entry
        if entry not in self._built:
            self._built[entry] = make_opponent(entry, seed=seed)
        reseed(self._built[entry], seed)
        return self._built[entry]

    def _over(self) -> bool:
        g = self.game
        return not g.agents or bool(g.terminations.get(self.learner) or g.truncations.get(self.learner))

    def _play_opponents(self) -> float:
        """Opponents move until it is the learner's turn or the game ends; the learner's reward meanwhile."""
        g, reward = self.game, 0.0
        while g.agents and not self._over() and g.agent_selection != self.learner:
            seat = g.agent_selection
            if g.terminations[seat] or g.truncations[seat]:
                g.step(None)
            else:
                obs = str(g.observe(seat))
                info = g.infos[seat]
                x = AgentInput(observation=obs, task=f"Play {g.metadata['name']}", history=self._opponent_history[seat],
                               admissible_actions=info.get("legal_moves"), step=len(self._opponent_history[seat]),
                               info=info, env_id=self.game_name)
                try:
                    action = self.opponent.act([x])[0].action
                except Exception as e:  # an engine process died, a policy failed: say which opponent
                    raise RuntimeError(f"opponent {self.opponent_name!r} failed in {self.game_name}: {e}") from e
                self._opponent_history[seat].append((obs, action))
                g.step(action)
            reward += g.rewards.get(self.learner, 0.0)
        return reward

    def _info(self, obs: str) -> dict[str, Any]:
        g, over = self.game, self._over()
        info = g.infos.get(self.learner, {})
        title = getattr(getattr(g, "codec", g), "title", self.game_name)
        return {"admissible_actions": [] if over else list(info.get("legal_moves", [])),
                "won": over and self._payoff > 0, "valid": True, "state_key": g.state_key(), "obs_key": obs,
                "task": f"Play {title} as {self.learner} against {self.opponent_name} and win.",
                "game_state": info.get("game_state", {}), "opponent": self.opponent_name, "seat": self.learner,
                "payoff": self._payoff, "game_over": over}

    def close(self) -> None:
        for opponent in self._built.values():
            if hasattr(opponent, "close"):
                opponent.close()
        self._built.clear()
        self.game.close()
