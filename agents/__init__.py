"""Agents: what turns an observation history into an action."""
from turnrl.agents.base import Agent, ScriptedAgent
from turnrl.agents.registry import make_agent, register_agent
from turnrl.agents.scripted import ExpertAgent, RandomAgent

__all__ = ["Agent", "ScriptedAgent", "ExpertAgent", "RandomAgent", "make_agent", "register_agent"]
