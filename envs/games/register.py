"""Registers the single-agent game views `turnrl/<Game>-v0` (string entry points only).

Kwargs pick the opponent pool (`opponent="minimax"` or a list), the seat and the illegal-move
policy; the step limits leave room for retried moves. The multi-agent text games themselves
are listed and built by `turnrl.envs.games.catalog` (`list_games`, `make_game`).
"""
import gymnasium

from turnrl.envs.family import EnvFamily

FAMILY = EnvFamily(name="games", extra="games", modules=("pettingzoo", "chess", "rlcard"))  # the generic prompt
__getattr__ = FAMILY.lazy_classes(GameEnv="turnrl.envs.games.single")  # imported when an env is made

ENTRY_POINT = f"{__name__}:GameEnv"
VIEWS = {
    "TicTacToe-v0": ("tictactoe", 30),
    "ConnectFour-v0": ("connect_four", 100),
    "LeducHoldem-v0": ("leduc_holdem", 30),
    "TexasHoldem-v0": ("texas_holdem", 60),
    "RockPaperScissors-v0": ("rps", 30),
    "Chess-v0": ("chess", 500),
    "Negotiation-v0": ("negotiation", 60),
}

for name, (game, max_steps) in VIEWS.items():
    gymnasium.register(id=f"turnrl/{name}", entry_point=ENTRY_POINT, max_episode_steps=max_steps,
                       kwargs={"game": game})
