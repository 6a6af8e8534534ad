"""How our generation parameters become a kind's request fields: one table per kind
(:class:`ParamMap`), one function that applies it (:func:`map_params`).

Our names are the fields of ``spec.Params`` (``temperature``, ``max_tokens``, ``top_p``,
``stop``, ``seed``, ``system``). A kind declares what it calls each of them, or ``None`` for
"this API has no such thing: not sent"; where the system prompt goes; and whether the
generation parameters sit in a nested object (Gemini's ``generationConfig``, Ollama's
``options``). Every kind then gets the same rules, stated once here:

- the configured ``self.params``, then the per-call ``request.overrides`` over them, then
  ``request.stop`` (when non-empty) over both;
- a ``None`` value is never sent (``None`` means "unset" for ours and for pass-through keys);
- ``stop`` is sent as a list (a lone string becomes a one-item list) and not at all when empty;
- any other override key is passed through verbatim at the top level, after everything else,
  so a new API field needs no code (and may replace a nested object on purpose).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from ..core.messages import AIMessage, BaseMessage, ToolMessage
from ..core.runnable import ModelRequest
from .spec import Params

__all__ = ["OUR_NAMES", "MappedParams", "ParamMap", "answered_calls", "map_params", "system_texts"]

#: Our parameter names; any other key of the merged parameters is a pass-through field.
OUR_NAMES: Final = frozenset(Params.model_fields)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamMap:
    """A kind's names for our parameters: the field it sends, or ``None`` for "not sent"."""

    temperature: str | None = "temperature"
    max_tokens: str | None = "max_tokens"
    top_p: str | None = "top_p"
    stop: str | None = "stop"
    seed: str | None = "seed"
    #: The top-level field the system prompt is sent in; ``None``: not sent by the map, the
    #: adapter places ``MappedParams.system`` itself (in its messages) or drops it.
    system: str | None = None
    #: The object the generation parameters are nested in (``generationConfig``); ``None``:
    #: top level. An empty nested object is not sent.
    nest: str | None = None
    #: Sent as ``max_tokens`` when none is set, for APIs that require one (Anthropic).
    default_max_tokens: int | None = None


class MappedParams(NamedTuple):
    """What :func:`map_params` gives an adapter."""

    #: Request body fields, to be merged into the body after the kind's own required fields.
    fields: dict[str, Any]
    #: The configured system prompt (``None`` when unset or empty), whatever the map did.
    system: str | None


def map_params(
    pmap: ParamMap,
    params: Mapping[str, Any],
    request: ModelRequest,
    *,
    nested: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> MappedParams:
    """Apply ``pmap`` to ``params`` (the configured ones) and ``request``.

    ``nested`` are the kind's own fields of the nested object, under the mapped parameters
    (Ollama's ``spec.options``, Gemini's ``thinkingConfig``); ``extra`` are the kind's own
    top-level fields, under the pass-through ones (Anthropic's ``thinking``, Ollama's
    ``keep_alive``). Both come from the kind's spec, not from the user's call.
    """
    merged = {**params, **request.overrides}
    if request.stop:
        merged["stop"] = request.stop
    system = merged.pop("system", None) or None
    fields: dict[str, Any] = dict(extra) if extra else {}
    inner: dict[str, Any] = dict(nested) if nested else {}
    target = inner if pmap.nest else fields
    passed: dict[str, Any] = {}
    for key, value in merged.items():
        if value is None:
            continue
        if key not in OUR_NAMES:
            passed[key] = value
            continue
        theirs: str | None = getattr(pmap, key)
        if theirs is None:
            continue
        if key == "stop":
            if not value:
                continue
            value = [value] if isinstance(value, str) else list(value)
        target[theirs] = value
    if pmap.default_max_tokens is not None and pmap.max_tokens and pmap.max_tokens not in target:
        target[pmap.max_tokens] = pmap.default_max_tokens
    if pmap.nest and inner:
        fields[pmap.nest] = inner
    if pmap.system and system:
        fields[pmap.system] = system
    fields.update(passed)
    return MappedParams(fields, system)


def system_texts(messages: Sequence[BaseMessage], system: str | None) -> list[str]:
    """The system prompts of a request: its system messages' texts, else the configured one.

    The rule core's ``message_dicts`` applies for OpenAI-shaped messages, for the kinds that
    send the system prompt apart from the messages (Anthropic's ``system``, Gemini's
    ``systemInstruction``).
    """
    texts = [m.content for m in messages if m.role == "system"]
    if not texts and system:
        texts = [system]
    return texts


def answered_calls(messages: Sequence[BaseMessage]) -> list[dict[str, Any] | None]:
    """For each message, the tool call it answers: for a ``ToolMessage``, the call of the
    assistant message before it whose ``id`` is its ``tool_call_id``, else the first call not
    yet answered (Gemini's and Ollama's calls often have no id); ``None`` for every other
    message, and for a result that matches no call. For the APIs that name the function in
    a result (Gemini's ``functionResponse``, Ollama's ``tool_name``)."""
    out: list[dict[str, Any] | None] = []
    pending: list[dict[str, Any]] = []
    for m in messages:
        call = None
        if isinstance(m, ToolMessage):
            wanted = m.tool_call_id
            call = next((c for c in pending if wanted and c.get("id") == wanted), None)
            if call is None and pending:
                call = pending[0]
            if call is not None:
                pending.remove(call)
        elif isinstance(m, AIMessage) and m.tool_calls:
            pending = list(m.tool_calls)
        out.append(call)
    return out
