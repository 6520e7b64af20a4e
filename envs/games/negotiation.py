"""A two-player negotiation in plain language: split a pool of items valued privately.

The pool holds books, hats and balls; each player values them differently (its values are secret,
and the pool is worth 10 to each). Players alternate: "propose: I get 2 books, 0 hats, 1 ball"
(what the speaker keeps; the rest goes to the other) or "accept" the offer on the table. An
accepted deal pays each player the value of its share / 10; no deal within `max_turns` pays 0 to
both. Cooperative (a deal beats none) and competitive (the split) at once, as in Lewis et al.'s
Deal or No Deal. Bad moves are retried up to `max_retries` times, then the talks break down.
"""
from __future__ import annotations

import itertools
import re
from functools import cache
from typing import Any, ClassVar

import numpy as np
from pettingzoo import AECEnv

from turnrl.envs.base import action_problem
from turnrl.envs.games.codec import normalize
from turnrl.envs.games.text_aec import MAX_ACTION_CHARS, TextObservation
from turnrl.envs.spaces import FreeText

ITEMS = ("book", "hat", "ball")
TOTAL_VALUE = 10
_ITEM = re.compile(r"(\d+)\s*(book|hat|ball)s?\b")
_ACCEPT = {"accept", "i accept", "deal", "yes", "agree", "i agree"}


def share_text(share: tuple[int, ...]) -> str:
    return ", ".join(f"{n} {item}{'' if n == 1 else 's'}" for n, item in zip(share, ITEMS))


def proposal_text(share: tuple[int, ...]) -> str:
    return f"propose: I get {share_text(share)}"


