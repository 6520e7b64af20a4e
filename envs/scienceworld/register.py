"""Registers `turnrl/ScienceWorld-v0` (string entry point: importing this starts no JVM).

Task, split and variation are env kwargs or reset options, so one id covers all 30 tasks.
Step limit 300: above the engine's gold path on every task (the longest seen, mendelian genetics
with an unknown plant, takes 260 steps), so the expert is never cut off by the default.
"""
import gymnasium

gymnasium.register(id="turnrl/ScienceWorld-v0", entry_point="turnrl.envs.scienceworld.env:ScienceWorldTextEnv",
                   max_episode_steps=300)
