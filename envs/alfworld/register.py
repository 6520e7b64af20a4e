"""Registers `turnrl/ALFWorld-v0` (string entry point: importing this loads no engine or data).

Splits and task types are env kwargs (`split=`, `task_types=`), not separate ids, so one id
covers train, valid_seen and valid_unseen and any subset of the six task types. Step limit 50,
the ALFWorld episode length of the GiGPO paper and verl-agent.
"""
import gymnasium

gymnasium.register(id="turnrl/ALFWorld-v0", entry_point="turnrl.envs.alfworld.env:ALFWorldEnv", max_episode_steps=50)
