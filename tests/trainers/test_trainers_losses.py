"""The loss module: clipping, dual clip, KL estimators, entropy and aggregation, on hand-made tensors."""
import math

import pytest
import torch

from turnrl.trainers.losses import aggregate, clipped_policy_loss, entropy_from_logits, kl_penalty, ppo_loss


@pytest.mark.parametrize("estimator", ["k1", "k2", "k3"])
def test_kl_is_zero_when_policy_equals_reference(estimator):
    logp = torch.log(torch.rand(3, 5) * 0.9 + 0.05)
    assert torch.allclose(kl_penalty(logp, logp.clone(), estimator), torch.zeros(3, 5), atol=1e-7)


def test_k1_and_k3_estimate_the_true_kl_and_k3_is_never_negative():
    torch.manual_seed(0)
    p = torch.tensor([0.6, 0.3, 0.1])
    q = torch.tensor([0.2, 0.5, 0.3])
    true_kl = float((p * (p / q).log()).sum())
    samples = torch.multinomial(p, 200_000, replacement=True)
    logp, logq = p.log()[samples], q.log()[samples]
    k1, k3 = kl_penalty(logp, logq, "k1"), kl_penalty(logp, logq, "k3")
    assert float(k1.mean()) == pytest.approx(true_kl, rel=0.03)
    assert float(k3.mean()) == pytest.approx(true_kl, rel=0.03)
    assert bool((k3 >= 0).all()) and bool((k1 < 0).any())
    assert float(k3.var()) < float(k1.var())


def test_unknown_kl_estimator_is_a_clear_error():
    with pytest.raises(ValueError, match="k4"):
        kl_penalty(torch.zeros(1), torch.zeros(1), "k4")


def test_k3_is_clamped_to_ten_as_verl():
    # log(ref/pi) = 5: k3 = e^5 - 1 - 5 = 142.41 unclamped; verl's low_var_kl clamps it to 10
    logp, ref = torch.tensor([0.0, 0.0, 0.0]), torch.tensor([5.0, 1.0, -3.0])
    assert kl_penalty(logp, ref, "k3", k3_clamp=None)[0].item() == pytest.approx(142.4132, rel=1e-5)
    got = kl_penalty(logp, ref, "k3")
    # e^1 - 2 = 0.71828 and e^-3 + 2 = 2.04979 are inside the clamp and unchanged
    assert got.tolist() == pytest.approx([10.0, 0.718282, 2.049787], rel=1e-5)


def test_clip_higher_bounds_differ_and_clipped_tokens_get_no_gradient():
    old = torch.zeros(4)
    logp = torch.tensor([math.log(1.5), math.log(1.25), math.log(0.7), math.log(0.9)], requires_grad=True)
    adv = torch.tensor([1.0, 1.0, -1.0, -1.0])
    loss, clipped = clipped_policy_loss(logp, old, adv, clip_low=0.2, clip_high=0.28)
    # ratio 1.5 > 1.28 with A>0: clipped; 1.25 inside the higher bound: not; 0.7 < 0.8 with A<0: clipped
    assert clipped.tolist() == [1.0, 0.0, 1.0, 0.0]
    assert loss.tolist() == pytest.approx([-1.28, -1.25, 0.8, 0.9])
    loss.sum().backward()
    assert logp.grad[0] == 0 and logp.grad[2] == 0
    assert logp.grad[1] == pytest.approx(-1.25) and logp.grad[3] == pytest.approx(0.9)


def test_dual_clip_caps_the_loss_of_negative_advantages():
    logp = torch.tensor([math.log(10.0)], requires_grad=True)
    loss, clipped = clipped_policy_loss(logp, torch.zeros(1), torch.tensor([-2.0]), dual_clip=3.0)
    assert float(loss.detach()) == pytest.approx(6.0) and float(clipped) == 1.0  # not 10 * 2
    loss.backward()
    assert float(logp.grad) == 0.0
    free, _ = clipped_policy_loss(logp.detach(), torch.zeros(1), torch.tensor([-2.0]), dual_clip=None)
    assert float(free) == pytest.approx(20.0)


def test_aggregation_modes():
    values = torch.tensor([[1.0, 2.0, 3.0], [4.0, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    assert float(aggregate(values, mask, "token-mean", 4, 2)) == pytest.approx(10 / 4)
    assert float(aggregate(values, mask, "seq-mean-token-mean", 4, 2)) == pytest.approx((2 + 4) / 2)
    assert float(aggregate(values, mask, "seq-mean-token-sum", 4, 2)) == pytest.approx((6 + 4) / 2)
    # a micro-batch's share uses the mini-batch totals: two halves sum to the whole
    halves = sum(float(aggregate(values[i:i + 1], mask[i:i + 1], "token-mean", 4, 2)) for i in range(2))
    assert halves == pytest.approx(10 / 4)
    with pytest.raises(ValueError):
        aggregate(values, mask, "mean", 4, 2)


def test_entropy_from_logits_matches_definition():
    logits = torch.randn(2, 3, 7)
    p = torch.softmax(logits, -1)
    assert torch.allclose(entropy_from_logits(logits), -(p * p.log()).sum(-1), atol=1e-5)


def test_zero_advantages_and_zero_kl_coef_leave_only_the_entropy_gradient():
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 6, requires_grad=True)
    targets = torch.randint(0, 6, (2, 4))
    mask = torch.tensor([[0, 1, 1, 1], [0, 0, 1, 1]], dtype=torch.bool)

    def grads(entropy_coef: float) -> torch.Tensor:
        logits.grad = None
        logp = torch.log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        terms = ppo_loss(logp, logp.detach() - 0.1, torch.zeros(2, 4), mask, n_tokens=5, n_seqs=2,
                         ref_logp=logp.detach() + 0.3, entropy=entropy_from_logits(logits), kl_coef=0.0,
                         entropy_coef=entropy_coef, dual_clip=3.0)
        terms.loss.backward()
        return logits.grad.clone()

    assert torch.count_nonzero(grads(0.0)) == 0
    with_entropy = grads(0.01)
    logits.grad = None
    (-(0.01) * aggregate(entropy_from_logits(logits), mask.float(), "token-mean", 5, 2)).backward()
    assert torch.count_nonzero(with_entropy) > 0
    assert torch.allclose(with_entropy, logits.grad, atol=1e-7)


def test_kl_term_enters_the_loss_only_with_a_coefficient():
    logp = torch.log(torch.full((1, 3), 0.5))
    ref = torch.log(torch.full((1, 3), 0.25))
    mask = torch.ones(1, 3)
    args = dict(n_tokens=3, n_seqs=1, ref_logp=ref)
    without = ppo_loss(logp, logp, torch.zeros(1, 3), mask, kl_coef=0.0, **args)
    with_kl = ppo_loss(logp, logp, torch.zeros(1, 3), mask, kl_coef=0.5, **args)
    assert without.kl == pytest.approx(with_kl.kl) and without.kl > 0
    assert float(with_kl.loss) == pytest.approx(0.5 * with_kl.kl)
    assert float(without.loss) == pytest.approx(0.0)
