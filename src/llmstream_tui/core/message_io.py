"""Messages in and out: what a caller may pass as input (a string, role/content dicts, tuples,
our message objects or LangChain's, read without importing LangChain) as message objects,
and messages as the role/content dicts OpenAI-style APIs take, tool calls included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from .messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    parse_tool_args,
)

__all__ = [
    "ForeignMessage",
    "PromptValueLike",
    "arguments_json",
    "content_text",
    "message_dicts",
    "to_messages",
    "to_prompt",
]


@runtime_checkable
class ForeignMessage(Protocol):
    """A message object that is not ours: langchain-core's ``HumanMessage``, ``AIMessage``,
    ``ToolMessage``... (and their chunks), read by their public fields so LangChain never
    has to be installed for us to accept them. ``type`` is LangChain's discriminator
    (``"human"``, ``"ai"``, ``"system"``, ``"tool"``, ``"chat"``, or a chunk's class name);
    ``content`` a string or a list of content blocks."""

    @property
    def type(self) -> str: ...

    @property
    def content(self) -> object: ...


@runtime_checkable
class PromptValueLike(Protocol):
    """langchain-core's ``PromptValue`` (``ChatPromptValue``, ``StringPromptValue``): what a
    prompt template outputs, and what LangChain models take as input besides strings and
    message lists."""

    def to_string(self) -> str: ...

    def to_messages(self) -> Sequence[object]: ...


_ROLE_CLASSES: dict[str, type[BaseMessage]] = {
    "system": SystemMessage,
    "user": HumanMessage,
    "human": HumanMessage,
    "assistant": AIMessage,
    "ai": AIMessage,
    "tool": ToolMessage,
}


#: LangChain's ``type`` of a message (and of its chunk class) -> our role.
_FOREIGN_ROLES: dict[str, str] = {
    "human": "user",
    "HumanMessageChunk": "user",
    "ai": "assistant",
    "AIMessageChunk": "assistant",
    "system": "system",
    "SystemMessageChunk": "system",
    "tool": "tool",
    "ToolMessageChunk": "tool",
}
#: Content blocks that carry no answer text and are kept elsewhere on a message (tool calls
#: in ``tool_calls``) or are the model's own working (reasoning): left out of ``content``,
#: as LangChain's ``BaseMessage.text`` leaves them out.
_NON_TEXT_BLOCKS = frozenset(
    {
        "reasoning",
        "thinking",
        "redacted_thinking",
        "tool_use",
        "tool_call",
        "tool_call_chunk",
        "invalid_tool_call",
        "function_call",
        "server_tool_call",
        "server_tool_call_chunk",
        "server_tool_result",
        "server_tool_use",
    }
)


def content_text(content: object) -> str:
    """A message's content as our messages hold it: a string as it is; LangChain's list of
    content blocks as its text blocks (and bare strings) joined, as ``BaseMessage.text``
    joins them. Our backends send text only, so a media block (image, audio, file...)
    raises ``TypeError`` rather than being dropped without a word."""
    if isinstance(content, str):
        return content
    if not isinstance(content, Sequence):
        raise TypeError(f"message content must be a string or content blocks, not {content!r}")
    pieces: list[str] = []
    for block in content:
        if isinstance(block, str):
            pieces.append(block)
            continue
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind == "text" and isinstance(block.get("text"), str):
            pieces.append(block["text"])
        elif kind not in _NON_TEXT_BLOCKS:
            raise TypeError(f"content block of type {kind!r} is not supported (text only)")
    return "".join(pieces)


def _from_foreign(item: ForeignMessage) -> BaseMessage:
    """One of our messages from LangChain's (or any object with its fields)."""
    kind = item.type
    role = _FOREIGN_ROLES.get(kind)
    if role is None and kind in ("chat", "ChatMessageChunk"):
        role = str(getattr(item, "role", ""))  # a ChatMessage names its role itself
    cls = _ROLE_CLASSES.get(role or "")
    if cls is None:
        raise TypeError(f"cannot read a message of type {kind!r}")
    content = content_text(item.content)
    # ids and metadata travel with the message: an answer's response_metadata carries what
    # a provider needs back in the next turn (Anthropic's signed thinking blocks)
    kw: dict[str, Any] = {
        "id": getattr(item, "id", None),
        "additional_kwargs": dict(getattr(item, "additional_kwargs", None) or {}),
        "response_metadata": dict(getattr(item, "response_metadata", None) or {}),
    }
    if cls is AIMessage:
        calls = getattr(item, "tool_calls", None)
        return AIMessage(content, tool_calls=_tool_calls_from(calls) if calls else None, **kw)
    if cls is ToolMessage:
        return ToolMessage(content, tool_call_id=str(getattr(item, "tool_call_id", "")), **kw)
    return cls(content, **kw)


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


def to_messages(value: str | Sequence[Any] | PromptValueLike) -> list[BaseMessage]:
    """Accept what LangChain's chat models accept: a string, a prompt value (a prompt
    template's output), or a sequence of messages (ours or LangChain's), ``{"role",
    "content"}`` dicts, or ``(role, content)`` tuples. An assistant dict may carry
    ``tool_calls`` (its ``content`` may then be None); a ``tool`` dict its ``tool_call_id``.
    Content given as LangChain's content blocks becomes its text (``content_text``)."""
    if isinstance(value, str):
        return [HumanMessage(value)]
    if isinstance(value, PromptValueLike):
        value = value.to_messages()
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
        elif isinstance(item, ForeignMessage):
            out.append(_from_foreign(item))
            continue
        else:
            raise TypeError(f"cannot read a message from {type(item).__name__}")
        cls = _ROLE_CLASSES.get(str(role))
        if cls is None or not isinstance(content, str | list):
            raise TypeError(f"unsupported message role or content: role={role!r}")
        content = content_text(content)
        if cls is AIMessage and calls:
            out.append(AIMessage(content, tool_calls=calls))
        elif cls is ToolMessage:
            call_id = item.get("tool_call_id") if isinstance(item, Mapping) else None
            out.append(ToolMessage(content, tool_call_id=str(call_id or "")))
        else:
            out.append(cls(content))
    return out


#: LangChain's ``get_buffer_string`` prefixes, by our message ``type``.
_PROMPT_PREFIXES = {"system": "System", "human": "Human", "ai": "AI", "tool": "Tool"}


def to_prompt(value: str | Sequence[Any] | PromptValueLike) -> str:
    """A text LLM's prompt. A prompt value gives its own ``to_string()``; a message list
    becomes LangChain's buffer string (``Human: ...\\nAI: ...``, an answer's tool calls
    after its text), as ``BaseLLM`` does."""
    if isinstance(value, str):
        return value
    if isinstance(value, PromptValueLike):
        return value.to_string()
    if not isinstance(value, Sequence):
        raise TypeError(f"a text LLM takes a string, not {type(value).__name__}")
    lines = []
    for m in to_messages(value):
        line = f"{_PROMPT_PREFIXES.get(m.type, m.role)}: {m.content}"
        if isinstance(m, AIMessage) and m.tool_calls:
            line += str(m.tool_calls)
        lines.append(line)
    return "\n".join(lines)


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
