"""Self-play: every seat of a turn-based game driven by agents, one Trajectory per player.

`play_games` runs many games in lockstep so that each agent acts on one batch per round (an LLM
policy in both seats generates for all games at once). Each player's trajectory holds only its
own turns; `Step.t` is the joint move index of the whole game, and a step's reward is what the
player received from its move up to its next one (so the final payoff lands on its last move).
Outcomes are the players' total rewards: zero-sum games give opposite outcomes, and `won` is a
positive outcome. Each seed is played `group_size` times; the group of a trajectory is
(game, seed, seat), so group-relative credit compares the same seat from the same start.
A game still running after `max_moves` joint moves ends truncated (`END_STEP_LIMIT`) by
`StepLimit`'s own rule (`turnrl.types.at_step_limit`): an AEC game is not a Gymnasium env, so
the wrapper itself cannot go around it, and the move count is the game's, not one seat's.

The env is any PettingZoo AEC env with text observations whose `infos[agent]` carry
`legal_moves` and `valid` (the games in `turnrl.envs.games`); this module does not import them.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from turnrl.types import END_GAME_OVER, END_STEP_LIMIT, AgentInput, Trajectory, at_step_limit, make_step


@dataclass
class _Game:
    env: Any
    seed: int
    member: int
    trajs: dict[str, Trajectory] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)
    moves: int = 0
    over: bool = False


def _start(make_env: Callable[[], Any], seed: int, member: int, game: str, seats: dict[str, Any]) -> _Game:
    env = make_env()
    env.reset(seed=seed)
    g = _Game(env, seed, member)
    for player, agent in seats.items():
        g.trajs[player] = Trajectory(task_id=f"{game}:seed-{seed}", seed=seed, group_id=f"{game}:seed-{seed}:{player}",
                                     player_id=player, task=f"Play {game} as {player} and win.",
                                     metadata={"game": game, "agent": getattr(agent, "name", type(agent).__name__),
                                               "group_member": member,
                                               "opponents": {p: getattr(a, "name", type(a).__name__)
                                                             for p, a in seats.items() if p != player}})
        g.totals[player] = 0.0
    _skip_dead(g)
    return g


def _credit(g: _Game) -> None:
    """Adds the rewards of the last env step to each player's latest move."""
    for player, r in g.env.rewards.items():
        if r:
            g.totals[player] += float(r)
            steps = g.trajs[player].steps
            if steps:
                steps[-1].reward += float(r)


def _skip_dead(g: _Game) -> None:
    """Steps finished players out (PettingZoo's None action) until someone may move or all are out."""
    env = g.env
    while env.agents and (env.terminations[env.agent_selection] or env.truncations[env.agent_selection]):
        env.step(None)
        _credit(g)
    g.over = not env.agents


def _input(g: _Game, player: str, env_id: str) -> AgentInput:
    info = g.env.infos[player]
    steps = g.trajs[player].steps
    return AgentInput(observation=str(g.env.observe(player)), task=g.trajs[player].task,
                      history=[(s.observation, s.action) for s in steps], admissible_actions=info.get("legal_moves"),
                      step=len(steps), info=info, env_id=env_id)


def _move(g: _Game, player: str, x: AgentInput, out: Any) -> None:
    env = g.env
    state_key = env.state_key() if hasattr(env, "state_key") else None
    env.step(out.action)
    info = env.infos.get(player, {})
    before = {"state_key": state_key, "obs_key": x.observation}
    # rewards arrive when the game ends (_credit), so the step starts at 0
    g.trajs[player].steps.append(make_step(x.observation, before, out, info, t=g.moves, info={"player": player}))
    g.moves += 1
    _credit(g)
    _skip_dead(g)


def _finish(g: _Game, truncated: bool) -> list[Trajectory]:
    reason = END_STEP_LIMIT if truncated else END_GAME_OVER
    for player, traj in g.trajs.items():
        if traj.steps:
            last = traj.steps[-1]
            last.terminated, last.truncated, last.end_reason = not truncated, truncated, reason
        traj.won = not truncated and g.totals[player] > 0
        traj.metadata.update(outcome=g.totals[player], end_reason=reason, game_moves=g.moves)
    g.env.close()
    return list(g.trajs.values())


def play_games(make_env: Callable[[], Any], agents: Sequence[Any], seeds: Sequence[int], group_size: int = 1,
               max_moves: int = 500, game: str = "game") -> list[Trajectory]:
    """Plays each seed `group_size` times with `agents[i]` in seat `possible_agents[i]`.

    Pass the same agent twice for self-play. Returns the trajectories game by game, seats in order.
    """
    if group_size < 1 or max_moves < 1:
        raise ValueError(f"group_size and max_moves must be >= 1, got {group_size} and {max_moves}")
    probe = make_env()
    players = list(probe.possible_agents)
    probe.close()
    if len(agents) != len(players):
        raise ValueError(f"{game} has {len(players)} seats {players}, got {len(agents)} agents")
    seats = dict(zip(players, agents))
    games = [_start(make_env, s, m, game, seats) for s in seeds for m in range(group_size)]
    results: dict[int, list[Trajectory]] = {}
    while True:
        live = [i for i, g in enumerate(games) if i not in results]
        for i in live:
            if games[i].over or at_step_limit(games[i].moves, max_moves):
                results[i] = _finish(games[i], truncated=not games[i].over)
        live = [i for i in live if i not in results]
        if not live:
            break
        by_agent: dict[int, list[int]] = {}
        for i in live:
            by_agent.setdefault(id(seats[games[i].env.agent_selection]), []).append(i)
        for members in by_agent.values():
            agent = seats[games[members[0]].env.agent_selection]
            inputs = [_input(games[i], games[i].env.agent_selection, game) for i in members]
            outputs = agent.act(inputs)
            if len(outputs) != len(inputs):
                raise RuntimeError(f"agent {getattr(agent, 'name', agent)!r} returned {len(outputs)} outputs "
                                   f"for {len(inputs)} inputs")
            for i, x, out in zip(members, inputs, outputs):
                _move(games[i], games[i].env.agent_selection, x, out)
    return [t for i in range(len(games)) for t in results[i]]


def outcomes(trajectories: Sequence[Trajectory]) -> dict[str, float]:
    """Mean outcome per player id, e.g. to check zero-sum play (the values sum to ~0)."""
    sums: dict[str, list[float]] = {}
    for t in trajectories:
        sums.setdefault(str(t.player_id), []).append(float(t.metadata.get("outcome", t.episode_return)))
    return {p: math.fsum(v) / len(v) for p, v in sums.items()}
