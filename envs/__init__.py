"""turnrl environments. Importing this registers every `turnrl/...` id with Gymnasium.

Each family's `register.py` only calls `gymnasium.register` with string entry points, so this
import stays cheap and needs none of the heavy engines (textworld, alfworld, a JVM...).
"""
from turnrl.envs.base import INFO_KEYS, TextEnv, action_problem
from turnrl.envs.registration import register_all, turnrl_env_ids

register_all()

__all__ = ["INFO_KEYS", "TextEnv", "action_problem", "register_all", "turnrl_env_ids"]
