"""Exact snapshots of the single-agent game views (`GameEnv`): the game engine object itself.

Every game here is plain Python state (PettingZoo's classic envs, python-chess boards, RLCard's
poker dealers with their RNGs, the negotiation engine), so the snapshot is the pickled text game
(`TextGameEnv` with the engine inside), the learner's seat, the opponent agent (with its RNG, so
its later moves repeat) and the episode's bookkeeping. PettingZoo's envs pickle through
`EzPickle`, which rebuilds a *fresh* env from the constructor arguments; here they are pickled
with their whole `__dict__` instead (pygame surfaces left out), so the position travels.
Compressed; a whole snapshot (with the env's last info) measured 4-9 KB over the seven games. An opponent
that holds an outside process (a Stockfish engine) does not pickle, and such a snapshot is
refused.
"""
from __future__ import annotations

import io
import pickle
import zlib
from typing import Any

from gymnasium.utils import EzPickle

FIELDS = ("game", "learner", "opponent", "opponent_name", "_opponent_history", "_payoff")
RENDERING = frozenset({"screen", "clock", "window"})  # pygame objects: rebuilt on the next render


def _set_dict(obj: Any, state: dict[str, Any]) -> None:
    obj.__dict__.update(state)


class _Pickler(pickle.Pickler):
    def reducer_override(self, o: Any) -> Any:
        if isinstance(o, EzPickle) and not isinstance(o, type):
            state = {k: (None if k in RENDERING else v) for k, v in o.__dict__.items()}
            return object.__new__, (type(o),), state, None, None, _set_dict
        return NotImplemented


def snapshot(env: Any) -> bytes:
    if not hasattr(env, "learner"):
        raise RuntimeError("GameEnv.snapshot() before reset()")
    buf = io.BytesIO()
    try:
        _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump({n: getattr(env, n) for n in FIELDS})
    except (TypeError, AttributeError, pickle.PicklingError) as e:
        raise TypeError(f"{env.game_name}: this episode's state does not pickle (opponent "
                        f"{env.opponent_name!r}?): {e}") from None
    return zlib.compress(buf.getvalue(), 1)


def restore(env: Any, state: bytes) -> None:
    for name, value in pickle.loads(zlib.decompress(state)).items():
        setattr(env, name, value)
