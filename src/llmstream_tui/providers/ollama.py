"""``ollama-chat`` (``POST /api/chat``) and ``ollama-generate`` (``POST /api/generate``).

Ollama streams NDJSON: one object per line, the last one with ``"done": true`` carrying the
stop reason (``done_reason``) and the run's metrics. ``OllamaStreamParser`` is pure (one
decoded object in, at most one ``StreamPart`` out); the two model classes are thin adapters
over the shared HTTP layer.

Guarantees:

- Text comes from ``message.content`` (chat) or ``response`` (generate); ``thinking`` (either
  place) goes to REASONING; chat ``tool_calls`` (Ollama sends each call whole) go to
  TOOL_CALL with JSON-encoded ``args``.
- The ``done`` object gives ``done_reason`` as the finish reason, ``prompt_eval_count`` and
  ``eval_count`` as input and output tokens (sent once, so already a delta), and every
  ``*_duration`` (nanoseconds), ``model`` and ``created_at`` in the part's metadata.
- A line with an ``error`` key raises ``UpstreamError`` whatever the HTTP status, as the
  official client does.
- Bytes that end before a ``done: true`` object raise ``StreamTruncated``; after it nothing
  more is read (``sse_pump.pump_ndjson``: the body is drained briefly, never waited for).

The server is ``base_url``, else ``$OLLAMA_HOST`` (``host:port`` without a scheme is
accepted, as the ``ollama`` CLI accepts it), else ``http://localhost:11434``.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, ClassVar, Final, Literal

from pydantic import Field

from ..core.message_io import message_dicts
from ..core.messages import BaseMessage, UsageMetadata
from ..core.parts import META, REASONING, TEXT, TOOL_CALL, StreamPart
from ..core.runnable import Flavor, ModelRequest, RunContext
from .http import HTTPModel
from .http_errors import ErrorBuilder
from .params import ParamMap, answered_calls, map_params
from .spec import ProviderSpec
from .sse_pump import pump_ndjson

#: The server used when neither ``base_url`` nor ``$OLLAMA_HOST`` says otherwise.
DEFAULT_BASE_URL: Final = "http://localhost:11434"
#: The environment variable the ``ollama`` CLI and SDK read for the server address.
OLLAMA_HOST_ENV: Final = "OLLAMA_HOST"
#: Metrics of the ``done`` object copied into the final part's metadata.
_METRICS: Final = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
    "model",
    "created_at",
)
#: The generation parameters go in ``options`` (``max_tokens`` is ``num_predict``); the chat
#: kind puts the system prompt first in its messages.
_CHAT_PARAMS: Final = ParamMap(max_tokens="num_predict", nest="options")
#: ... and the generate kind sends it as ``system``.
_GENERATE_PARAMS: Final = ParamMap(max_tokens="num_predict", nest="options", system="system")


class OllamaSpec(ProviderSpec):
    """Options of the two Ollama kinds, beyond those every provider has."""

    kind: Literal["ollama-chat", "ollama-generate"]
    #: More model ``options`` (``num_ctx``, ``repeat_penalty``...), merged under the mapped
    #: params.
    options: dict[str, Any] = Field(default_factory=dict)
    #: How long the model stays loaded after the request (``"5m"``, ``0``...); unset: server's.
    keep_alive: str | int | None = None
    #: Ask thinking models to think (``true``/``false``); unset: the model's default.
    think: bool | None = None


class OllamaChatSpec(OllamaSpec):
    kind: Literal["ollama-chat"] = "ollama-chat"


class OllamaGenerateSpec(OllamaSpec):
    kind: Literal["ollama-generate"] = "ollama-generate"


def resolve_base_url(base_url: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The server root: ``base_url``, else ``$OLLAMA_HOST``, else the default.

    ``OLLAMA_HOST`` may be ``host``, ``host:port``, ``:port`` or a full URL, as the ``ollama``
    tools accept it; a missing scheme means ``http`` and a missing port ``11434``.
    """
    if base_url:
        return base_url.rstrip("/")
    env = (environ if environ is not None else os.environ).get(OLLAMA_HOST_ENV, "").strip()
    if not env:
        return DEFAULT_BASE_URL
    scheme, sep, rest = env.partition("://")
    if not sep:
        scheme, rest = "http", env
    host, _, path = rest.partition("/")
    if host.startswith("["):  # IPv6 literal: [::1] or [::1]:port
        close = host.find("]")
        name, port = host[: close + 1], host[close + 2 :] if close >= 0 else ""
    else:
        name, _, port = host.rpartition(":") if ":" in host else (host, "", "")
    name = name or "127.0.0.1"
    if not port:
        port = "443" if scheme == "https" else "80" if sep else "11434"
    url = f"{scheme}://{name}:{port}"
    return f"{url}/{path.rstrip('/')}" if path.strip("/") else url


