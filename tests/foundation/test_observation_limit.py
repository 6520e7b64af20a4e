"""The declared observation limit (1 MiB of text) holds: a flooding engine's output is cut."""
from __future__ import annotations

from typing import Any

from turnrl.envs.base import TextEnv, cut_observation


class FloodEnv(TextEnv):
    """Answers `flood N` with N characters of text (an engine gone wild)."""

    def _reset(self, options: dict[str, Any]):
        return "ready", self._info("ready")

    def _step(self, action: str):
        n = int(action.split()[1]) if action.startswith("flood") else 5
        obs = "x" * n
        return obs, 0.0, False, False, self._info(obs)

    def _info(self, obs: str) -> dict[str, Any]:
        return {"admissible_actions": None, "won": False, "valid": True, "state_key": None, "obs_key": obs, "task": ""}


def test_observation_over_the_declared_limit_is_cut_with_a_note():
    env = FloodEnv()
    limit = env.max_observation_chars
    assert limit == 1 << 20 and env.observation_space.max_length == limit
    env.reset(seed=0)
    obs, _, _, _, info = env.step("flood 200000000")  # 200 MB of text
    assert len(obs) == limit and obs.endswith(f"[observation cut: 200000000 characters, limit {limit}]")
    assert info["observation_cut"] and len(info["obs_key"]) == limit and env.observation_space.contains(obs)
    obs, _, _, _, info = env.step("")  # an invalid action repeats the (cut) observation: still within the limit
    assert not info["valid"] and len(obs) <= limit
    obs, _, _, _, info = env.step("flood 100")
    assert obs == "x" * 100 and "observation_cut" not in info


def test_an_observation_at_the_limit_is_kept_whole():
    env = FloodEnv()
    env.reset(seed=0)
    obs, _, _, _, info = env.step(f"flood {env.max_observation_chars}")
    assert len(obs) == env.max_observation_chars and set(obs) == {"x"} and "observation_cut" not in info
    assert cut_observation("abcdef", 3) == "\n[o"  # a tiny limit still holds
