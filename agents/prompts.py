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

from turnrl.envs.family import EnvFamily
from turnrl.envs.registration import families
from turnrl.envs.registration import family_of as env_family_of
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


# For envs of no built-in family that declares prompt text (games, ride-sharing, a user's own env).
GENERIC_TEMPLATE = PromptTemplate(system="You are an agent acting in a text environment.",
                                  setting="Read the observation and choose the next action.")


def family_template(family: EnvFamily) -> PromptTemplate:
    """The template of a family that declares prompt text (in its register.py), else the generic one."""
    if family.prompt is None:
        return GENERIC_TEMPLATE
    return PromptTemplate(system=family.prompt.system, setting=family.prompt.setting)


# family -> its template, for the built-in families that declare prompt text
TEMPLATES: dict[str, PromptTemplate] = {
    **{name: family_template(family) for name, family in families().items() if family.prompt is not None},
    "generic": GENERIC_TEMPLATE,
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
    """The template an env id gets: its family's (`turnrl/ALFWorld-v0` -> `alfworld`), or `generic`
    for an id of no family with prompt text (games, an unregistered id, a user's own env)."""
    family = env_family_of(env_id)
    return family.name if family is not None and family.prompt is not None else "generic"


def template_for(env_id: str | None) -> PromptTemplate:
    """The template of `env_id`'s family (looked up from the registered id), else the generic one."""
    family = env_family_of(env_id)
    return GENERIC_TEMPLATE if family is None else family_template(family)


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