class OllamaStreamParser:
    """Turns the objects of one ``/api/chat`` or ``/api/generate`` stream into parts.

    ``chat`` selects where the text is (``message.content`` or ``response``).
    """

    __slots__ = ("_calls", "_errors", "chat", "done")

    def __init__(self, errors: ErrorBuilder, *, chat: bool) -> None:
        self._errors = errors
        self.chat = chat
        #: True once the ``done: true`` object arrived.
        self.done = False
        # Tool calls seen so far: each whole call gets its own index, across lines.
        self._calls = 0

    def feed(self, obj: object) -> list[StreamPart]:
        """The parts one NDJSON value stands for (usually one; none for an empty line
        object; thinking, text and tool calls in that order when one object has several)."""
        if type(obj) is not dict:
            raise self._errors.protocol_error("a stream line is not a JSON object")
        if "error" in obj:
            raise self._errors.upstream_error(obj)
        calls: Any = None
        if self.chat:
            message = obj.get("message") or {}
            text = message.get("content") or ""
            thinking = message.get("thinking") or ""
            calls = message.get("tool_calls")
        else:
            text = obj.get("response") or ""
            thinking = obj.get("thinking") or ""
        done = bool(obj.get("done"))
        if text and not (thinking or calls or done):
            return [StreamPart(text)]  # the hot path: one content delta
        out: list[StreamPart] = []
        if thinking:
            out.append(StreamPart(thinking, REASONING))
        if text and not done:
            out.append(StreamPart(text))
        if calls:
            for call in calls:
                out.append(_tool_call(call, self._calls))
                self._calls += 1
        if done:
            self.done = True
            out.append(self._final(obj, text))
        return out

    def finish(self) -> None:
        """The bytes ended: raise ``StreamTruncated`` unless the ``done`` object arrived."""
        if not self.done:
            raise self._errors.truncated('a "done": true object')

    @staticmethod
    def _final(obj: Mapping[str, Any], text: str) -> StreamPart:
        prompt = obj.get("prompt_eval_count")
        output = obj.get("eval_count")
        usage: UsageMetadata | None = None
        if prompt is not None or output is not None:
            i, o = int(prompt or 0), int(output or 0)
            usage = {"input_tokens": i, "output_tokens": o, "total_tokens": i + o}
        meta = {key: obj[key] for key in _METRICS if key in obj}
        if obj.get("done_reason") is not None:
            meta["done_reason"] = obj["done_reason"]
        return StreamPart(
            text,
            TEXT if text else META,
            usage=usage,
            finish_reason=obj.get("done_reason"),
            metadata=meta or None,
        )


def _tool_call(call: Any, index: int) -> StreamPart:
    """Ollama sends each tool call whole: one chunk per call, ``args`` JSON-encoded."""
    function = (call.get("function") if isinstance(call, dict) else None) or {}
    args = function.get("arguments")
    chunk = {
        "name": function.get("name"),
        "args": args if isinstance(args, str) else json.dumps(args or {}),
        "id": call.get("id") if isinstance(call, dict) else None,
        "index": function.get("index", index),
    }
    return StreamPart("", TOOL_CALL, tool_call=chunk)


