"""Messages in and out: what a caller may pass as input (a string, role/content dicts, tuples,
our message objects or LangChain's, read without importing LangChain) as message objects,
and messages as the role/content dicts OpenAI-style APIs take, tool calls included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from .messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    parse_tool_args,
)

__all__ = ["arguments_json", "message_dicts", "to_messages", "to_prompt"]


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
