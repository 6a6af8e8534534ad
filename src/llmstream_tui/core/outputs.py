"""What a backend's ``StreamPart``s become for the caller, as langchain-core 1.7 shapes them:
an ``AIMessageChunk`` per part for a chat model; for a text LLM the text, plus the
``generation_info`` its end event carries.
"""

from __future__ import annotations

from typing import Any, TypedDict

from .messages import AIMessageChunk, add_usage, merge_dicts
from .parts import META, REASONING, REFUSAL, TEXT, TOOL_CALL, StreamPart

__all__ = [
    "Generation",
    "GenerationInfo",
    "LLMResult",
    "llm_result",
    "merge_generation_info",
    "part_to_chunk",
]


def part_to_chunk(part: StreamPart, default_id: str) -> AIMessageChunk:
    """A chat model's chunk for one part: text parts are the hot path (no keyword plumbing),
    other channels go where LangChain's chat models put them.

    Only TEXT is ``content``. A refusal is not content (the official OpenAI SDK and
    langchain-openai leave ``content`` empty and put the text in ``refusal``): it goes to
    ``additional_kwargs["refusal"]``; reasoning to ``additional_kwargs["reasoning_content"]``
    (where langchain-openai puts ``reasoning_content`` deltas); tool-call deltas to
    ``tool_call_chunks``. Summed, each of those strings concatenates like ``content``."""
    channel = part.channel
    text = part.text
    if channel == TEXT and part.finish_reason is None and not part.metadata and part.usage is None:
        return AIMessageChunk.plain(text, part.id or default_id)
    kwargs: dict[str, Any] = {}
    if channel == REFUSAL:
        kwargs["additional_kwargs"] = {"refusal": text}
        text = ""
    elif channel == REASONING:
        kwargs["additional_kwargs"] = {"reasoning_content": text}
        text = ""
    elif channel == TOOL_CALL:
        kwargs["tool_call_chunks"] = [part.tool_call] if part.tool_call else []
        text = ""
    elif channel == META:
        text = ""
    if part.finish_reason is not None or part.metadata:
        meta = dict(part.metadata or {})
        if part.finish_reason is not None:
            meta["finish_reason"] = part.finish_reason
        kwargs["response_metadata"] = meta
    if part.usage is not None:
        kwargs["usage_metadata"] = part.usage
    return AIMessageChunk(text, id=part.id or default_id, **kwargs)


class GenerationInfo:
    """A text LLM's metadata (stop reason, usage): not yielded by ``astream``, merged into
    ``generation_info`` of the end event as LangChain merges chunk infos. Usage goes under
    ``usage`` there (LangChain's text LLMs have no other place for it in a stream), and a
    refusal under ``refusal`` (it is not the text: pieces concatenate there)."""

    __slots__ = ("info",)

    def __init__(self, part: StreamPart) -> None:
        info = dict(part.metadata or {})
        if part.finish_reason is not None:
            info["finish_reason"] = part.finish_reason
        if part.usage:
            info["usage"] = dict(part.usage)
        if part.channel == REFUSAL:
            info["refusal"] = part.text
        self.info = info


def merge_generation_info(info: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Merge generation infos; usage deltas add up rather than overwrite."""
    usage = new.get("usage")
    if usage is None or info is None or "usage" not in info:
        return merge_dicts(info or {}, new)
    merged = merge_dicts(info, {k: v for k, v in new.items() if k != "usage"})
    merged["usage"] = add_usage(info["usage"], usage)
    return merged


class Generation(TypedDict):
    """One generation of a text LLM's result, as LangChain's ``Generation.model_dump``."""

    text: str
    generation_info: dict[str, Any] | None
    type: str


class LLMResult(TypedDict):
    """A text LLM's v2 end-event output: LangChain's ``LLMResult`` as a dict."""

    generations: list[list[Generation]]
    llm_output: None


def llm_result(text: str, info: dict[str, Any] | None) -> LLMResult:
    return {
        "generations": [[{"text": text, "generation_info": info or None, "type": "Generation"}]],
        "llm_output": None,
    }
