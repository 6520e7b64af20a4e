"""Registers `turnrl/ScienceWorld-v0` (string entry point: importing this starts no JVM).

Task, split and variation are env kwargs or reset options, so one id covers all 30 tasks.
Step limit 300: above the engine's gold path on every task (the longest seen, mendelian genetics
with an unknown plant, takes 260 steps), so the expert is never cut off by the default.
"""
import gymnasium

from turnrl.envs.family import EnvFamily, PromptText

FAMILY = EnvFamily(
    name="scienceworld", extra="scienceworld", modules=("scienceworld", "py4j", "orjson"),  # py4j: scienceworld's
    prompt=PromptText(
        system="You are an expert scientist acting in a simulated laboratory and home.",
        setting=("You are in an interactive science world. Actions look like 'open door to kitchen', "
                 "'pick up thermometer', 'use thermometer on substance', 'focus on <object>'."),
    ),
)
__getattr__ = FAMILY.lazy_classes(ScienceWorldTextEnv="turnrl.envs.scienceworld.env")  # imported when made

gymnasium.register(id="turnrl/ScienceWorld-v0", entry_point=f"{__name__}:ScienceWorldTextEnv", max_episode_steps=300)
