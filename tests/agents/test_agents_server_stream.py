"""`TextStream`: the deltas a streaming response sends add up to the text a plain response returns."""
from __future__ import annotations

from turnrl.agents.server_stream import TextStream


def _stream(tokenizer, ids: list[int], stop: tuple[str, ...] = ()) -> tuple[list[str], TextStream]:
    stream = TextStream(tokenizer, stop)
    return [stream.push(t) for t in ids], stream


def test_deltas_add_up_to_the_decoded_text_and_never_split_a_character(tiny_tokenizer):
    text = "go east <action>héllo 日本 café</action> ✓"
    ids = tiny_tokenizer.encode(text, add_special_tokens=False)
    assert len(ids) > len(text) // 2  # byte-level BPE: the multi-byte characters span several tokens
    deltas, stream = _stream(tiny_tokenizer, ids + [tiny_tokenizer.eos_token_id])
    assert "".join(deltas) == text == stream.sent and stream.rest(text) == ""
    assert not any("\ufffd" in d for d in deltas)  # a character is sent once all its bytes have come
    assert sum(1 for d in deltas if d) > 10


def test_stop_string_ends_the_deltas_and_rest_sends_the_final_text(tiny_tokenizer):
    text = "<think>a</think><action>take key</action> and then more words"
    ids = tiny_tokenizer.encode(text, add_special_tokens=False)
    deltas, stream = _stream(tiny_tokenizer, ids, stop=("</action>",))
    sent = "".join(deltas)
    assert "</action>" not in sent and text.startswith(sent) and len(sent) > 10
    final = text[: text.index("</action>") + len("</action>")]  # what HFPolicy keeps: up to the stop string
    assert sent + stream.rest(final) == final
    assert stream.rest("something else") == ""  # never sends text that contradicts what was sent
