"""Registers `turnrl/TextWorld-v0` and one id per TextWorld challenge (string entry points only).

`TextWorld-v0` is Treasure Hunter at medium difficulty (10 rooms, closed doors and containers, and
a wrong pick loses; its games generate in about a second, the fastest of the four at this level,
which matters when every new seed may need a new game); the variants fix the challenge, and
`difficulty=`, `split=`, `n_games=` stay env kwargs (or per-episode `reset` options). Each id
carries a step limit (`max_episode_steps`, truncation; turnrl's `make` and pools apply it with
`StepLimit`) well above the expert's path length.
"""
import gymnasium

from turnrl.envs.family import EnvFamily, PromptText

FAMILY = EnvFamily(
    name="textworld", extra="textworld", modules=("textworld",),
    prompt=PromptText(
        system="You are an expert player of text adventure games.",
        setting=("You are in a text adventure. Commands are short imperative phrases such as "
                 "'go north', 'take key', 'open door', 'put apple in box'."),
    ),
)
__getattr__ = FAMILY.lazy_classes(TextWorldEnv="turnrl.envs.textworld.env")  # imported when an env is made

ENTRY_POINT = f"{__name__}:TextWorldEnv"
VARIANTS = {
    "TextWorld-v0": ("tw-treasure_hunter", 50),
    "TextWorld-Treasure-v0": ("tw-treasure_hunter", 50),
    "TextWorld-Coin-v0": ("tw-coin_collector", 50),
    "TextWorld-Simple-v0": ("tw-simple", 50),
    "TextWorld-Cooking-v0": ("tw-cooking", 80),
}

for name, (challenge, max_steps) in VARIANTS.items():
    gymnasium.register(id=f"turnrl/{name}", entry_point=ENTRY_POINT, max_episode_steps=max_steps,
                       kwargs={"challenge": challenge})
