"""Single-agent game views run through the shared pool and rollout code; frozen-checkpoint opponents."""
from turnrl.agents.opponents import FrozenPolicyOpponent
from turnrl.agents.scripted import RandomAgent
from turnrl.envs.games.single import GameEnv
from turnrl.envs.pool import make_pool
from turnrl.rollout import TaskSpec, collect


def test_games_views_collect_groups_with_the_same_opponent_and_seat():
    kwargs = {"opponent": ["random", "minimax"]}
    with make_pool("turnrl/TicTacToe-v0", 2, env_kwargs=kwargs) as pool:
        trajs = collect(pool, RandomAgent(seed=0), [TaskSpec(seed=s) for s in range(4)], group_size=3,
                        max_steps=30, progress=False)
    assert len(trajs) == 12
    for k in range(4):
        group = trajs[3 * k: 3 * k + 3]
        assert len({t.group_id for t in group}) == 1
        firsts = {(t.steps[0].observation, t.steps[0].info["opponent"], t.steps[0].info["seat"]) for t in group}
        assert len(firsts) == 1  # identical start, opponent and seat for the whole group
        for t in group:
            assert t.terminated and t.steps[-1].info["game_over"]
            assert t.episode_return in (-1.0, 0.0, 1.0) and t.won == (t.episode_return > 0)
            if t.steps[0].info["opponent"] == "minimax":
                assert t.episode_return <= 0.0


def test_games_checkpoint_opponent_plays_without_crashing():
    from turnrl.agents.models import tiny_model_dir

    opponent = FrozenPolicyOpponent(str(tiny_model_dir()), max_new_tokens=8)
    env = GameEnv("tictactoe", opponent=opponent, seat="first")
    _, info = env.reset(seed=0)
    done = False
    while not done:
        _, _, done, _, info = env.step(info["admissible_actions"][0])
    assert info["game_over"] and info["opponent"].startswith("checkpoint:")
