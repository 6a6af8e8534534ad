"""Chat messages and message chunks with the fields and arithmetic of LangChain's.

They are plain ``__slots__`` classes rather than pydantic models: one is built per streamed
chunk, on the hot path, and construction must cost about as much as a tuple.
Adding chunks (``a + b``) follows ``langchain_core.messages.ai.add_ai_message_chunks``:
content concatenates, dicts merge (strings concatenate, equal ids are kept), usage adds up,
provider ids win over ``lc_run-`` ids, and ``chunk_position`` is ``"last"`` if either is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypedDict

LC_ID_PREFIX = "lc_run-"
LC_AUTO_PREFIX = "lc_"


class UsageMetadata(TypedDict, total=False):
    """Token counts, as LangChain's ``UsageMetadata``: the three totals always present."""

    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_token_details: dict[str, int]
    output_token_details: dict[str, int]


def add_usage(left: UsageMetadata | None, right: UsageMetadata | None) -> UsageMetadata | None:
    """Sum two usage records key by key (nested detail dicts too)."""
    if left is None:
        return right
    if right is None:
        return left
    out: dict[str, Any] = dict(left)
    for key, value in right.items():
        if isinstance(value, dict):
            inner = dict(out.get(key) or {})
            for k, v in value.items():
                inner[k] = inner.get(k, 0) + v
            out[key] = inner
        else:
            out[key] = out.get(key, 0) + value
    return out  # type: ignore[return-value]  # built from two UsageMetadata


def merge_dicts(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    """LangChain's ``merge_dicts`` rule: absent or None takes the right value, strings
    concatenate except equal ``id``/``model_provider`` values, dicts merge, lists extend."""
    merged = dict(left)
    for key, rv in right.items():
        lv = merged.get(key)
        if key not in merged or (rv is not None and lv is None):
            merged[key] = rv
        elif rv is None:
            continue
        elif isinstance(lv, str) and isinstance(rv, str):
            if (
                key
                in {
                    "id",
                    "output_version",
                    "model_provider",
                    "finish_reason",
                    "model_name",
                    "stop_reason",
                }
                and lv == rv
            ):
                continue
            merged[key] = lv + rv
        elif isinstance(lv, dict) and isinstance(rv, dict):
            merged[key] = merge_dicts(lv, rv)
        elif isinstance(lv, list) and isinstance(rv, list):
            merged[key] = lv + rv
        elif lv == rv:
            continue
        else:
            merged[key] = rv
    return merged


def merge_tool_call_chunks(
    left: list[dict[str, Any]], right: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Merge tool-call deltas by ``index``: name and id arrive once, ``args`` is a JSON
    string that arrives in pieces and concatenates."""
    if not right:
        return left
    merged = [dict(c) for c in left]
    for chunk in right:
        index = chunk.get("index")
        target = next((m for m in merged if index is not None and m.get("index") == index), None)
        if target is None:
            merged.append(dict(chunk))
            continue
        for key in ("name", "id"):
            if chunk.get(key) and not target.get(key):
                target[key] = chunk[key]
        if chunk.get("args"):
            target["args"] = (target.get("args") or "") + chunk["args"]
    return merged


def best_id(ids: Iterable[str | None]) -> str | None:
    best_rank, chosen = -1, None
    for id_ in ids:
        if not id_:
            continue
        if not id_.startswith(LC_ID_PREFIX) and not id_.startswith(LC_AUTO_PREFIX):
            return id_
        rank = 1 if id_.startswith(LC_ID_PREFIX) else 0
        if rank > best_rank:
            best_rank, chosen = rank, id_
    return chosen


class BaseMessage:
    """A message in a conversation. ``role`` is one of system, user (human), assistant (ai)."""

    __slots__ = ("additional_kwargs", "content", "id", "response_metadata")
    type: str = "base"
    role: str = ""

    def __init__(
        self,
        content: str = "",
        *,
        id: str | None = None,  # LangChain's field name
        additional_kwargs: dict[str, Any] | None = None,
        response_metadata: dict[str, Any] | None = None,
    ) -> None:
        self.content = content
        self.id = id
        self.additional_kwargs = additional_kwargs if additional_kwargs is not None else {}
        self.response_metadata = response_metadata if response_metadata is not None else {}

    @property
    def text(self) -> str:
        return self.content

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, the shape ``--events`` prints and recordings store."""
        out: dict[str, Any] = {"type": type(self).__name__, "content": self.content}
        for name in ("id", "additional_kwargs", "response_metadata"):
            value = getattr(self, name)
            if value:
                out[name] = value
        return out

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, BaseMessage)
            and type(self) is type(other)
            and self.to_dict() == other.to_dict()
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if k != "type")
        return f"{type(self).__name__}({fields})"


