"""Registers the ride-sharing views (string entry points: importing this loads no data).

An episode is one step a simulated minute and ends by itself after `episode_minutes`; the
registered step limit, one day of minutes, only bounds a run whose config asks for more."""
import gymnasium

from turnrl.datadir import DatasetSpec
from turnrl.envs.family import EnvFamily

FAMILY = EnvFamily(
    name="rideshare", extra="rideshare", modules=("pandas", "pettingzoo"),  # no prompt text: the generic prompt
    dataset=DatasetSpec("nyc_taxi", "NYC_TAXI_DATA", "turnrl.envs.rideshare.data:download",
                        "NYC TLC taxi trips and taxi-zone centroids"),
)
__getattr__ = FAMILY.lazy_classes(RideShareTextEnv="turnrl.envs.rideshare.text_env",
                                  DispatchEnv="turnrl.envs.rideshare.gym_env")  # imported when an env is made

DAY_MINUTES = 24 * 60
gymnasium.register(id="turnrl/RideShare-v0", entry_point=f"{__name__}:RideShareTextEnv", max_episode_steps=DAY_MINUTES)
gymnasium.register(id="turnrl/RideShareDispatch-v0", entry_point=f"{__name__}:DispatchEnv",
                   max_episode_steps=DAY_MINUTES)
