"""Chat prompts for LLM agents: one template per environment family, a history window, a token cap.

A prompt is a single user turn (plus a system turn) that holds the task, the last k
(observation, action) pairs, the current observation, the admissible actions when the env lists
them, and the instruction to reason in `<think>` and answer in `<action>`. Keeping the whole
history inside one user turn makes the prompt independent of how a chat template renders
assistant turns, so the same text works for any instruct model and for HTTP endpoints.

`fit_prompt_ids` renders through the tokenizer's chat template and enforces a token cap by
dropping the oldest history first; the task and the current observation are never dropped
(only when they alone exceed the cap is the observation clipped in the middle, and that is
reported).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from turnrl.types import AgentInput

ACTION_INSTRUCTION = (
    "First reason briefly inside <think> </think>. Then give exactly one action inside "
    "<action> </action>, for example <action>look</action>."
)


def _text(value: object) -> str:
    """Stripped text of a field; None (e.g. a crashed env's observation) becomes empty, never an error."""
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class PromptTemplate:
    """The text that differs between environment families."""

    system: str
    setting: str  # one paragraph on what kind of world this is and what actions look like
    max_listed_actions: int = 60  # admissible actions listed in full up to this many
    instruction: str = ACTION_INSTRUCTION

    def user_message(self, x: AgentInput, history: list[tuple[str, str]], observation: str) -> str:
        parts = [f"Task: {_text(x.task) or '(see the observation)'}", self.setting]
        if history:
            first = len(x.history) - len(history)  # index of the oldest pair shown
            lines = [f"You have taken {len(x.history)} step(s). "
                     f"The last {len(history)} step(s), oldest first:"]
            for i, (obs, action) in enumerate(history, start=first + 1):
                lines.append(f"[Observation {i}] {_text(obs)}\n[Action {i}] {_text(action)}")
            parts.append("\n".join(lines))
        else:
            parts.append("This is the first step.")
        parts.append(f"[Current observation, step {len(x.history) + 1}]\n{_text(observation)}")
        if x.admissible_actions:
            shown = x.admissible_actions[: self.max_listed_actions]
            more = len(x.admissible_actions) - len(shown)
            listed = "\n".join(f"- {_text(a)}" for a in shown) + (f"\n(and {more} more)" if more > 0 else "")
            parts.append(f"Admissible actions:\n{listed}")
        parts.append(self.instruction)
        return "\n\n".join(parts)


TEMPLATES: dict[str, PromptTemplate] = {
    "textworld": PromptTemplate(
        system="You are an expert player of text adventure games.",
        setting=("You are in a text adventure. Commands are short imperative phrases such as "
                 "'go north', 'take key', 'open door', 'put apple in box'."),
    ),
    "alfworld": PromptTemplate(
        system="You are an expert household agent acting in a simulated home.",
        setting=("You are in a household. Commands look like 'go to countertop 1', 'take mug 1 from "
                 "countertop 1', 'open fridge 1', 'heat mug 1 with microwave 1', 'put mug 1 in/on shelf 2'."),
    ),
    "webshop": PromptTemplate(
        system="You are an expert online shopping agent.",
        setting=("You are on a shopping website. Actions are 'search[<keywords>]' and "
                 "'click[<button or item>]'; buy the item that best matches the instruction."),
    ),
    "scienceworld": PromptTemplate(
        system="You are an expert scientist acting in a simulated laboratory and home.",
        setting=("You are in an interactive science world. Actions look like 'open door to kitchen', "
                 "'pick up thermometer', 'use thermometer on substance', 'focus on <object>'."),
    ),
    "generic": PromptTemplate(
        system="You are an agent acting in a text environment.",
        setting="Read the observation and choose the next action.",
    ),
}


# Fewer prompt tokens for small models on CPU: the task, observation and admissible actions stay,
# the family's prose goes (`prompt: compact` in a TrainConfig, `--agent-arg prompt=compact` in eval).
COMPACT_TEMPLATE = PromptTemplate(system="Play the text game.", setting="Choose one admissible action.",
                                  instruction="Answer with one action inside <action> </action>.")
PROMPT_STYLES = ("default", "compact")


def template_named(style: str) -> PromptTemplate | None:
    """`default` -> None (each env family's own template); `compact` -> COMPACT_TEMPLATE."""
    if style not in PROMPT_STYLES:
        raise ValueError(f"prompt must be one of {PROMPT_STYLES}, not {style!r}")
    return COMPACT_TEMPLATE if style == "compact" else None


def family_of(env_id: str | None) -> str:
    """`turnrl/ALFWorld-v0` -> `alfworld`; unknown or missing ids map to `generic`."""
    if not env_id:
        return "generic"
    name = env_id.rsplit("/", 1)[-1].lower()
    for family in TEMPLATES:
        if family != "generic" and name.startswith(family):
            return family
    return "generic"


def template_for(env_id: str | None) -> PromptTemplate:
    return TEMPLATES[family_of(env_id)]


def build_messages(x: AgentInput, history_window: int | None = 4, template: PromptTemplate | None = None,
                   observation: str | None = None) -> list[dict[str, str]]:
    """System + user messages with the last `history_window` pairs (None: all, 0: none)."""
    template = template or template_for(x.env_id)
    k = len(x.history) if history_window is None else max(0, min(history_window, len(x.history)))
    history = x.history[len(x.history) - k:] if k else []
    obs = x.observation if observation is None else observation
    return [{"role": "system", "content": template.system},
            {"role": "user", "content": template.user_message(x, history, obs)}]


class ChatTokenizer(Protocol):
    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> Any: ...


def render_ids(tokenizer: ChatTokenizer, messages: list[dict[str, str]]) -> list[int]:
    """Token ids of `messages` with the assistant generation prompt appended."""
    out = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True)
    if isinstance(out, dict) or hasattr(out, "input_ids"):  # BatchEncoding in newer transformers
        out = out["input_ids"]
    return [int(t) for t in out]


