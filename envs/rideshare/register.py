"""Registers the ride-sharing views (string entry points: importing this loads no data)."""
import gymnasium

gymnasium.register(id="turnrl/RideShare-v0", entry_point="turnrl.envs.rideshare.text_env:RideShareTextEnv")
gymnasium.register(id="turnrl/RideShareDispatch-v0", entry_point="turnrl.envs.rideshare.gym_env:DispatchEnv")
