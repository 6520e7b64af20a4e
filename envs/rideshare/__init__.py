"""Ride-sharing order dispatch on Manhattan taxi zones (the setup of arXiv 2507.15351).

Modules: `data` (the NYC TLC files: where they are, `download`), `city` (zones, travel-time and
demand models fitted from the real trips), `sim` (the one-minute fleet simulator and the
per-match reward), `features` (28 numbers per (vehicle, order) pair), `gym_env` (one central
dispatcher), `pz_env` (PettingZoo ParallelEnv, one agent per vehicle), `text_env`
(`turnrl/RideShare-v0` for LLM agents).
"""
