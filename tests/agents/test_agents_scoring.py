"""Scoring mode is an exact policy over the admissible actions, shared by rollouts, eval and the trainer."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from turnrl.agents.generation import SamplingParams
from turnrl.agents.logprobs import response_logprobs, response_logprobs_list
from turnrl.agents.registry import make_agent
from turnrl.agents.scoring import ScoringPolicy
from turnrl.types import AgentInput

ACTIONS = ["open door", "go north", "look", "take the small brass key from the table", "go north"]


def _inputs(n: int) -> list[AgentInput]:
    return [AgentInput(observation="You see a door. " * (1 + 3 * i), task="open the door",
                       history=[("a dark room", "look")] * i, admissible_actions=ACTIONS[: 3 + i % 3],
                       step=i, env_id="turnrl/TextWorld-v0") for i in range(n)]


@pytest.fixture()
def scoring(tiny_dir) -> ScoringPolicy:
    return ScoringPolicy.from_pretrained(tiny_dir, device="cpu", sampling=SamplingParams(temperature=0.7), seed=0)


def _fresh_log_pi(policy: ScoringPolicy, prompt: list[int], candidates: list[list[int]], rule: str,
                  temperature: float, grad: bool = False) -> torch.Tensor:
    """log pi(.|s) from one independent right-padded forward pass per candidate (no shared cache)."""
    scores = []
    for c in candidates:
        if grad:
            lp, mask = response_logprobs(policy.model, [prompt], [c], policy.pad_id)
            lp = lp[0][mask[0]]
        else:
            lp = torch.tensor(response_logprobs_list(policy.model, [prompt], [c], policy.pad_id)[0])
        scores.append(lp.sum() / (len(c) if rule == "mean" else 1))
    return torch.log_softmax(torch.stack(scores).double() / temperature, dim=0)


@pytest.mark.parametrize("rule", ["mean", "sum"])
def test_recorded_log_pi_equals_a_fresh_recomputation(scoring, rule):
    scoring.score_rule = rule
    xs = _inputs(6)
    outs = scoring.act(xs)  # one batched forward for all six prompts of different lengths
    for x, o in zip(xs, outs):
        distinct = list(dict.fromkeys(x.admissible_actions))
        assert o.action in distinct and len(o.candidate_ids) == len(distinct)  # duplicates are one action
        assert o.response_ids == o.candidate_ids[distinct.index(o.action)]
        fresh = _fresh_log_pi(scoring, o.prompt_ids, o.candidate_ids, rule, 0.7)
        assert o.action_logprob == pytest.approx(float(fresh[distinct.index(o.action)]), abs=1e-5)
        assert float(fresh.exp().sum()) == pytest.approx(1.0)
        ref = response_logprobs_list(scoring.model, [o.prompt_ids], [o.response_ids], scoring.pad_id)[0]
        np.testing.assert_allclose(o.response_logprobs, ref, atol=1e-5)


def test_temperature_zero_is_the_argmax_of_the_same_distribution(scoring):
    scoring.with_sampling(temperature=0)
    for x, o in zip(_inputs(4), scoring.act(_inputs(4))):
        fresh = _fresh_log_pi(scoring, o.prompt_ids, o.candidate_ids, "mean", 1.0)
        assert o.action == list(dict.fromkeys(x.admissible_actions))[int(torch.argmax(fresh))]


def test_sampling_follows_pi(scoring):
    x = _inputs(1)[0]
    scoring.with_sampling(temperature=1.0)
    counts = {a: 0 for a in x.admissible_actions}
    for o in scoring.act([x] * 600):
        counts[o.action] += 1
    logp = _fresh_log_pi(scoring, o.prompt_ids, o.candidate_ids, "mean", 1.0).exp().numpy()
    freq = np.array([counts[a] for a in x.admissible_actions]) / 600
    np.testing.assert_allclose(freq, logp, atol=0.07)  # 600 draws: about 3 standard errors


def test_trainer_gradient_equals_autograd_of_the_candidate_log_softmax(scoring):
    from turnrl.trainers.choices import ChoiceRow, choice_log_probs

    outs = scoring.act(_inputs(3))
    rows = [ChoiceRow(o.prompt_ids, o.candidate_ids, o.candidate_ids.index(o.response_ids), o.action_logprob, 1.0)
            for o in outs]
    params = [p for p in scoring.model.parameters()]
    logp, _ = choice_log_probs(scoring.model, rows, scoring.pad_id, "mean", 0.7)
    np.testing.assert_allclose(logp.detach().numpy(), [r.old_logprob for r in rows], atol=1e-5)
    grads = torch.autograd.grad(logp.sum(), params, allow_unused=True)
    expected = sum(_fresh_log_pi(scoring, r.prompt_ids, r.candidate_ids, "mean", 0.7, grad=True)[r.index]
                   for r in rows)
    reference = torch.autograd.grad(expected, params, allow_unused=True)
    checked = 0
    for g, ref in zip(grads, reference):
        if ref is None:
            assert g is None or float(g.abs().max()) == 0.0
            continue
        torch.testing.assert_close(g.double(), ref.double(), atol=2e-5, rtol=1e-3)
        checked += 1
    assert checked >= 10


def test_eval_and_training_pick_the_same_action_at_temperature_zero(tiny_dir, tmp_path):
    from turnrl.trainers.config import TrainConfig
    from turnrl.trainers.trainer import Trainer

    agent = make_agent(f"hf:{tiny_dir}", mode="score", temperature=0, prompt="compact", history_window=1,
                       device="cpu")
    trainer = Trainer(TrainConfig(model=str(tiny_dir), policy_mode="score", prompt="compact", history_window=1,
                                  device="cpu", out_dir=str(tmp_path), tensorboard=False, plot=False))
    trainer.policy.with_sampling(temperature=0)
    xs = _inputs(6)
    a, b = agent.act(xs), trainer.policy.act(xs)
    assert [o.action for o in a] == [o.action for o in b]
    assert [o.action_logprob for o in a] == pytest.approx([o.action_logprob for o in b], abs=1e-6)


def test_an_update_on_a_positive_advantage_raises_that_actions_probability(tiny_dir, tmp_path):
    from turnrl.trainers.choices import ChoiceRow
    from turnrl.trainers.config import TrainConfig
    from turnrl.trainers.trainer import Trainer

    trainer = Trainer(TrainConfig(model=str(tiny_dir), policy_mode="score", device="cpu", lr=1e-2, dual_clip=None,
                                  out_dir=str(tmp_path), tensorboard=False, plot=False))
    out = trainer.policy.act(_inputs(1))[0]
    good = next(k for k, c in enumerate(out.candidate_ids) if c != out.response_ids)  # not the sampled one
    before = trainer._choice_logprobs(trainer.model, [ChoiceRow(out.prompt_ids, out.candidate_ids, good, 0.0, 0.0)])
    row = ChoiceRow(out.prompt_ids, out.candidate_ids, good, before[0], 1.0)
    stats = trainer.update([row])
    after = trainer._choice_logprobs(trainer.model, [row])
    assert after[0] > before[0] and stats["entropy"] > 0
