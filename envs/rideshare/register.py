"""Registers the ride-sharing views (string entry points: importing this loads no data).

An episode is one step a simulated minute and ends by itself after `episode_minutes`; the
registered step limit, one day of minutes, only bounds a run whose config asks for more."""
import gymnasium

DAY_MINUTES = 24 * 60
gymnasium.register(id="turnrl/RideShare-v0", entry_point="turnrl.envs.rideshare.text_env:RideShareTextEnv",
                   max_episode_steps=DAY_MINUTES)
gymnasium.register(id="turnrl/RideShareDispatch-v0", entry_point="turnrl.envs.rideshare.gym_env:DispatchEnv",
                   max_episode_steps=DAY_MINUTES)
