"""Fixtures for agents tests: a tiny random Llama with the shipped tokenizer, built once per session."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from turnrl.agents.models import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"), seed=0)


@pytest.fixture(scope="session")
def tiny_tokenizer():
    from transformers import AutoTokenizer

    from turnrl.agents.models import TINY_TOKENIZER_DIR

    return AutoTokenizer.from_pretrained(TINY_TOKENIZER_DIR)


@pytest.fixture()
def tiny_policy(tiny_dir: Path):
    from turnrl.agents.generation import SamplingParams
    from turnrl.agents.hf import HFPolicy

    return HFPolicy.from_pretrained(tiny_dir, device="cpu", sampling=SamplingParams(max_new_tokens=12), seed=0)
