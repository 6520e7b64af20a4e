"""vLLM generation for the same outputs as `HFPolicy` (extra `vllm`, CUDA only).

vLLM is imported lazily: importing this module is cheap everywhere, constructing `VLLMPolicy`
without CUDA or without vLLM raises `VLLMUnavailable` saying which is missing. Prompts are built
by `agents.prompts` and sent as token ids (`TokensPrompt`), the response ids come back as
generated, and `logprobs_mode="raw_logprobs"` asks vLLM for the raw model log-probs of the sampled
tokens, the same quantity `HFPolicy` records. `load_weights` pushes trainer weights into the
engine, which needs vLLM's in-process engine: `VLLM_ENABLE_V1_MULTIPROCESSING` defaults to 0 here.
"""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Any, Iterable

from turnrl.agents.generation import SAMPLING_KEYS, Generation, SamplingParams, to_agent_output
from turnrl.agents.prompts import fit_prompt_ids
from turnrl.types import AgentInput, AgentOutput


class VLLMUnavailable(RuntimeError):
    """vLLM or a CUDA device is missing."""


def require_vllm() -> Any:
    """The `vllm` module, or a clear error on machines that cannot run it."""
    import torch

    if not torch.cuda.is_available():
        raise VLLMUnavailable("the vLLM policy needs a CUDA GPU and none is visible; use hf:<model> on CPU")
    try:
        import vllm
    except ImportError as e:
        raise VLLMUnavailable("the vLLM policy needs vLLM: pip install 'turnrl[vllm]'") from e
    return vllm


def generation_from_vllm(prompt_ids: list[int], completion: Any, tokenizer: Any | None = None) -> Generation:
    """A vLLM `CompletionOutput` (token_ids, text, logprobs as [{token_id: Logprob}], finish_reason) as a Generation."""
    ids = [int(t) for t in completion.token_ids]
    logprobs = None
    if completion.logprobs is not None:
        logprobs = [float(step[t].logprob) for t, step in zip(ids, completion.logprobs)]
    text = tokenizer.decode(ids, skip_special_tokens=True) if tokenizer is not None else completion.text
    finish = "length" if completion.finish_reason == "length" else "stop"
    return Generation(list(prompt_ids), ids, logprobs, text, finish)


class VLLMPolicy:
    name = "vllm"

    def __init__(self, model_path: str | os.PathLike, *, sampling: SamplingParams | None = None,
                 history_window: int | None = 4, max_prompt_tokens: int | None = 2048,
                 map_to_admissible: bool = True, seed: int | None = None, **engine_kwargs: Any):
        vllm = require_vllm()
        self.sampling = sampling or SamplingParams()
        self.history_window = history_window
        self.max_prompt_tokens = max_prompt_tokens
        self.map_to_admissible = map_to_admissible
        self.seed = seed
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # keeps the model reachable by load_weights
        engine_kwargs.setdefault("dtype", "bfloat16")
        engine_kwargs.setdefault("logprobs_mode", "raw_logprobs")
        self.llm = vllm.LLM(model=str(model_path), seed=seed or 0, **engine_kwargs)
        self.tokenizer = self.llm.get_tokenizer()

    def with_sampling(self, **changes: Any) -> "VLLMPolicy":
        """Sets sampling parameters in place (as `HFPolicy.with_sampling`) and returns self."""
        self.sampling = replace(self.sampling, **changes)
        return self

    def _vllm_sampling(self) -> Any:
        from vllm import SamplingParams as VSampling

        s = self.sampling
        return VSampling(temperature=s.temperature, top_p=s.top_p, top_k=s.top_k or -1, max_tokens=s.max_new_tokens,
                         stop=list(s.stop), include_stop_str_in_output=True, logprobs=0)

    def generate(self, prompts: list[list[int]]) -> list[Generation]:
        from vllm.inputs import TokensPrompt

        results = self.llm.generate([TokensPrompt(prompt_token_ids=p) for p in prompts],
                                    sampling_params=self._vllm_sampling(), use_tqdm=False)
        return [generation_from_vllm(p, r.outputs[0], self.tokenizer) for p, r in zip(prompts, results)]

    def act(self, inputs: list[AgentInput]) -> list[AgentOutput]:
        prompts = [fit_prompt_ids(self.tokenizer, x, self.history_window, self.max_prompt_tokens).ids for x in inputs]
        return [to_agent_output(x, g, self.map_to_admissible) for x, g in zip(inputs, self.generate(prompts))]

    def load_weights(self, named_tensors: Iterable[tuple[str, Any]]) -> None:
        """Copies trainer weights (name, tensor) into the engine's model and drops stale prefix-cache entries.

        Names are those of a plain Hugging Face checkpoint (`trainers.weight_sync.inference_weights`).
        """
        apply_model = getattr(self.llm, "apply_model", None)  # vLLM >= 0.8.5: run a function on the model
        if apply_model is not None:
            weights = list(named_tensors)
            apply_model(lambda model: model.load_weights(weights=weights))
            self.llm.reset_prefix_cache()
            return
        engine = self.llm.llm_engine
        for path in ("model_executor.driver_worker.worker.model_runner.model",
                     "model_executor.driver_worker.model_runner.model"):
            target: Any = engine
            try:
                for attr in path.split("."):
                    target = getattr(target, attr)
            except AttributeError:
                continue
            target.load_weights(weights=named_tensors)
            self.llm.reset_prefix_cache()
            return
        raise VLLMUnavailable("this vLLM build hides its model (multiprocess engine); "
                              "set VLLM_ENABLE_V1_MULTIPROCESSING=0 to update weights in place")


def make_vllm_agent(argument: str | None, **kwargs: Any) -> VLLMPolicy:
    """Registry factory for `vllm:<smollm2 | local path>`."""
    from turnrl.agents.models import resolve_model

    if not argument:
        raise ValueError("agent spec 'vllm' needs a model: vllm:/path/to/checkpoint")
    require_vllm()  # fail before converting or loading anything
    sampling = SamplingParams(**{k: kwargs.pop(k) for k in list(kwargs) if k in SAMPLING_KEYS})
    keys = {"history_window", "max_prompt_tokens", "map_to_admissible", "seed", "gpu_memory_utilization", "dtype"}
    return VLLMPolicy(resolve_model(argument), sampling=sampling, **{k: v for k, v in kwargs.items() if k in keys})
