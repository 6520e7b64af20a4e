"""Asynchronous stepping (`send`/`recv`): each slot moves on as soon as its own answer arrives,
with the same answers, deadlines and crash handling as lockstep `step`."""
from __future__ import annotations

import time

import pytest

from turnrl.envs.pool import make_pool

Played = dict[int, list[tuple[str, str, float]]]  # episode index -> [(action, obs, reward)]


def only(pool, slot: int, action: str) -> list[str | None]:
    return [action if s == slot else None for s in range(pool.num_envs)]


def play_lockstep(pool, seeds: list[int], max_steps: int = 8) -> Played:
    """The expert on `seeds`, a batch of pool.num_envs episodes at a time, stepped together."""
    played: Played = {}
    for first in range(0, len(seeds), pool.num_envs):
        batch = seeds[first:first + pool.num_envs]
        slots = list(range(len(batch)))
        infos = dict(zip(slots, (info for _, info in pool.reset(batch, slots=slots))))
        for s in slots:
            played[first + s] = []
        while infos:
            actions = [infos[s]["expert_action"] if s in infos else None for s in range(pool.num_envs)]
            for s, r in enumerate(pool.step(actions)):
                if r is None:
                    continue
                played[first + s].append((actions[s], r.obs, r.reward))
                infos[s] = r.info
                if r.terminated or r.truncated or len(played[first + s]) >= max_steps:
                    del infos[s]
    return played


def play_async(pool, seeds: list[int], max_steps: int = 8) -> Played:
    """The expert on `seeds`, each slot taking the next episode as soon as its last one ends,
    and each step sent as soon as that slot's answer arrives, while other slots are stepping."""
    queue = list(enumerate(seeds))
    played: Played = {}
    episode: dict[int, int] = {}  # slot -> episode index
    sent: dict[int, str] = {}  # slot -> action in flight

    def send(slot: int, action: str) -> None:
        sent[slot] = action
        pool.send(only(pool, slot, action))

    def start(slot: int) -> None:
        index, seed = queue.pop(0)
        episode[slot], played[index] = index, []
        ((_, info),) = pool.reset([seed], slots=[slot])
        send(slot, info["expert_action"])

    for slot in range(min(pool.num_envs, len(queue))):
        start(slot)
    while episode:
        for slot, r in enumerate(pool.recv()):
            if r is None:
                continue
            steps = played[episode[slot]]
            steps.append((sent.pop(slot), r.obs, r.reward))
            if r.terminated or r.truncated or len(steps) >= max_steps:
                del episode[slot]
                if queue:
                    start(slot)
            else:
                send(slot, r.info["expert_action"])
    return played


@pytest.mark.parametrize("backend,workers", [("inprocess", None), ("subprocess", 2)])
def test_async_stepping_gives_the_lockstep_episodes(toy_env_id, backend, workers):
    seeds = [3, 5, 8, 13, 21]
    with make_pool(toy_env_id, 2) as pool:
        reference = play_lockstep(pool, seeds)
    with make_pool(toy_env_id, 3, backend=backend, num_workers=workers) as pool:
        assert play_async(pool, seeds) == reference
        assert play_lockstep(pool, seeds) == reference  # and lockstep still works after async use
    assert all(steps and steps[-1][2] == 1.0 for steps in reference.values())  # the expert won each


def test_one_slot_answers_while_a_slow_one_is_still_stepping(toy_env_id):
    with make_pool(toy_env_id, 2, backend="subprocess", env_kwargs={"faults": True}, step_timeout=1.0) as pool:
        pool.reset([1, 2])
        pool.send(["hang", "wait"])
        first = pool.recv()
        assert first[0] is None and first[1].info["valid"]
        assert pool.recv(timeout=0.05) == [None, None]  # slot 0 is still hanging: nothing yet
        for _ in range(3):  # slot 1 keeps stepping meanwhile, and can be reset
            pool.send([None, "inc"])
            assert pool.recv()[1].info["valid"]
        pool.reset([4], slots=[1])
        late = pool.recv()  # the step timeout ends slot 0's episode; nothing else was lost
        assert late[1] is None and late[0].truncated
        assert late[0].info["end_reason"] == "step timeout after 1s"
        assert pool.restarts == 1


