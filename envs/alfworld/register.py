"""Registers `turnrl/ALFWorld-v0` (string entry point: importing this loads no engine or data).

Splits and task types are env kwargs (`split=`, `task_types=`), not separate ids, so one id
covers train, valid_seen and valid_unseen and any subset of the six task types. Step limit 50,
the ALFWorld episode length of the GiGPO paper and verl-agent.
"""
import gymnasium

from turnrl.datadir import DatasetSpec
from turnrl.envs.family import EnvFamily, PromptText

FAMILY = EnvFamily(
    name="alfworld", extra="alfworld", modules=("alfworld", "textworld"),
    prompt=PromptText(
        system="You are an expert household agent acting in a simulated home.",
        setting=("You are in a household. Commands look like 'go to countertop 1', 'take mug 1 from "
                 "countertop 1', 'open fridge 1', 'heat mug 1 with microwave 1', 'put mug 1 in/on shelf 2'."),
    ),
    dataset=DatasetSpec("alfworld", "ALFWORLD_DATA", "turnrl.envs.alfworld.data:download",
                        "ALFWorld json_2.1.1 games and PDDL logic"),
)
__getattr__ = FAMILY.lazy_classes(ALFWorldEnv="turnrl.envs.alfworld.env")  # imported when an env is made

gymnasium.register(id="turnrl/ALFWorld-v0", entry_point=f"{__name__}:ALFWorldEnv", max_episode_steps=50)
