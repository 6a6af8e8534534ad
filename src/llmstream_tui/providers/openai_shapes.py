"""What the OpenAI family's streams and answers share (Chat Completions, legacy Completions,
Responses): the usage object in LangChain's shape, usage records turned into deltas, and the
tool-call chunk. Pure functions of decoded JSON, no I/O.
"""

from __future__ import annotations

from typing import Any

from ..core.messages import UsageMetadata
from ..core.parts import TOOL_CALL, StreamPart

__all__ = ["UsageDeltas", "openai_usage", "tool_call_part"]


def tool_call_part(
    name: str | None, args: str | None, call_id: str | None, index: int | None, id_: str | None
) -> StreamPart:
    """A TOOL_CALL part shaped like LangChain's ``tool_call_chunks`` (pieces merge by
    ``index``)."""
    call = {"name": name, "args": args, "id": call_id, "index": index}
    return StreamPart("", TOOL_CALL, id=id_, tool_call=call)


#: (our key, (chat name, responses name), ((their count, our count), ...)).
_USAGE_DETAILS = (
    (
        "input_token_details",
        ("prompt_tokens_details", "input_tokens_details"),
        (("cached_tokens", "cache_read"), ("audio_tokens", "audio")),
    ),
    (
        "output_token_details",
        ("completion_tokens_details", "output_tokens_details"),
        (("reasoning_tokens", "reasoning"), ("audio_tokens", "audio")),
    ),
)


def openai_usage(usage: dict[str, Any]) -> UsageMetadata:
    """OpenAI's usage object (Chat/Completions or Responses naming) in LangChain's shape."""
    inp = usage.get("prompt_tokens")
    if inp is None:
        inp = usage.get("input_tokens")
    out = usage.get("completion_tokens")
    if out is None:
        out = usage.get("output_tokens")
    inp, out = int(inp or 0), int(out or 0)
    total = usage.get("total_tokens")
    result: UsageMetadata = {
        "input_tokens": inp,
        "output_tokens": out,
        "total_tokens": int(total) if total is not None else inp + out,
    }
    for target, names, mapping in _USAGE_DETAILS:
        details = usage.get(names[0]) or usage.get(names[1])
        if isinstance(details, dict):
            found = {
                ours: int(details[theirs])
                for theirs, ours in mapping
                if details.get(theirs) is not None
            }
            if found:
                result[target] = found  # type: ignore[literal-required]  # one of two keys
    return result


class UsageDeltas:
    """Turns usage records into deltas: a server that repeats a cumulative usage on every
    chunk must not be counted twice, and one final record is its own delta."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: UsageMetadata | None = None

    def delta(self, usage: UsageMetadata) -> UsageMetadata | None:
        seen = self._seen
        self._seen = usage
        if seen is None:
            return usage
        out: dict[str, Any] = {}
        changed = False
        for key, value in usage.items():
            if isinstance(value, dict):
                before = seen.get(key) or {}
                inner = {k: v - before.get(k, 0) for k, v in value.items()}  # type: ignore[attr-defined]
                out[key] = inner
                changed = changed or any(inner.values())
            else:
                diff = value - seen.get(key, 0)  # type: ignore[operator]
                out[key] = diff
                changed = changed or bool(diff)
        return out if changed else None  # type: ignore[return-value]  # same keys as usage
