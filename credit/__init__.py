"""Credit assignment: pure functions from step rows to per-step advantages (numpy, networkx).

`compute_advantages("gigpo", rows, gamma=0.95)` selects a method by name; each method is also
importable as a plain function from its own module.
"""
from .gae import discounted_returns, gae, gae_arrays, returns
from .gdpo import gdpo, gdpo_arrays
from .gigpo import gigpo, step_advantages
from .grpo import grpo
from .ospo import normalized_reward_to_go, ospo, ospo_arrays, reward_to_go
from .registry import compute_advantages, get_method, list_methods, register_method
from .rloo import leave_one_out, rloo
from .salt import salt, salt_graph
from .tokens import broadcast_to_tokens, repeat_per_token
from .tournament import round_robin, single_elimination, tournament

__all__ = [
    "broadcast_to_tokens", "compute_advantages", "discounted_returns", "gae", "gae_arrays", "gdpo", "gdpo_arrays",
    "get_method", "gigpo", "grpo", "leave_one_out", "list_methods", "normalized_reward_to_go", "ospo", "ospo_arrays",
    "register_method", "repeat_per_token", "returns", "reward_to_go", "rloo", "round_robin", "salt", "salt_graph",
    "single_elimination",
    "step_advantages", "tournament",
]