class _OllamaModel(HTTPModel):
    """What both Ollama kinds share: the server address, options, NDJSON decoding."""

    ls_provider = "ollama"
    default_base_url = DEFAULT_BASE_URL
    api_key_envs = ()
    stream_content_types = ("application/x-ndjson", "application/json")
    models_path = "/api/tags"
    #: The endpoint, under the server root.
    path: str = ""
    #: How our parameters are sent (the two endpoints differ in the system prompt).
    param_map: ClassVar[ParamMap]

    spec: OllamaSpec

    def __init__(
        self, spec: OllamaSpec, *, name: str, client: Any = None, flavor: Flavor | None = None
    ) -> None:
        super().__init__(spec, name=name, client=client, flavor=flavor)
        self._base_url = resolve_base_url(spec.base_url)

    @property
    def base_url(self) -> str:
        """``base_url``, else ``$OLLAMA_HOST`` (read when the backend is built), else the
        default."""
        return self._base_url

    def _body(self, request: ModelRequest, *, stream: bool) -> dict[str, Any]:
        """``model``, the mapped params (``options`` over ``spec.options``), ``keep_alive``
        and ``think`` from the spec, per-call extras (``format``, ``tools``...) as given, then
        the kind's own input (``_input``)."""
        extra: dict[str, Any] = {}
        if self.spec.keep_alive is not None:
            extra["keep_alive"] = self.spec.keep_alive
        if self.spec.think is not None:
            extra["think"] = self.spec.think
        mapped = map_params(
            self.param_map, self.params, request, nested=self.spec.options, extra=extra
        )
        return {
            "model": self.model,
            "stream": stream,
            **mapped.fields,
            **self._input(request, mapped.system),
        }

    def _input(self, request: ModelRequest, system: str | None) -> dict[str, Any]:
        raise NotImplementedError

    def _astream(self, request: ModelRequest, ctx: RunContext) -> AsyncIterator[StreamPart]:
        parser = OllamaStreamParser(self, chat=self.flavor == "chat")
        return pump_ndjson(self, self.path, self._body(request, stream=True), ctx, parser)

    async def _agenerate(self, request: ModelRequest, ctx: RunContext) -> list[StreamPart]:
        data = await self.post_json(self.path, self._body(request, stream=False), ctx)
        parser = OllamaStreamParser(self, chat=self.flavor == "chat")
        parts = parser.feed(data)
        parser.finish()
        return parts

    def _parse_models(self, data: Any) -> list[str]:
        """``/api/tags``: ``{"models": [{"name": "llama3.2:latest", ...}]}``."""
        items = data.get("models") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise self.protocol_error("model list without a 'models' array")
        return [
            str(m.get("name") or m.get("model"))
            for m in items
            if isinstance(m, dict) and (m.get("name") or m.get("model"))
        ]


class OllamaChatModel(_OllamaModel):
    """``ollama-chat``: a chat model over ``POST /api/chat``."""

    Spec = OllamaChatSpec
    flavor_default = "chat"
    path = "/api/chat"
    param_map = _CHAT_PARAMS

    def _input(self, request: ModelRequest, system: str | None) -> dict[str, Any]:
        return {"messages": ollama_messages(request.messages, system)}


def ollama_messages(messages: Sequence[BaseMessage], system: str | None) -> list[dict[str, Any]]:
    """``/api/chat`` messages: core's ``message_dicts`` in Ollama's tool-call shape, and each
    tool result's ``tool_name`` (the function it answers, which Ollama matches results by;
    its calls carry no ids)."""
    out = message_dicts(messages, system, tool_calls="ollama")
    shift = len(out) - len(messages)  # the configured system prompt, put first
    for position, call in enumerate(answered_calls(messages)):
        if call is not None and call.get("name"):
            out[position + shift]["tool_name"] = call["name"]
    return out


class OllamaGenerateModel(_OllamaModel):
    """``ollama-generate``: a text LLM over ``POST /api/generate``."""

    Spec = OllamaGenerateSpec
    flavor_default = "llm"
    path = "/api/generate"
    param_map = _GENERATE_PARAMS

    def _input(self, request: ModelRequest, system: str | None) -> dict[str, Any]:
        return {"prompt": request.prompt}