def test_a_crash_during_async_stepping_ends_only_that_episode(toy_env_id):
    with make_pool(toy_env_id, 2, backend="subprocess", env_kwargs={"faults": True}) as pool:
        pool.reset([1, 2])
        pool.send(["wait", "crash"])
        answers: dict[int, object] = {}
        while len(answers) < 2:
            answers.update((s, r) for s, r in enumerate(pool.recv()) if r is not None)
        assert answers[0].info["valid"] and not answers[0].truncated
        assert answers[1].truncated and answers[1].info["end_reason"].startswith("worker crashed")
        pool.reset([2], slots=[1])
        assert all(r.info["valid"] for r in pool.step(["wait", "wait"]))


@pytest.mark.parametrize("backend", ["inprocess", "subprocess"])
def test_a_slot_takes_one_call_at_a_time(toy_env_id, backend):
    with make_pool(toy_env_id, 2, backend=backend) as pool:
        with pytest.raises(RuntimeError, match="no step in flight"):
            pool.recv()
        pool.reset([1, 2])
        pool.send(["wait", None])
        with pytest.raises(ValueError, match=r"slots \[0\] are still stepping"):
            pool.send(["wait", "wait"])
        with pytest.raises(ValueError, match=r"slots \[0\] are still stepping"):
            pool.step(["wait", None])
        with pytest.raises(ValueError, match=r"slots \[0\] are still stepping"):
            pool.reset([1], slots=[0])
        with pytest.raises(TypeError, match="slot 1 must be str"):
            pool.send([None, 7])
        assert pool.step([None, "inc"])[1].info["valid"]  # the other slot is free to step
        deadline = time.monotonic() + 10
        results = pool.recv()
        while results[0] is None and time.monotonic() < deadline:
            results = pool.recv()
        assert results[0].info["valid"]
        pool.reset([1], slots=[0])


@pytest.mark.parametrize("backend,workers", [("inprocess", None), ("subprocess", 2)])
def test_asynchronous_collect_gives_the_lockstep_trajectories_for_an_input_only_agent(toy_env_id, backend, workers):
    from turnrl.agents.scripted import ExpertAgent
    from turnrl.rollout import TaskSpec, collect

    tasks = [TaskSpec(seed=s) for s in range(5)]
    with make_pool(toy_env_id, 3) as pool:
        reference = [t.to_dict() for t in collect(pool, ExpertAgent(), tasks, group_size=2, max_steps=6,
                                                  progress=False)]
    with make_pool(toy_env_id, 3, backend=backend, num_workers=workers) as pool:
        got = [t.to_dict() for t in collect(pool, ExpertAgent(), tasks, group_size=2, max_steps=6,
                                            progress=False, asynchronous=True)]
    assert got == reference and len(got) == 10


def test_asynchronous_collect_keeps_every_trajectory_when_a_worker_crashes(toy_env_id):
    from turnrl.agents.scripted import ExpertAgent
    from turnrl.rollout import TaskSpec, collect

    class CrashOnFour(ExpertAgent):
        """The expert, except that its first action in the task "Reach 4." kills the env's process."""

        def act(self, inputs):
            outs = super().act(inputs)
            for x, out in zip(inputs, outs):
                if x.task == "Reach 4." and x.step == 0:
                    out.action = "crash"
            return outs

    tasks = [TaskSpec(seed=0, options={"target": t}) for t in (2, 3, 4, 5)]
    with make_pool(toy_env_id, 2, env_kwargs={"faults": True}) as pool:
        reference = collect(pool, ExpertAgent(), tasks, max_steps=8, progress=False)
    with make_pool(toy_env_id, 2, backend="subprocess", env_kwargs={"faults": True}) as pool:
        got = collect(pool, CrashOnFour(), tasks, max_steps=8, progress=False, asynchronous=True)
        assert pool.restarts == 1
    crashed = got[2]
    assert crashed.length == 1 and crashed.steps[0].truncated
    assert crashed.end_reason.startswith("worker crashed")
    assert [t.to_dict() for i, t in enumerate(got) if i != 2] == [t.to_dict() for i, t in enumerate(reference) if i != 2]