@cache
def value_vectors(counts: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """Every per-item value vector under which the pool `counts` is worth exactly 10."""
    return tuple(v for v in itertools.product(range(TOTAL_VALUE + 1), repeat=len(counts))
                 if sum(c * x for c, x in zip(counts, v)) == TOTAL_VALUE)


def draw_game(rng: np.random.Generator) -> tuple[tuple[int, ...], list[tuple[int, ...]]]:
    """Item counts (1-3 each) and each player's values, so the pool is worth 10 to both."""
    while True:
        counts = tuple(int(c) for c in rng.integers(1, 4, size=len(ITEMS)))
        options = value_vectors(counts)
        if options:  # (3, 3, 3) cannot add up to 10
            return counts, [options[int(rng.integers(len(options)))] for _ in range(2)]


class NegotiationEnv(AECEnv):
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "name": "turnrl_negotiation", "is_parallelizable": False}
    title = "negotiation"

    def __init__(self, max_turns: int = 10, max_retries: int = 3, render_mode: str | None = None):
        super().__init__()
        self.max_turns, self.max_retries, self.render_mode = int(max_turns), int(max_retries), render_mode
        self.possible_agents = ["player_0", "player_1"]
        self._obs_space, self._act_space = FreeText(1 << 16), FreeText(MAX_ACTION_CHARS)
        self._rng = np.random.default_rng()
        self.moves_played = 0

    def observation_space(self, agent: str) -> FreeText:
        return self._obs_space

    def action_space(self, agent: str) -> FreeText:
        return self._act_space

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.counts, values = draw_game(self._rng)
        self.values = dict(zip(self.possible_agents, values))
        self.agents = list(self.possible_agents)
        self.agent_selection = self.agents[0]
        self.offer: tuple[str, tuple[int, ...]] | None = None  # (proposer, proposer's share)
        self.turn, self.moves_played, self.deal = 0, 0, None
        self._strikes = dict.fromkeys(self.agents, 0)
        self._note = dict.fromkeys(self.agents, "")
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos = {a: self._info(a) for a in self.agents}

    # -- moves --------------------------------------------------------------------------------
    def legal_moves(self, agent: str) -> list[str]:
        if agent != self.agent_selection or not self.agents or self.terminations.get(agent):
            return []
        proposals = [proposal_text(s) for s in itertools.product(*(range(c + 1) for c in self.counts))]
        return (["accept"] if self.offer else []) + proposals

    def parse(self, text: str) -> tuple[str, tuple[int, ...] | None] | None:
        """("accept", None) or ("propose", share), or None when the text is neither."""
        key = normalize(text)
        if key in _ACCEPT:
            return ("accept", None) if self.offer else None
        mentions = _ITEM.findall(key)
        found = {item: int(n) for n, item in mentions}
        if len(found) < len(mentions):  # "1 book. no, 3 books": two counts for one item, no offer
            return None
        if not found and "nothing" not in key:
            return None
        share = tuple(found.get(item, 0) for item in ITEMS)
        if any(n > c for n, c in zip(share, self.counts)):
            return None
        return "propose", share

    def _info(self, agent: str, valid: bool = True, reason: str | None = None) -> dict[str, Any]:
        return {"legal_moves": self.legal_moves(agent), "valid": valid, "invalid_reason": reason,
                "game_state": {"counts": list(self.counts), "values": list(self.values[agent]),
                               "offer": None if self.offer is None else [self.offer[0], list(self.offer[1])]}}

    def observe(self, agent: str) -> str:
        values = ", ".join(f"{item} {v}" for item, v in zip(ITEMS, self.values[agent]))
        lines = [self._note.get(agent, ""),
                 f"Game: negotiation. You are {agent}. Split the pool with the other player.",
                 (f"Pool: {share_text(self.counts)}. Your values per item (secret): {values}; "
                  f"the pool is worth {TOTAL_VALUE} to you. No deal pays nothing."),
                 f"Turn {min(self.turn + 1, self.max_turns)} of {self.max_turns}."]
        if self.offer:
            proposer, share = self.offer
            rest = tuple(c - n for c, n in zip(self.counts, share))
            mine, theirs = (share, rest) if proposer == agent else (rest, share)
            lines.append(f"Offer on the table from {proposer}: you get {share_text(mine)}; "
                         f"the other gets {share_text(theirs)}.")
        if self.deal is not None or not self.agents:
            lines.append("The negotiation is over.")
        elif agent == self.agent_selection:
            lines.append("It is your turn. Say 'accept' to take the offer on the table, or "
                         "'propose: I get <n> books, <n> hats, <n> balls' (what you keep).")
        else:
            lines.append(f"It is {self.agent_selection}'s turn.")
        return TextObservation("\n".join(x for x in lines if x))

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        self._cumulative_rewards[agent] = 0.0
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self.moves_played += 1
        problem = (f"a move must be text, got {type(action).__name__}" if not isinstance(action, str)
                   else action_problem(action, MAX_ACTION_CHARS))
        move = None if problem else self.parse(action)
        if move is None:
            self._reject(agent, problem or "not an offer or an acceptance this turn")
            return
        self._strikes[agent], self._note[agent] = 0, ""
        kind, share = move
        if kind == "accept":
            self._settle(self.offer)
        else:
            self.offer = (agent, share)
            self.turn += 1
            if self.turn >= self.max_turns:
                self._settle(None)
            else:
                self.agent_selection = self.agents[1 - self.agents.index(agent)]
        self.infos = {a: self._info(a) for a in self.agents}

    def _reject(self, agent: str, reason: str) -> None:
        self._strikes[agent] += 1
        if self._strikes[agent] > self.max_retries:
            self._settle(None)
            self._note = dict.fromkeys(self.agents, f"Talks broke down: {agent} made {self._strikes[agent]} bad moves.")
            self.infos = {a: self._info(a, valid=a != agent, reason=reason if a == agent else None) for a in self.agents}
            return
        self._note[agent] = f"Invalid move: {reason}. Try again."
        self.infos[agent] = self._info(agent, valid=False, reason=reason)

    def _settle(self, offer: tuple[str, tuple[int, ...]] | None) -> None:
        """Ends the game: pays each player the value of its share of the accepted offer (or 0)."""
        self.deal = offer
        if offer is not None:
            proposer, share = offer
            rest = tuple(c - n for c, n in zip(self.counts, share))
            for a in self.agents:
                got = share if a == proposer else rest
                self.rewards[a] = sum(n * v for n, v in zip(got, self.values[a])) / TOTAL_VALUE
        self._accumulate_rewards()
        self.terminations = dict.fromkeys(self.agents, True)

    def state_key(self) -> str:
        return f"{self.counts}|{self.values}|{self.offer}|{self.turn}|{self.deal}"

    def render(self) -> str:
        return self.observe(self.agent_selection) if self.agents else "The negotiation is over."

    def close(self) -> None:
        pass
