"""``anthropic``: the Messages API (``POST /v1/messages``), streamed as server-sent events.

Two halves, as everywhere in ``providers/``: ``AnthropicStreamParser`` is pure (one decoded
event in, at most one ``StreamPart`` out, no I/O) and ``AnthropicModel`` is the thin adapter
that builds the request and hands it and the parser to ``sse_pump.pump_sse``.

What the parser guarantees, event by event:

- ``message_start``: the message id, and the input token count as a usage delta. The
  ``output_tokens`` it carries is a placeholder the final ``message_delta`` replaces, so it
  is held back rather than emitted and taken back.
- ``content_block_start/delta``: ``text_delta`` is the answer (TEXT); ``thinking_delta`` goes
  to REASONING; a ``tool_use`` block's name and id, then its ``input_json_delta`` pieces,
  go to TOOL_CALL as ``{"name", "args", "id", "index"}`` chunks that merge by index.
- ``message_delta``: the stop reason, and usage that is *cumulative* on the wire, turned into
  a delta so that summing every part's usage gives the totals the official SDK reports.
  ``stop_reason: refusal`` comes out on the REFUSAL channel (empty text: what was already
  streamed stays the answer, as in the SDK) with the ``stop_details`` in its metadata.
- A thinking block's ``signature_delta`` (its last delta) emits a META part whose metadata
  is ``{"thinking_blocks": [{"type": "thinking", "thinking": the block's whole text,
  "signature": ..., "index": ...}]}``, and a ``redacted_thinking`` block one with
  ``{"type": "redacted_thinking", "data": ..., "index": ...}``: they land in the chunk's
  ``response_metadata["thinking_blocks"]``, a list the chunk sum extends in stream order
  (langchain-anthropic keeps them as list content blocks; our ``content`` is a string), and
  ``request_body`` sends them back as the assistant message's first content blocks, as the
  API requires when a tool-use conversation continues.
- ``server_tool_use`` blocks come out as TOOL_CALL chunks like ``tool_use``; their results,
  ``*_tool_result`` blocks (web search, web fetch, code execution...), arrive whole and are
  kept as they came in ``response_metadata["server_blocks"]`` (a META part). A follow-up
  sends both back as the server's own blocks, never as calls of ours.
- ``ping``, ``content_block_stop``, ``citations_delta`` and any event we do not know are
  ignored; ``event: error`` (``overloaded_error``...) raises
  ``UpstreamError`` with the provider's own message.

Truncation: a stream that ends before ``message_stop`` is reported as ``StreamTruncated``
*unless* a ``message_delta`` carrying a stop reason already arrived. After that event the
API sends nothing but ``message_stop``, so nothing of the answer can be missing. The official
SDK's own recorded fixtures (``tests/fixtures/wire/anthropic``) end exactly so, without the
blank line that would dispatch ``message_stop``, and the SDK returns them as complete
messages (text, stop reason and usage), so we do too. The SDK raises nothing for a stream
cut off earlier either; there we deliberately differ and report the truncation, keeping the
text received. After ``message_stop`` nothing more is read (the body is drained briefly), so
a server that holds the connection open cannot turn a complete answer into a timeout.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Final, Literal

from pydantic import Field

from ..core.messages import AIMessage, BaseMessage, ToolMessage, UsageMetadata
from ..core.parts import META, REASONING, REFUSAL, TOOL_CALL, StreamPart
from ..core.runnable import ModelRequest, RunContext
from ..wire.jsonload import json_loads as _loads
from ..wire.sse import SSEEvent
from .http import HTTPModel
from .http_errors import ErrorBuilder
from .params import ParamMap, map_params, system_texts
from .spec import ProviderSpec
from .sse_pump import pump_sse

#: The API version this module speaks (the only one Anthropic has published).
ANTHROPIC_VERSION: Final = "2023-06-01"
#: Where requests go when ``base_url`` is not set. Paths are appended with their ``/v1``,
#: as the official SDK does, so a ``base_url`` is a host root (``http://127.0.0.1:8080``).
DEFAULT_BASE_URL: Final = "https://api.anthropic.com"
#: The variable holding the key when ``api_key_env`` is not set.
DEFAULT_KEY_ENV: Final = "ANTHROPIC_API_KEY"
#: ``max_tokens`` is required by the API; this is used when the config leaves it unset.
DEFAULT_MAX_TOKENS: Final = 1024
MESSAGES_PATH: Final = "/v1/messages"


class AnthropicSpec(ProviderSpec):
    """Options of the ``anthropic`` kind, beyond those every provider has.

    ``params.seed`` is not sent: the Messages API has no seed.
    """

    kind: Literal["anthropic"] = "anthropic"
    #: Sent as ``anthropic-version``.
    anthropic_version: str = ANTHROPIC_VERSION
    #: Extended thinking budget in tokens (``thinking: {"type": "enabled", ...}``); unset: off.
    thinking_budget: int | None = Field(default=None, ge=1024)


def _usage(input_tokens: int, output_tokens: int) -> UsageMetadata:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }


class AnthropicStreamParser:
    """Turns the events of one Messages stream into ``StreamPart`` values.

    Feed each ``SSEEvent`` to :meth:`feed`; call :meth:`finish` when the bytes end. State is
    a handful of counters, so the cost per event is one ``json`` decode and a few lookups.
    ``errors`` (the backend) builds the exceptions, so they name the provider and never hold
    the key.
    """

    __slots__ = (
        "_errors",
        "_input",
        "_output",
        "_stop_reason",
        "_thinking",
        "done",
        "message_id",
    )

    def __init__(self, errors: ErrorBuilder) -> None:
        self._errors = errors
        self.message_id: str | None = None
        #: True once ``message_stop`` arrived.
        self.done = False
        self._stop_reason: str | None = None
        # Cumulative counts already emitted as deltas.
        self._input = 0
        self._output = 0
        #: The pieces of the current thinking block, kept for its signature's block.
        self._thinking: list[str] = []

    def feed(self, event: SSEEvent) -> tuple[StreamPart, ...]:
        """The part one event stands for (none for events that carry nothing)."""
        name = event.event
        if name == "message":  # no ``event:`` line: the JSON ``type`` says what it is
            payload = self._json(event)
            part = self._dispatch(str(payload.get("type")), payload)
        elif name in _MEANINGFUL:
            part = self._dispatch(name, self._json(event))
        else:
            return ()  # ping, content_block_stop, anything new
        return () if part is None else (part,)

    def finish(self) -> None:
        """The bytes ended: raise ``StreamTruncated`` unless the message is complete
        (``message_stop`` seen, or a stop reason already given: see the module docstring)."""
        if not self.done and self._stop_reason is None:
            raise self._errors.truncated("message_stop")

    def _json(self, event: SSEEvent) -> dict[str, Any]:
        try:
            payload = _loads(event.data)
        except ValueError:
            raise self._errors.protocol_error(
                f"malformed JSON in a {event.event!r} event"
            ) from None
        if type(payload) is not dict:
            raise self._errors.protocol_error(f"a {event.event!r} event is not a JSON object")
        return payload

    def _dispatch(self, name: str, payload: dict[str, Any]) -> StreamPart | None:
        if name == "content_block_delta":
            delta = payload.get("delta") or {}
            kind = delta.get("type")
            if kind == "text_delta":
                return StreamPart(delta.get("text") or "", id=self.message_id)
            if kind == "thinking_delta":
                text = delta.get("thinking") or ""
                self._thinking.append(text)
                return StreamPart(text, REASONING, id=self.message_id)
            if kind == "input_json_delta":
                call = {
                    "name": None,
                    "args": delta.get("partial_json") or "",
                    "id": None,
                    "index": payload.get("index"),
                }
                return StreamPart("", TOOL_CALL, tool_call=call, id=self.message_id)
            if kind == "signature_delta":
                block = {
                    "type": "thinking",
                    "thinking": "".join(self._thinking),
                    "signature": delta.get("signature") or "",
                    "index": payload.get("index"),
                }
                self._thinking = []
                return self._block_part(block)
            return None  # citations_delta, future kinds
        if name == "content_block_start":
            return self._block_start(payload)
        if name == "message_start":
            return self._message_start(payload)
        if name == "message_delta":
            return self._message_delta(payload)
        if name == "message_stop":
            self.done = True
            return None
        if name == "error":
            error = self._errors.upstream_error(payload)
            inner = payload.get("error")
            if isinstance(inner, Mapping) and inner.get("type") == "overloaded_error":
                error.hint = "Anthropic is overloaded; try again shortly"
            raise error
        return None

    def _block_start(self, payload: dict[str, Any]) -> StreamPart | None:
        block = payload.get("content_block") or {}
        kind = block.get("type")
        if kind == "text":
            text = block.get("text") or ""
            return StreamPart(text, id=self.message_id) if text else None
        if kind == "thinking":
            text = block.get("thinking") or ""
            self._thinking = [text]
            return StreamPart(text, REASONING, id=self.message_id) if text else None
        if kind == "redacted_thinking":
            data = block.get("data") or ""
            index = payload.get("index")
            return self._block_part({"type": "redacted_thinking", "data": data, "index": index})
        if isinstance(kind, str) and kind.endswith("_tool_result"):
            kept = {**block, "index": payload.get("index")}
            return StreamPart("", META, metadata={"server_blocks": [kept]}, id=self.message_id)
        if kind in ("tool_use", "server_tool_use"):
            call = {
                "name": block.get("name"),
                "args": "",
                "id": block.get("id"),
                "index": payload.get("index"),
            }
            return StreamPart("", TOOL_CALL, tool_call=call, id=self.message_id)
        return None

    def _block_part(self, block: dict[str, Any]) -> StreamPart:
        return StreamPart("", META, metadata={"thinking_blocks": [block]}, id=self.message_id)

    def _message_start(self, payload: dict[str, Any]) -> StreamPart:
        message = payload.get("message") or {}
        self.message_id = message.get("id")
        usage = message.get("usage") or {}
        self._input = int(usage.get("input_tokens") or 0)
        # ``output_tokens`` here is a placeholder that message_delta replaces: held back.
        meta = {"model_name": message["model"]} if message.get("model") else None
        return StreamPart("", META, usage=_usage(self._input, 0), id=self.message_id, metadata=meta)

    def _message_delta(self, payload: dict[str, Any]) -> StreamPart:
        delta = payload.get("delta") or {}
        usage = payload.get("usage")
        stop = delta.get("stop_reason")
        part_usage: UsageMetadata | None = None
        if usage:
            seen_in = usage.get("input_tokens")
            seen_out = usage.get("output_tokens")
            d_in = int(seen_in) - self._input if seen_in is not None else 0
            d_out = int(seen_out) - self._output if seen_out is not None else 0
            self._input += d_in
            self._output += d_out
            part_usage = _usage(d_in, d_out)
        meta: dict[str, Any] = {}
        if stop is not None:
            self._stop_reason = stop
            meta["stop_reason"] = stop
        if delta.get("stop_sequence") is not None:
            meta["stop_sequence"] = delta["stop_sequence"]
        if delta.get("stop_details") is not None:
            meta["stop_details"] = delta["stop_details"]
        channel = REFUSAL if stop == "refusal" else META
        return StreamPart(
            "",
            channel,
            usage=part_usage,
            finish_reason=stop,
            metadata=meta or None,
            id=self.message_id,
        )


#: Events that carry something; every other name is skipped without decoding its data.
_MEANINGFUL: Final = frozenset(
    {
        "content_block_delta",
        "content_block_start",
        "message_start",
        "message_delta",
        "message_stop",
        "error",
    }
)


def message_parts(data: Any, errors: ErrorBuilder) -> list[StreamPart]:
    """The parts of a whole (non-streamed) Messages response, in content order."""
    if type(data) is not dict:
        raise errors.protocol_error("the response is not a JSON object")
    if data.get("type") == "error":
        raise errors.upstream_error(data)
    message_id = data.get("id")
    out: list[StreamPart] = []
    blocks: list[dict[str, Any]] = []
    for index, block in enumerate(data.get("content") or ()):
        kind = block.get("type")
        if kind == "text":
            out.append(StreamPart(block.get("text") or "", id=message_id))
        elif kind == "thinking":
            out.append(StreamPart(block.get("thinking") or "", REASONING, id=message_id))
            keep = ("thinking", "signature")
            blocks.append({"type": kind, **{k: block.get(k) or "" for k in keep}, "index": index})
        elif kind == "redacted_thinking":
            blocks.append({"type": kind, "data": block.get("data") or "", "index": index})
        elif kind in ("tool_use", "server_tool_use"):
            call = {
                "name": block.get("name"),
                "args": json.dumps(block.get("input") or {}),
                "id": block.get("id"),
                "index": index,
            }
            out.append(StreamPart("", TOOL_CALL, tool_call=call, id=message_id))
    usage = data.get("usage") or {}
    stop = data.get("stop_reason")
    meta: dict[str, Any] = {}
    if data.get("model"):
        meta["model_name"] = data["model"]
    if blocks:
        meta["thinking_blocks"] = blocks
    for key in ("stop_reason", "stop_sequence", "stop_details"):
        if data.get(key) is not None:
            meta[key] = data[key]
    out.append(
        StreamPart(
            "",
            REFUSAL if stop == "refusal" else META,
            usage=_usage(int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)),
            finish_reason=stop,
            metadata=meta or None,
            id=message_id,
        )
    )
    return out


#: What a thinking block sent back keeps (``index`` is where it was in the stream).
_BLOCK_KEYS: Final = {"thinking": ("thinking", "signature"), "redacted_thinking": ("data",)}
#: The id prefix of the server's own tool calls (web search, code execution...).
SERVER_TOOL_PREFIX: Final = "srvtoolu_"


def anthropic_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """The conversation as Messages API ``messages`` (system messages go to ``system``).

    An assistant message with tool calls or kept thinking blocks becomes content blocks:
    its ``thinking`` / ``redacted_thinking`` blocks (``response_metadata["thinking_blocks"]``)
    first, then each server tool call (``srvtoolu_`` ids) as a ``server_tool_use`` block
    followed by its kept result blocks (``response_metadata["server_blocks"]``: the API needs
    them, ``encrypted_content`` included, to continue), then its text, then one
    ``tool_use`` block per call of ours. A tool result is a ``tool_result``
    block in a user message; consecutive results (parallel calls), and a user message after
    them, share one user message, as the API wants every result of a turn in the next one.
    """
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "system":
            continue
        role = "assistant" if m.role == "assistant" else "user"
        content: str | list[dict[str, Any]] = m.content
        if isinstance(m, ToolMessage):
            content = [{"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content}]
        elif isinstance(m, AIMessage):
            blocks = _assistant_blocks(m)
            if blocks is not None:
                content = blocks
        if (
            out
            and out[-1]["role"] == role
            and (isinstance(content, list) or isinstance(out[-1]["content"], list))
        ):
            out[-1]["content"] = _as_blocks(out[-1]["content"]) + _as_blocks(content)
        else:
            out.append({"role": role, "content": content})
    return out


def _assistant_blocks(m: AIMessage) -> list[dict[str, Any]] | None:
    kept = m.response_metadata.get("thinking_blocks")
    calls: list[dict[str, Any]] = []
    server: list[dict[str, Any]] = []
    for c in m.tool_calls:
        (server if str(c.get("id") or "").startswith(SERVER_TOOL_PREFIX) else calls).append(c)
    if not kept and not calls and not server:
        return None
    blocks: list[dict[str, Any]] = []
    for block in kept if isinstance(kept, list) else ():
        keys = _BLOCK_KEYS.get(str(block.get("type"))) if isinstance(block, dict) else None
        if keys is not None:
            blocks.append({"type": block["type"], **{k: block.get(k) or "" for k in keys}})
    results = m.response_metadata.get("server_blocks")
    by_call: dict[str, list[dict[str, Any]]] = {}
    for block in results if isinstance(results, list) else ():
        if isinstance(block, dict):
            result = {k: v for k, v in block.items() if k != "index"}
            by_call.setdefault(str(block.get("tool_use_id")), []).append(result)
    for call in server:
        args = call.get("args")
        blocks.append(
            {
                "type": "server_tool_use",
                "id": call.get("id"),
                "name": call.get("name"),
                "input": args if isinstance(args, dict) else {},
            }
        )
        blocks += by_call.get(str(call.get("id")), [])
    if m.content:
        blocks.append({"type": "text", "text": m.content})
    for call in calls:
        args = call.get("args")
        blocks.append(
            {
                "type": "tool_use",
                "id": call.get("id"),
                "name": call.get("name"),
                "input": args if isinstance(args, dict) else {},
            }
        )
    return blocks


def _as_blocks(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(content, list):
        return content
    return [{"type": "text", "text": content}] if content else []


#: ``stop`` is ``stop_sequences``; ``max_tokens`` is required (1024 when unset); the API has no
#: ``seed``. The system prompt is the top-level ``system`` (system messages win over it).
_PARAMS = ParamMap(stop="stop_sequences", seed=None, default_max_tokens=DEFAULT_MAX_TOKENS)


class AnthropicModel(HTTPModel):
    """The ``anthropic`` kind: a chat model over ``POST /v1/messages``."""

    ls_provider = "anthropic"
    Spec = AnthropicSpec
    default_base_url = DEFAULT_BASE_URL
    api_key_envs = (DEFAULT_KEY_ENV,)
    flavor_default = "chat"
    stream_content_types = ("text/event-stream",)
    models_path = "/v1/models"

    spec: AnthropicSpec

    def _auth_headers(self) -> dict[str, str]:
        headers = {"anthropic-version": self.spec.anthropic_version}
        key = self._secret()
        if key:
            headers["x-api-key"] = key
        return headers

    def request_body(self, request: ModelRequest, *, stream: bool) -> dict[str, Any]:
        """The JSON body: configured params, then per-call overrides (unknown override keys
        are sent as given, so new API fields need no code here)."""
        thinking = self.spec.thinking_budget
        extra = {"thinking": {"type": "enabled", "budget_tokens": thinking}} if thinking else None
        fields, system = map_params(_PARAMS, self.params, request, extra=extra)
        body: dict[str, Any] = {
            "model": self.model,
            "messages": anthropic_messages(request.messages),
        }
        system_parts = system_texts(request.messages, system)
        if system_parts:
            body["system"] = "\n\n".join(system_parts)
        body.update(fields)
        if stream:
            body["stream"] = True
        return body

    def _astream(self, request: ModelRequest, ctx: RunContext) -> AsyncIterator[StreamPart]:
        body = self.request_body(request, stream=True)
        return pump_sse(self, MESSAGES_PATH, body, ctx, AnthropicStreamParser(self))

    async def _agenerate(self, request: ModelRequest, ctx: RunContext) -> list[StreamPart]:
        data = await self.post_json(MESSAGES_PATH, self.request_body(request, stream=False), ctx)
        return message_parts(data, self)

    async def list_models(self) -> list[str]:
        """Model ids from ``GET /v1/models`` (one page of up to 1000: all there are)."""
        data = await self.get_json(self.models_path, params={"limit": "1000"})
        return sorted(self._parse_models(data))
