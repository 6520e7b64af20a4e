"""Registers `turnrl/WebShop-v0` (string entry point: importing this loads no catalog).

Step limit 15, the GiGPO reference's WebShop episode length (invalid actions count)."""
import gymnasium

gymnasium.register(id="turnrl/WebShop-v0", entry_point="turnrl.envs.webshop.env:WebShopEnv", max_episode_steps=15)
