"""Leduc hold'em and limit Texas hold'em (RLCard engines): moves are call, raise, fold, check."""
from __future__ import annotations

from typing import Any

from pettingzoo import AECEnv
from pettingzoo.classic import leduc_holdem_v4, texas_holdem_v4

from turnrl.envs.games.codec import GameCodec, normalize

ACTIONS = ("call", "raise", "fold", "check")  # RLCard's action ids for both games
SUITS = {"S": "spades", "H": "hearts", "D": "diamonds", "C": "clubs"}
RANKS = {"A": "ace", "K": "king", "Q": "queen", "J": "jack", "T": "ten"}
_ALIASES = {"bet": "raise", "pass": "check", "give up": "fold", "match": "call"}


def card_text(card: str) -> str:
    """RLCard's "SJ" -> "jack of spades"."""
    suit, rank = card[0], card[1:]
    return f"{RANKS.get(rank, rank)} of {SUITS.get(suit, suit)}"


def cards_text(cards: Any) -> str:
    if not cards:
        return "none"
    cards = [cards] if isinstance(cards, str) else list(cards)
    return ", ".join(card_text(c) for c in cards)


class _PokerCodec(GameCodec):
    module: Any = None

    def make(self, **kwargs: Any) -> AECEnv:
        return self.module.env(**kwargs)

    def _raw(self, env: AECEnv, agent: str) -> dict[str, Any]:
        player = env.unwrapped.possible_agents.index(agent)
        return env.unwrapped.env.get_state(player)["raw_obs"]

    def legal_moves(self, env: AECEnv, agent: str) -> dict[str, int]:
        return {a: ACTIONS.index(a) for a in self._raw(env, agent)["legal_actions"]}

    def render(self, env: AECEnv, agent: str) -> str:
        raw = self._raw(env, agent)
        me = env.unwrapped.possible_agents.index(agent)
        chips = raw["all_chips"]
        public = raw.get("public_card", raw.get("public_cards"))
        return (f"Your hand: {cards_text(raw['hand'])}.\nPublic cards: {cards_text(public)}.\n"
                f"Chips in the pot: yours {chips[me]}, opponent's {chips[1 - me]}.")

    def state(self, env: AECEnv, agent: str) -> dict[str, Any]:
        raw = self._raw(env, agent)
        return {k: v for k, v in raw.items() if k != "legal_actions"}

    def state_key(self, env: AECEnv) -> str:
        views = [self._raw(env, a) for a in env.unwrapped.possible_agents]
        return repr([(v["hand"], v.get("public_card", v.get("public_cards")), v["all_chips"]) for v in views])

    def parse(self, text: str, moves: dict[str, int], env: AECEnv, agent: str) -> int | None:
        key = normalize(text)
        return moves.get(_ALIASES.get(key, key))


class LeducCodec(_PokerCodec):
    name = "leduc_holdem"
    title = "Leduc hold'em"
    module = leduc_holdem_v4


class TexasCodec(_PokerCodec):
    name = "texas_holdem"
    title = "limit Texas hold'em"
    module = texas_holdem_v4
