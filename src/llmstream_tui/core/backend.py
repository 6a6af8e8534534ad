"""The contract a backend implements, apart from the Runnable front callers see.

A backend subclasses ``LanguageModel`` (``core.runnable``) and implements the async generator
``_astream(request, ctx)``, yielding ``StreamPart``s; optionally ``_agenerate(request, ctx)``
(a non-streaming call) and ``aclose()``. It is given:

- ``ModelRequest``: what to answer (``prompt`` for a text LLM, ``messages`` for a chat model),
  the stop sequences and the per-call overrides of its configured parameters;
- ``RunContext``: the run id and the timeline to mark the first byte on.

Its ``Flavor`` says which of the two LangChain shapes the front gives it: ``"llm"`` (string in,
``str`` out) or ``"chat"`` (messages in, ``AIMessageChunk``/``AIMessage`` out).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing as _aclosing
from typing import Any, Literal, TypedDict, TypeVar, cast

from .messages import BaseMessage
from .metrics import StreamTimeline

__all__ = [
    "Flavor",
    "ModelInput",
    "ModelRequest",
    "RunContext",
    "RunnableConfig",
    "aclosing",
    "iterate_list",
    "run_uuid",
]

Flavor = Literal["llm", "chat"]

#: What a model takes: a string, or (chat models) messages, ``{"role", "content"}`` dicts or
#: ``(role, content)`` tuples.
ModelInput = str | Sequence[Any]

_T = TypeVar("_T")


class RunnableConfig(TypedDict, total=False):
    """LangChain's config keys, plus ``timeline``: a ``StreamTimeline`` the run records its
    timestamps into, so callers get TTFB/TTFT/gaps without wrapping the iterator."""

    tags: list[str]
    metadata: dict[str, Any]
    run_name: str
    run_id: uuid.UUID | str
    max_concurrency: int | None
    callbacks: Any
    configurable: dict[str, Any]
    timeline: StreamTimeline


class ModelRequest:
    """What a backend is asked for: the prompt (text LLMs) or messages (chat models),
    stop sequences and per-call overrides of the configured parameters."""

    __slots__ = ("messages", "overrides", "prompt", "stop")

    def __init__(
        self,
        prompt: str,
        messages: list[BaseMessage],
        stop: list[str] | None,
        overrides: dict[str, Any],
    ) -> None:
        self.prompt = prompt
        self.messages = messages
        self.stop = stop
        self.overrides = overrides


class RunContext:
    """Per-run state a backend may use: the run id and the timeline to mark first byte on."""

    __slots__ = ("run_id", "timeline")

    def __init__(self, run_id: uuid.UUID, timeline: StreamTimeline | None) -> None:
        self.run_id = run_id
        self.timeline = timeline

    def first_byte(self) -> None:
        if self.timeline is not None:
            self.timeline.first_byte()


def run_uuid(value: uuid.UUID | str | None) -> uuid.UUID:
    """The run id a config asks for (a UUID or its string), or a new one."""
    if value is None:
        return uuid.uuid4()
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def aclosing(iterator: AsyncIterator[_T]) -> _aclosing[AsyncGenerator[_T, None]]:
    """``contextlib.aclosing`` for what is annotated as an iterator but is a generator."""
    return _aclosing(cast(AsyncGenerator[_T, None], iterator))


async def iterate_list(items: list[_T]) -> AsyncIterator[_T]:
    """A list as an async iterator: a non-streaming answer read like a stream."""
    for item in items:
        yield item