@dataclass
class FittedPrompt:
    ids: list[int]
    messages: list[dict[str, str]]
    history_kept: int  # pairs of history in the prompt
    observation_clipped: bool  # True only when task + current observation alone exceeded the cap


def _clip_middle(text: str, keep: int) -> str:
    if len(text) <= keep:
        return text
    head, tail = keep // 2, keep - keep // 2
    return f"{text[:head]}\n[... {len(text) - keep} characters omitted ...]\n{text[len(text) - tail:]}"


def fit_prompt_ids(tokenizer: ChatTokenizer, x: AgentInput, history_window: int | None = 4,
                   max_prompt_tokens: int | None = None, template: PromptTemplate | None = None) -> FittedPrompt:
    """Renders `x`, dropping the oldest history until the prompt fits `max_prompt_tokens`.

    If even the prompt without history and with an empty observation exceeds the cap (a cap below
    the template's own size), that minimal prompt is returned: the task is never cut.
    """
    k = len(x.history) if history_window is None else max(0, min(history_window, len(x.history)))
    while True:
        messages = build_messages(x, k, template)
        ids = render_ids(tokenizer, messages)
        if max_prompt_tokens is None or len(ids) <= max_prompt_tokens or k == 0:
            break
        k -= 1
    if max_prompt_tokens is None or len(ids) <= max_prompt_tokens:
        return FittedPrompt(ids, messages, k, False)
    # Task + observation alone are too long: clip the observation in the middle, never drop it.
    observation = _text(x.observation)
    lo, hi = 0, len(observation)
    best = build_messages(x, 0, template, observation=_clip_middle(observation, 0))
    while lo < hi:  # largest observation length that fits
        mid = (lo + hi + 1) // 2
        trial = build_messages(x, 0, template, observation=_clip_middle(observation, mid))
        if len(render_ids(tokenizer, trial)) <= max_prompt_tokens:
            lo, best = mid, trial
        else:
            hi = mid - 1
    return FittedPrompt(render_ids(tokenizer, best), best, 0, True)