class SystemMessage(BaseMessage):
    __slots__ = ()
    type = "system"
    role = "system"


class HumanMessage(BaseMessage):
    __slots__ = ()
    type = "human"
    role = "user"


class AIMessage(BaseMessage):
    """A whole answer: what ``invoke`` returns for a chat model. ``tool_calls`` are
    LangChain's ``{"name", "args", "id", "type": "tool_call"}``."""

    __slots__ = ("tool_calls", "usage_metadata")
    type = "ai"
    role = "assistant"

    def __init__(
        self,
        content: str = "",
        *,
        usage_metadata: UsageMetadata | None = None,
        tool_calls: list[dict[str, Any]] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(content, **kw)
        self.usage_metadata = usage_metadata
        self.tool_calls = tool_calls if tool_calls is not None else []

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.usage_metadata:
            out["usage_metadata"] = dict(self.usage_metadata)
        if self.tool_calls:
            out["tool_calls"] = self.tool_calls
        return out


class AIMessageChunk(AIMessage):
    """One streamed piece of an answer. ``chunk_position`` is ``"last"`` on the final one."""

    __slots__ = ("chunk_position", "tool_call_chunks")
    type = "AIMessageChunk"

    def __init__(
        self,
        content: str = "",
        *,
        tool_call_chunks: list[dict[str, Any]] | None = None,
        chunk_position: Literal["last"] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(content, **kw)
        self.tool_call_chunks = tool_call_chunks if tool_call_chunks is not None else []
        self.chunk_position = chunk_position

    @classmethod
    def plain(cls, content: str, id: str | None) -> AIMessageChunk:
        """A text-only chunk, built without the keyword plumbing of ``__init__``: the hot
        path builds one per streamed chunk."""
        chunk = object.__new__(cls)
        chunk.content = content
        chunk.id = id
        chunk.additional_kwargs = {}
        chunk.response_metadata = {}
        chunk.usage_metadata = None
        chunk.tool_calls = []
        chunk.tool_call_chunks = []
        chunk.chunk_position = None
        return chunk

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.tool_call_chunks:
            out["tool_call_chunks"] = self.tool_call_chunks
        if self.chunk_position:
            out["chunk_position"] = self.chunk_position
        return out

    def __add__(self, other: AIMessageChunk) -> AIMessageChunk:
        if not isinstance(other, AIMessageChunk):
            return NotImplemented
        return AIMessageChunk(
            self.content + other.content,
            additional_kwargs=merge_dicts(self.additional_kwargs, other.additional_kwargs),
            response_metadata=merge_dicts(self.response_metadata, other.response_metadata),
            tool_call_chunks=merge_tool_call_chunks(self.tool_call_chunks, other.tool_call_chunks),
            usage_metadata=add_usage(self.usage_metadata, other.usage_metadata),
            id=best_id((self.id, other.id)),
            chunk_position="last"
            if "last" in (self.chunk_position, other.chunk_position)
            else None,
        )

    def to_message(self) -> AIMessage:
        """The whole answer this (summed) chunk stands for; tool-call args parsed when valid
        JSON, else ``{"__raw__": the string}`` (``parse_tool_args``)."""
        calls = [
            {
                "name": c.get("name"),
                "args": parse_tool_args(c.get("args"))[0],
                "id": c.get("id"),
                "type": "tool_call",
            }
            for c in self.tool_call_chunks
        ]
        return AIMessage(
            self.content,
            id=self.id,
            additional_kwargs=self.additional_kwargs,
            response_metadata=self.response_metadata,
            usage_metadata=self.usage_metadata,
            tool_calls=calls,
        )


class ToolMessage(BaseMessage):
    """A tool's result, answering the assistant's call ``tool_call_id`` (LangChain's
    ``ToolMessage``): what a conversation sends back after a tool call."""

    __slots__ = ("tool_call_id",)
    type = "tool"
    role = "tool"

    def __init__(self, content: str = "", *, tool_call_id: str = "", **kw: Any) -> None:
        super().__init__(content, **kw)
        self.tool_call_id = tool_call_id

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["tool_call_id"] = self.tool_call_id
        return out


def parse_tool_args(raw: str | None) -> tuple[Any, bool]:
    """(arguments, whether they were valid JSON) of a tool call's argument string: the
    parsed value (empty means ``{}``), or ``{"__raw__": raw}`` when it is not JSON (a stream
    cut short, a model's malformed call), so nothing the model sent is lost."""
    import json

    if not raw:
        return {}, True
    try:
        return json.loads(raw), True
    except ValueError:
        return {"__raw__": raw}, False
