"""turnrl: reinforcement learning for LLM agents in multi-turn text environments.

`import turnrl` registers every environment under `turnrl/<Name>-v0` with Gymnasium.
"""
from turnrl.types import AgentInput, AgentOutput, Group, Step, Trajectory, group_trajectories
from turnrl.batch import StepRows, to_rows
from turnrl.io import load_trajectories, save_trajectories

import turnrl.envs  # noqa: E402,F401  (registers the environments)

__version__ = "0.1.0"

__all__ = ["AgentInput", "AgentOutput", "Group", "Step", "Trajectory", "group_trajectories",
           "StepRows", "to_rows", "load_trajectories", "save_trajectories"]
