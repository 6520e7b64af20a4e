"""vLLM policy: cannot run on a CPU machine, so check the clear error and the shared conversion path."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from turnrl.agents.registry import make_agent
from turnrl.agents.vllm import VLLMPolicy, VLLMUnavailable, generation_from_vllm
from turnrl.types import AgentInput


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without CUDA")
def test_clear_error_without_cuda(tmp_path):
    with pytest.raises(VLLMUnavailable, match="CUDA"):
        VLLMPolicy(tmp_path)
    with pytest.raises(VLLMUnavailable):
        make_agent("vllm:tiny")


def test_vllm_completion_becomes_the_same_agent_output_as_hf(tiny_tokenizer):
    from turnrl.agents.generation import to_agent_output

    ids = tiny_tokenizer.encode("<action>go north</action>", add_special_tokens=False)
    logprobs = [{t: SimpleNamespace(logprob=-0.25 * (k + 1))} for k, t in enumerate(ids)]  # vLLM's layout
    completion = SimpleNamespace(token_ids=tuple(ids), text="ignored", logprobs=logprobs, finish_reason="stop")
    gen = generation_from_vllm([1, 2, 3], completion, tiny_tokenizer)
    out = to_agent_output(AgentInput(observation="o", admissible_actions=["go north"]), gen)
    assert out.action == "go north" and out.valid and out.response_ids == ids and out.prompt_ids == [1, 2, 3]
    assert out.response_logprobs == [-0.25 * (k + 1) for k in range(len(ids))]
