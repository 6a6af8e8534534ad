"""What a provider adapter yields: one ``StreamPart`` per meaningful wire event.

The runnable layer turns parts into what LangChain's interface promises (``str`` for text
LLMs, ``AIMessageChunk`` for chat models); adapters never build those themselves, so the
conversion, the metrics and the event trace are written once.
"""

from __future__ import annotations

from typing import Any

from .messages import UsageMetadata

#: The answer itself.
TEXT = "text"
#: A refusal (OpenAI ``delta.refusal``, Anthropic ``stop_reason: refusal``): shown, but marked.
REFUSAL = "refusal"
#: Reasoning / thinking deltas: a separate channel, visible in events, never in the answer.
REASONING = "reasoning"
#: Tool-call deltas: accumulated by index, visible in events, never in the answer.
TOOL_CALL = "tool_call"
#: Usage, stop reason, ids: no text at all.
META = "meta"


class StreamPart:
    """One decoded event. ``text`` is the delta for ``channel``; metadata rides along.

    ``finish_reason`` is the provider's stop reason as the provider spells it
    (``stop``, ``length``, ``end_turn``...). ``usage`` is a *delta* (adding all parts gives
    the run's totals), so cumulative counters must be converted by the adapter.
    """

    __slots__ = (
        "channel",
        "finish_reason",
        "id",
        "last",
        "metadata",
        "text",
        "tool_call",
        "usage",
    )

    def __init__(
        self,
        text: str = "",
        channel: str = TEXT,
        *,
        usage: UsageMetadata | None = None,
        finish_reason: str | None = None,
        metadata: dict[str, Any] | None = None,
        tool_call: dict[str, Any] | None = None,
        id: str | None = None,  # the provider's message id
        last: bool = False,
    ) -> None:
        self.text = text
        self.channel = channel
        self.usage = usage
        self.finish_reason = finish_reason
        self.metadata = metadata
        self.tool_call = tool_call
        self.id = id
        #: the stream's last chunk, as the source marked it (a wrapped LangChain model puts
        #: ``chunk_position="last"`` on its last chunk): then no closing chunk is added
        self.last = last

    def __repr__(self) -> str:
        return f"StreamPart({self.text!r}, {self.channel!r}, finish_reason={self.finish_reason!r})"


_new_part = object.__new__


def text_part(text: str, id: str | None) -> StreamPart:  # StreamPart's keyword
    """``StreamPart(text, TEXT, id=id)``, built without keyword plumbing: a parser's fast
    path builds one per streamed chunk (0.36 us against 0.85 us on the bench machine)."""
    part: StreamPart = _new_part(StreamPart)
    part.text = text
    part.channel = TEXT
    part.usage = None
    part.finish_reason = None
    part.metadata = None
    part.tool_call = None
    part.id = id
    part.last = False
    return part
