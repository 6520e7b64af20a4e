"""Registers `turnrl/WebShop-v0` (string entry point: importing this loads no catalog)."""
import gymnasium

gymnasium.register(id="turnrl/WebShop-v0", entry_point="turnrl.envs.webshop.env:WebShopEnv")
