"""Chat messages and message chunks with the fields and arithmetic of LangChain's.

They are plain ``__slots__`` classes rather than pydantic models: one is built per streamed
chunk, on the hot path, and construction must cost about as much as a tuple.
Adding chunks (``a + b``) follows ``langchain_core.messages.ai.add_ai_message_chunks``:
content concatenates, dicts merge (strings concatenate, equal ids are kept), usage adds up,
provider ids win over ``lc_run-`` ids, and ``chunk_position`` is ``"last"`` if either is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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


def _best_id(ids: Iterable[str | None]) -> str | None:
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
            id=_best_id((self.id, other.id)),
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


_ROLE_CLASSES: dict[str, type[BaseMessage]] = {
    "system": SystemMessage,
    "user": HumanMessage,
    "human": HumanMessage,
    "assistant": AIMessage,
    "ai": AIMessage,
    "tool": ToolMessage,
}


def _tool_calls_from(value: Any) -> list[dict[str, Any]]:
    """Tool calls given with a message dict, in LangChain's shape (``name``, ``args``,
    ``id``) or OpenAI's (``id``, ``function: {name, arguments}``, arguments a JSON string)."""

    if not isinstance(value, Sequence) or isinstance(value, str):
        raise TypeError("tool_calls must be a list of calls")
    out = []
    for call in value:
        if not isinstance(call, Mapping):
            raise TypeError("a tool call must be a mapping")
        fn = call.get("function")
        if isinstance(fn, Mapping):
            raw = fn.get("arguments")
            args = parse_tool_args(raw)[0] if isinstance(raw, str) else (raw or {})
            name = fn.get("name")
        else:
            args, name = call.get("args") or {}, call.get("name")
        out.append({"name": name, "args": args, "id": call.get("id"), "type": "tool_call"})
    return out


def to_messages(value: str | Sequence[Any]) -> list[BaseMessage]:
    """Accept what LangChain's chat models accept: a string, or a sequence of messages,
    ``{"role", "content"}`` dicts, or ``(role, content)`` tuples. An assistant dict may carry
    ``tool_calls`` (its ``content`` may then be None); a ``tool`` dict its ``tool_call_id``."""
    if isinstance(value, str):
        return [HumanMessage(value)]
    out: list[BaseMessage] = []
    for item in value:
        if isinstance(item, BaseMessage):
            out.append(item)
            continue
        calls = None
        if isinstance(item, Mapping):
            role, content = item.get("role"), item.get("content")
            if item.get("tool_calls"):
                calls = _tool_calls_from(item["tool_calls"])
                content = "" if content is None else content
        elif isinstance(item, tuple | list) and len(item) == 2:
            role, content = item
        else:
            raise TypeError(f"cannot read a message from {type(item).__name__}")
        cls = _ROLE_CLASSES.get(str(role))
        if cls is None or not isinstance(content, str):
            raise TypeError(f"unsupported message role or content: role={role!r}")
        if cls is AIMessage and calls:
            out.append(AIMessage(content, tool_calls=calls))
        elif cls is ToolMessage:
            call_id = item.get("tool_call_id") if isinstance(item, Mapping) else None
            out.append(ToolMessage(content, tool_call_id=str(call_id or "")))
        else:
            out.append(cls(content))
    return out


def to_prompt(value: str | Sequence[Any]) -> str:
    """A text LLM's prompt. A message list becomes LangChain's buffer string
    (``Human: ...\\nAI: ...``), as ``BaseLLM`` does."""
    if isinstance(value, str):
        return value
    prefix = {"system": "System", "human": "Human", "ai": "AI"}
    return "\n".join(f"{prefix.get(m.type, m.role)}: {m.content}" for m in to_messages(value))


def arguments_json(args: Any) -> str:
    """A call's arguments as the JSON string OpenAI takes back; arguments that never were
    JSON (``{"__raw__": ...}``) go back as the model sent them."""
    import json

    if isinstance(args, dict) and set(args) == {"__raw__"} and isinstance(args["__raw__"], str):
        return args["__raw__"]
    return json.dumps(args or {}, ensure_ascii=False)


def message_dicts(
    messages: Sequence[BaseMessage],
    system: str | None = None,
    *,
    tool_calls: Literal["openai", "ollama"] | None = None,
) -> list[dict[str, Any]]:
    """``{"role", "content"}`` dicts: the form every chat API takes. ``system`` (the
    configured system prompt) goes first unless the conversation brings its own.

    ``tool_calls`` says how an assistant message's tool calls are sent back in a follow-up
    turn (without it they are left out, as before): ``"openai"`` (Chat Completions: ``{"id",
    "type": "function", "function": {"name", "arguments"}}``, arguments a JSON string; a tool
    result keeps its ``tool_call_id``) or ``"ollama"`` (``{"function": {"name",
    "arguments"}}``, arguments an object)."""

    out: list[dict[str, Any]] = []
    for m in messages:
        d: dict[str, Any] = {"role": m.role, "content": m.content}
        if tool_calls is not None:
            calls = m.tool_calls if isinstance(m, AIMessage) else None
            if calls:
                if tool_calls == "openai":
                    d["tool_calls"] = [
                        {
                            "id": c.get("id"),
                            "type": "function",
                            "function": {
                                "name": c.get("name"),
                                "arguments": arguments_json(c.get("args")),
                            },
                        }
                        for c in calls
                    ]
                else:
                    d["tool_calls"] = [
                        {"function": {"name": c.get("name"), "arguments": c.get("args") or {}}}
                        for c in calls
                    ]
            if isinstance(m, ToolMessage) and tool_calls == "openai":
                d["tool_call_id"] = m.tool_call_id
        out.append(d)
    if system and not any(m["role"] == "system" for m in out):
        out.insert(0, {"role": "system", "content": system})
    return out


