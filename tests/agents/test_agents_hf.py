"""HFPolicy on a tiny random Llama: exact token ids, raw log-probs that match a separate forward pass."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from turnrl.agents.generation import SamplingParams
from turnrl.agents.logprobs import response_logprobs, response_logprobs_list
from turnrl.agents.registry import make_agent
from turnrl.types import AgentInput


def _inputs(n: int) -> list[AgentInput]:
    return [AgentInput(observation="You see a door. " * (1 + 3 * i), task="open the door",
                       history=[("a dark room", "look")] * i, admissible_actions=["open door", "go north", "look"],
                       step=i, env_id="turnrl/TextWorld-v0") for i in range(n)]


def test_generated_ids_and_logprobs_match_a_separate_forward_pass(tiny_policy):
    tiny_policy.with_sampling(temperature=0.7, top_p=0.9, max_new_tokens=12)
    outs = tiny_policy.act(_inputs(5))  # prompts of different lengths: left padding is exercised
    assert len({len(o.prompt_ids) for o in outs}) == 5
    reference = response_logprobs_list(tiny_policy.model, [o.prompt_ids for o in outs],
                                       [o.response_ids for o in outs], tiny_policy.pad_id)
    for o, ref in zip(outs, reference):
        assert len(o.response_ids) == len(o.response_logprobs) > 0
        np.testing.assert_allclose(o.response_logprobs, ref, atol=1e-4)
        assert tiny_policy.tokenizer.decode(o.response_ids, skip_special_tokens=True) == o.raw_text


def test_logprobs_helper_keeps_the_graph_and_masks_padding(tiny_policy):
    lp, mask = response_logprobs(tiny_policy.model, [[1, 5, 6], [1, 7]], [[8, 9, 10], [11]], tiny_policy.pad_id)
    assert lp.shape == mask.shape == (2, 3) and lp.requires_grad
    assert mask.tolist() == [[True, True, True], [True, False, False]] and bool((lp[mask] < 0).all())
    lp[mask].sum().backward()
    assert tiny_policy.model.model.embed_tokens.weight.grad is not None


def test_greedy_batched_equals_one_at_a_time(tiny_policy):
    tiny_policy.with_sampling(temperature=0, max_new_tokens=8)
    xs = _inputs(4)
    batched = tiny_policy.act(xs)
    single = [tiny_policy.act([x])[0] for x in xs]
    assert [o.response_ids for o in batched] == [o.response_ids for o in single]
    for b, s in zip(batched, single):
        np.testing.assert_allclose(b.response_logprobs, s.response_logprobs, atol=1e-4)


def test_random_model_output_is_invalid_not_an_error(tiny_policy):
    outs = tiny_policy.act(_inputs(3))
    assert all(o.valid is False and o.invalid_reason and o.action == "" for o in outs)


def test_generation_is_cut_after_the_stop_string(tiny_policy):
    tok = tiny_policy.tokenizer
    ids = tok.encode("<think>hm</think><action>open door</action> and more text", add_special_tokens=False)
    gen = tiny_policy._finish([1, 2], ids, [-0.5] * len(ids), stop=("</action>",))
    assert gen.text == "<think>hm</think><action>open door</action>" and gen.finish_reason == "stop"
    assert len(gen.response_logprobs) == len(gen.response_ids) < len(ids)
    eos = tok.encode("go", add_special_tokens=False) + [tok.eos_token_id, tok.pad_token_id]
    cut = tiny_policy._finish([1], eos, [-1.0] * len(eos), stop=())
    assert cut.response_ids == eos[:-1] and cut.finish_reason == "stop"


def test_prompt_cap_is_respected(tiny_policy):
    tiny_policy.max_prompt_tokens = 300
    x = _inputs(6)[5]
    x.observation = "a very long observation " * 400
    out = tiny_policy.act([x])[0]
    assert len(out.prompt_ids) <= 300 and out.response_ids


def test_agent_spec_and_sampling_validation(tiny_dir):
    agent = make_agent(f"hf:{tiny_dir}", temperature=0.5, max_new_tokens=8, device="cpu", unrelated_flag=1)
    assert agent.sampling.temperature == 0.5 and agent.device == torch.device("cpu")
    assert len(agent.act(_inputs(2))[1].response_ids) <= 8
    with pytest.raises(FileNotFoundError, match="neither a known name"):
        make_agent("hf:/no/such/model")
    with pytest.raises(ValueError, match="invalid sampling"):
        SamplingParams(top_p=0)
