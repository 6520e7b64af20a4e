"""Registers `turnrl/ScienceWorld-v0` (string entry point: importing this starts no JVM).

Task, split and variation are env kwargs or reset options, so one id covers all 30 tasks.
"""
import gymnasium

gymnasium.register(id="turnrl/ScienceWorld-v0", entry_point="turnrl.envs.scienceworld.env:ScienceWorldTextEnv")