class TextAccumulator:
    """Text arriving in many small pieces, held as joined blocks: memory is the text's
    size, not one string object per chunk (a 1,000,000-chunk stream stays small), and
    ``text()`` is linear."""

    __slots__ = ("blocks", "recent")

    BLOCK = 1024

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.recent: list[str] = []

    def add(self, piece: str) -> None:
        recent = self.recent
        recent.append(piece)
        if len(recent) >= self.BLOCK:
            self.blocks.append("".join(recent))
            recent.clear()

    def text(self) -> str:
        return "".join(self.blocks) + "".join(self.recent)


#: ``additional_kwargs`` strings that arrive in pieces, one per chunk (reasoning, refusal):
#: summed in a ``TextAccumulator`` rather than by concatenating the sum so far.
STREAMED_KWARGS = frozenset({"reasoning_content", "refusal"})


class ChunkAccumulator:
    """The running sum of message chunks, equal to ``chunks[0] + chunks[1] + ...`` but
    linear: the text goes to a ``TextAccumulator``, and only the chunks that carry metadata
    pay for a merge. Nothing is kept per chunk, and no chunk's cost grows with what came
    before: reasoning and refusal pieces go to accumulators of their own, a tool call's
    argument pieces to a list per call (joined by ``result``)."""

    __slots__ = (
        "additional",
        "args",
        "by_index",
        "count",
        "fed",
        "ids",
        "last",
        "response",
        "streamed",
        "text",
        "tools",
        "usage",
    )

    def __init__(self, text: TextAccumulator | None = None) -> None:
        #: ``text`` given: the caller adds every chunk's content to it (it sums the answer
        #: anyway), so ``add`` does not add it a second time
        self.fed = text is not None
        self.text = text if text is not None else TextAccumulator()
        self.additional: dict[str, Any] = {}
        self.streamed: dict[str, TextAccumulator] = {}
        self.response: dict[str, Any] = {}
        self.tools: list[dict[str, Any]] = []
        #: tool-call index -> its position in ``tools``; position -> later argument pieces
        self.by_index: dict[Any, int] = {}
        self.args: dict[int, list[str]] = {}
        self.usage: UsageMetadata | None = None
        self.ids: str | None = None
        self.last = False
        self.count = 0

    def add(self, c: AIMessageChunk) -> None:
        self.count += 1
        if not self.fed:
            self.text.add(c.content)
        extra = c.additional_kwargs
        if extra:
            rest = None
            for key, value in extra.items():
                if key in STREAMED_KWARGS and type(value) is str:
                    acc = self.streamed.get(key)
                    if acc is None:
                        acc = self.streamed[key] = TextAccumulator()
                    acc.add(value)
                else:
                    if rest is None:
                        rest = {}
                    rest[key] = value
            if rest:
                self.additional = merge_dicts(self.additional, rest)
        if c.response_metadata:
            self.response = merge_dicts(self.response, c.response_metadata)
        if c.tool_call_chunks:
            self._add_tool_chunks(c.tool_call_chunks)
        if c.usage_metadata is not None:
            self.usage = add_usage(self.usage, c.usage_metadata)
        if c.chunk_position == "last":
            self.last = True
        if c.id != self.ids:
            self.ids = _best_id((self.ids, c.id))

    def _add_tool_chunks(self, chunks: list[dict[str, Any]]) -> None:
        """``merge_tool_call_chunks``, in constant time per delta."""
        tools, by_index = self.tools, self.by_index
        for chunk in chunks:
            index = chunk.get("index")
            pos = by_index.get(index) if index is not None else None
            if pos is None:
                if index is not None:
                    by_index[index] = len(tools)
                tools.append(dict(chunk))
                continue
            target = tools[pos]
            for key in ("name", "id"):
                if chunk.get(key) and not target.get(key):
                    target[key] = chunk[key]
            if chunk.get("args"):
                self.args.setdefault(pos, []).append(chunk["args"])

    def tool_call_chunks(self) -> list[dict[str, Any]]:
        """The merged tool-call chunks so far (fresh dicts: the sum is not consumed)."""
        out = [dict(t) for t in self.tools]
        for pos, pieces in self.args.items():
            out[pos]["args"] = (out[pos].get("args") or "") + "".join(pieces)
        return out

    def additional_kwargs(self) -> dict[str, Any]:
        """The merged ``additional_kwargs`` so far (reasoning and refusal joined)."""
        if not self.streamed:
            return self.additional
        out = dict(self.additional)
        for key, acc in self.streamed.items():
            before = out.get(key)
            out[key] = (before if isinstance(before, str) else "") + acc.text()
        return out

    def result(self) -> AIMessageChunk | None:
        if not self.count:
            return None
        return AIMessageChunk(
            self.text.text(),
            additional_kwargs=self.additional_kwargs(),
            response_metadata=self.response,
            tool_call_chunks=self.tool_call_chunks(),
            usage_metadata=self.usage,
            id=self.ids,
            chunk_position="last" if self.last else None,
        )


def sum_chunks(chunks: Iterable[AIMessageChunk]) -> AIMessageChunk | None:
    """``chunks[0] + chunks[1] + ...`` in linear time."""
    total = ChunkAccumulator()
    for c in chunks:
        total.add(c)
    return total.result()
