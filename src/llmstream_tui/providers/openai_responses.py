"""``openai-responses``: OpenAI's Responses API (``POST {base_url}/responses``).

A pure parser (:class:`OpenAIResponsesParser`, one decoded event dict in, parts out) and a
thin adapter, as in ``openai.py``.

Events understood: ``response.output_text.delta`` (TEXT), ``response.refusal.delta``
(REFUSAL), ``response.reasoning_summary_text.delta`` and ``response.reasoning_text.delta``
(REASONING), a ``function_call`` output item and its ``response.function_call_arguments.delta``
(TOOL_CALL, indexed by ``output_index``), a finished ``reasoning`` output item (kept whole in
``response_metadata["reasoning_items"]``, sent back with the calls it preceded),
``response.created`` (the response id), and the
terminal events: ``response.completed`` (usage; stop reason ``completed``),
``response.incomplete`` (usage; the stop reason is ``incomplete_details.reason``, e.g.
``max_output_tokens``, like Chat's ``length``: an answer cut short, not an error),
``response.failed`` and ``error`` (UpstreamError). Other events (``*.done``, ``*.added``,
annotations, ``in_progress``, other ``output_item.done``...) carry nothing new and are
ignored. The bytes ending before a
terminal event is StreamTruncated.

The request's ``input`` is the conversation as Responses input items (``response_input``):
messages as ``{"role", "content"}``, an assistant's tool calls as ``function_call`` items
after its text, and tool results as ``function_call_output`` items, so a follow-up turn after
a tool call carries the call and its result.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal

from ..core.message_io import arguments_json
from ..core.messages import AIMessage, BaseMessage, ToolMessage
from ..core.parts import META, REASONING, REFUSAL, TEXT, StreamPart
from ..core.runnable import ModelRequest, RunContext
from ..wire.jsonload import json_loads as _loads
from ..wire.sse import SSEEvent
from .http import HTTPModel
from .http_errors import ErrorBuilder, PlainErrors
from .openai_shapes import openai_usage, tool_call_part
from .params import ParamMap, map_params
from .spec import ProviderSpec
from .sse_pump import pump_sse

_TEXT_DELTA = "response.output_text.delta"
_TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})


class OpenAIResponsesParser:
    """Responses API stream events to parts."""

    __slots__ = ("_id", "done", "errors")

    def __init__(self, errors: ErrorBuilder | None = None) -> None:
        self.errors: ErrorBuilder = errors if errors is not None else PlainErrors()
        self.done = False
        self._id: str | None = None

    def feed(self, event: SSEEvent) -> list[StreamPart]:
        """One SSE event (its ``event:`` name is repeated in the JSON's ``type``)."""
        data = event.data
        try:
            obj = _loads(data)
        except ValueError:
            raise self.errors.protocol_error(f"malformed JSON in event: {data[:80]!r}") from None
        if type(obj) is not dict:
            raise self.errors.protocol_error(f"unexpected event: {data[:80]!r}")
        return self.parse(obj, event.event)

    def parse(self, obj: dict[str, Any], event: str = "message") -> list[StreamPart]:
        kind = obj.get("type") or event
        if kind == _TEXT_DELTA:
            return [StreamPart(obj.get("delta") or "", TEXT, id=self._id)]
        if kind == "response.refusal.delta":
            return [StreamPart(obj.get("delta") or "", REFUSAL, id=self._id)]
        if kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            return [StreamPart(obj.get("delta") or "", REASONING, id=self._id)]
        if kind == "response.function_call_arguments.delta":
            delta = obj.get("delta") or ""
            return [tool_call_part(None, delta, None, obj.get("output_index"), self._id)]
        if kind == "response.output_item.added":
            item = obj.get("item") or {}
            if item.get("type") == "function_call":
                return [_function_call(item, obj.get("output_index"), self._id)]
            return []
        if kind == "response.output_item.done":
            item = obj.get("item") or {}
            if item.get("type") == "reasoning":
                return [_reasoning_item(item, self._id)]
            return []
        if kind == "response.created":
            response = obj.get("response") or {}
            self._id = response.get("id") or None
            return [StreamPart("", META, id=self._id)]
        if kind in _TERMINAL:
            return self._terminal(kind, obj.get("response") or {})
        if kind == "error":
            raise self.errors.upstream_error(obj)
        return []

    def _terminal(self, kind: str, response: dict[str, Any]) -> list[StreamPart]:
        self.done = True
        if kind == "response.failed":
            raise self.errors.upstream_error(response, "the response failed")
        return terminal_parts(response, self._id)

    def finish(self) -> None:
        """At the end of the bytes: StreamTruncated unless a terminal event came."""
        if not self.done:
            raise self.errors.truncated("response.completed")


def terminal_parts(response: dict[str, Any], id_: str | None) -> list[StreamPart]:
    """Stop reason and usage of a finished response object."""
    status = response.get("status") or "completed"
    finish = status
    if status == "incomplete":
        details = response.get("incomplete_details") or {}
        finish = details.get("reason") or "incomplete"
    meta = {"model_name": response["model"], "status": status} if response.get("model") else None
    usage = response.get("usage")
    return [
        StreamPart(
            "",
            META,
            finish_reason=finish,
            metadata=meta,
            id=response.get("id") or id_,
            usage=openai_usage(usage) if isinstance(usage, dict) else None,
        )
    ]


def response_parts(data: Any, errors: ErrorBuilder | None = None) -> list[StreamPart]:
    """A whole ``response`` object (``stream = false``) as parts."""
    errors = errors if errors is not None else PlainErrors()
    if not isinstance(data, dict):
        raise errors.protocol_error("answer is not a JSON object")
    if data.get("status") == "failed" or (data.get("error") and not data.get("output")):
        raise errors.upstream_error(data, "the response failed")
    id_ = data.get("id")
    parts: list[StreamPart] = []
    for index, item in enumerate(data.get("output") or []):
        kind = item.get("type")
        if kind == "message":
            for content in item.get("content") or []:
                if content.get("type") == "output_text" and content.get("text"):
                    parts.append(StreamPart(content["text"], TEXT, id=id_))
                elif content.get("type") == "refusal" and content.get("refusal"):
                    parts.append(StreamPart(content["refusal"], REFUSAL, id=id_))
        elif kind == "reasoning":
            for summary in item.get("summary") or []:
                if summary.get("text"):
                    parts.append(StreamPart(summary["text"], REASONING, id=id_))
            parts.append(_reasoning_item(item, id_))
        elif kind == "function_call":
            parts.append(_function_call(item, index, id_))
    return parts + terminal_parts(data, id_)


def _reasoning_item(item: dict[str, Any], id_: str | None) -> StreamPart:
    """A finished ``reasoning`` output item, kept whole in ``response_metadata
    ["reasoning_items"]`` (a list the chunk sum extends): a reasoning model's function calls
    must go back with the reasoning items before them, ``encrypted_content`` included when
    the request asked for it."""
    return StreamPart("", META, metadata={"reasoning_items": [item]}, id=id_)


def _function_call(item: dict[str, Any], index: int | None, id_: str | None) -> StreamPart:
    """A ``function_call`` output item (name, call id, arguments so far) as a TOOL_CALL part."""
    return tool_call_part(
        item.get("name"), item.get("arguments") or "", item.get("call_id"), index, id_
    )


def response_input(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """The conversation as Responses ``input`` items. An assistant message that made tool
    calls starts with the reasoning items its response produced (``reasoning_items``, as the
    API requires them back with the calls), then its text (when it has any), then one
    ``function_call`` item per tool call (``call_id``, ``name``, ``arguments`` as a JSON
    string); a tool result is a ``function_call_output`` answering its ``call_id``."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if isinstance(m, ToolMessage):
            out.append(
                {"type": "function_call_output", "call_id": m.tool_call_id, "output": m.content}
            )
            continue
        calls = m.tool_calls if isinstance(m, AIMessage) else None
        if calls:
            items = m.response_metadata.get("reasoning_items")
            if isinstance(items, list):
                out.extend(i for i in items if isinstance(i, dict) and i.get("type") == "reasoning")
        if m.content or not calls:
            out.append({"role": m.role, "content": m.content})
        for call in calls or ():
            out.append(
                {
                    "type": "function_call",
                    "call_id": call.get("id"),
                    "name": call.get("name"),
                    "arguments": arguments_json(call.get("args")),
                }
            )
    return out


class OpenAIResponsesSpec(ProviderSpec):
    kind: Literal["openai-responses"] = "openai-responses"


#: ``system`` is ``instructions``, ``max_tokens`` is ``max_output_tokens``; the API has no
#: ``stop`` and no ``seed``.
_PARAMS = ParamMap(max_tokens="max_output_tokens", stop=None, seed=None, system="instructions")


class OpenAIResponsesModel(HTTPModel):
    """``openai-responses``: chat flavour. ``params.system`` is sent as ``instructions``,
    ``max_tokens`` as ``max_output_tokens``; ``seed`` and ``stop`` do not exist in this API
    and are not sent."""

    ls_provider = "openai"
    Spec = OpenAIResponsesSpec
    default_base_url = "https://api.openai.com/v1"
    api_key_envs = ("OPENAI_API_KEY",)
    endpoint = "/responses"

    def _body(self, request: ModelRequest, stream: bool) -> dict[str, Any]:
        fields = map_params(_PARAMS, self.params, request).fields
        inputs = response_input(request.messages)
        return {"model": self.model, "input": inputs, **fields, "stream": stream}

    def _astream(self, request: ModelRequest, ctx: RunContext) -> AsyncIterator[StreamPart]:
        parser = OpenAIResponsesParser(self)
        return pump_sse(self, self.endpoint, self._body(request, True), ctx, parser)

    async def _agenerate(self, request: ModelRequest, ctx: RunContext) -> list[StreamPart]:
        data = await self.post_json(self.endpoint, self._body(request, False), ctx)
        return response_parts(data, self)
