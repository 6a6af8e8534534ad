"""What ``astream_events`` yields (``StreamEvent``) and which events it lets through
(``EventFilter``, as LangChain's ``_RootEventFilter`` combines it).

Includes are OR-ed (an event passes if its name, type or any tag is included; with no
includes everything passes), then excludes are AND-ed and win.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypedDict

from typing_extensions import TypeVar

from .messages import AIMessageChunk

__all__ = ["EventData", "EventFilter", "StreamEvent", "compact_json", "summarise_output"]

#: What a stream event's ``data.chunk`` holds: ``AIMessageChunk`` for a chat model, ``str``
#: for a text LLM (the default: either).
ChunkT = TypeVar("ChunkT", default=AIMessageChunk | str)


class EventData(TypedDict, Generic[ChunkT], total=False):
    """An event's payload: ``input`` on ``on_*_start``, ``chunk`` on ``on_*_stream``,
    ``output`` on ``on_*_end`` (a message for a chat model; for a text LLM the text in v1,
    the ``generations`` dict, ``core.outputs.LLMResult``, in v2)."""

    input: object
    chunk: ChunkT
    output: object


class StreamEvent(TypedDict, Generic[ChunkT]):
    """One ``astream_events`` event, the keys langchain-core's ``StandardStreamEvent`` has.

    ``event`` is ``on_chat_model_start|stream|end`` or ``on_llm_start|stream|end``;
    ``run_id`` the run's UUID as a string; ``parent_ids`` always empty (the model is the
    root run); ``metadata`` has LangSmith's ``ls_*`` keys in v2.
    """

    event: str
    name: str
    run_id: str
    parent_ids: list[str]
    tags: list[str]
    metadata: dict[str, Any]
    data: EventData[ChunkT]


@dataclass(frozen=True, slots=True)
class EventFilter:
    include_names: Sequence[str] | None = None
    include_types: Sequence[str] | None = None
    include_tags: Sequence[str] | None = None
    exclude_names: Sequence[str] | None = None
    exclude_types: Sequence[str] | None = None
    exclude_tags: Sequence[str] | None = None

    def admits(self, name: str, run_type: str, tags: Sequence[str]) -> bool:
        """Whether an event of run ``name``, type ``run_type`` (``llm``/``chat_model``) and
        ``tags`` is emitted."""
        if self.include_names is None and self.include_types is None and self.include_tags is None:
            include = True
        else:
            include = False
            if self.include_names is not None:
                include = include or name in self.include_names
            if self.include_types is not None:
                include = include or run_type in self.include_types
            if self.include_tags is not None:
                include = include or any(t in self.include_tags for t in tags)
        if self.exclude_names is not None:
            include = include and name not in self.exclude_names
        if self.exclude_types is not None:
            include = include and run_type not in self.exclude_types
        if self.exclude_tags is not None:
            include = include and all(t not in self.exclude_tags for t in tags)
        return include


def compact_json(value: Any) -> str:
    """A LangChain application's output that is neither text nor a message (a graph's
    state, a dict of branches) as one compact JSON text: messages inside as their content,
    anything else JSON cannot hold as its ``str``."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_leaf)
    except ValueError:  # a circular structure: its str is all that can be shown
        return str(value)


def _json_leaf(value: Any) -> Any:
    content = getattr(value, "content", None)
    return content if content is not None else str(value)


def summarise_output(final: Any) -> tuple[str, str | None, dict[str, Any] | None]:
    """(text, finish reason, usage) from an ``on_*_end`` event's output (a string, a text
    LLM's ``generations`` dict, or a message)."""
    if final is None:
        return "", None, None
    if isinstance(final, str):
        return final, None, None
    if isinstance(final, dict) and final.get("generations"):
        gen = final["generations"][0][0]
        info = gen.get("generation_info") or {}
        usage = info.get("usage")
        return gen["text"], info.get("finish_reason"), dict(usage) if usage else None
    content = getattr(final, "content", None)
    if not isinstance(content, str):
        # a LangChain application's own output (a graph's state, a dict of branches): its
        # JSON, as the pane and the CLI show its chunks
        return compact_json(final), None, None
    usage = getattr(final, "usage_metadata", None)
    finish = (getattr(final, "response_metadata", None) or {}).get("finish_reason")
    return content, finish, dict(usage) if usage else None
