"""``openai-chat`` and ``openai-completions``: OpenAI's Chat Completions and legacy
Completions APIs, and every OpenAI-compatible server (vLLM, llama.cpp, LM Studio,
OpenRouter, Groq, Together...) by ``base_url``.

Two layers, as everywhere in ``providers/``: pure parsers (:class:`OpenAIChatParser`,
:class:`OpenAICompletionsParser`: one decoded event in, ``StreamPart`` values out, no I/O,
testable with plain dicts) and thin adapters that build the request (their parameter names
in a ``params.ParamMap``) and hand it and a parser to ``sse_pump.pump_sse``.

What the parsers understand: content deltas; the role chunk (an empty part, as LangChain
yields an empty chunk for it); refusal deltas (REFUSAL); reasoning deltas from compatible
servers (``reasoning_content`` / ``reasoning``: REASONING); tool-call deltas (TOOL_CALL,
shaped like LangChain's ``tool_call_chunks``: ``{"name", "args", "id", "index"}``);
``finish_reason``; usage (the final empty-choices chunk, or a cumulative usage on every
chunk as some servers send it: either way turned into deltas); ``[DONE]``; an ``{"error":
...}`` object or ``event: error`` mid-stream (UpstreamError); malformed JSON
(StreamProtocolError).

The end of the bytes without ``[DONE]``: complete if a ``finish_reason`` arrived and, when
usage was asked for (``stream_options.include_usage``), the usage chunk that follows it too,
as the official SDK takes such a stream (it stops at the end of the bytes and returns what
it read); anything shorter is StreamTruncated, text kept.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Literal

from ..core.message_io import message_dicts
from ..core.parts import META, REASONING, REFUSAL, TEXT, StreamPart, text_part
from ..core.runnable import ModelRequest, RunContext
from ..errors import StreamProtocolError
from ..wire.jsonload import fast_json_loads as _fast_loads
from ..wire.jsonload import json_loads as _loads
from ..wire.sse import SSEEvent
from .http import HTTPModel
from .http_errors import ErrorBuilder, PlainErrors
from .openai_shapes import UsageDeltas, openai_usage, tool_call_part
from .params import ParamMap, map_params
from .spec import ProviderSpec
from .sse_pump import pump_sse


class _OpenAIStreamParser:
    """What both Chat and Completions streams share: ``[DONE]``, JSON, errors, usage."""

    __slots__ = ("_usage", "done", "errors", "expect_usage", "finished", "usage_seen")

    def __init__(self, errors: ErrorBuilder | None = None, *, expect_usage: bool = False) -> None:
        self.errors: ErrorBuilder = errors if errors is not None else PlainErrors()
        self.done = False
        #: A usage chunk was asked for: without ``[DONE]`` the answer is complete only once it
        #: came (it is the last chunk, after the one with the ``finish_reason``).
        self.expect_usage = expect_usage
        #: A choice carried a ``finish_reason``; a usage object arrived.
        self.finished = False
        self.usage_seen = False
        self._usage = UsageDeltas()

    def feed(self, event: SSEEvent) -> list[StreamPart]:
        """One SSE event; the parts it carries (possibly none)."""
        data = event.data
        if data == "[DONE]":
            self.done = True
            return []
        try:
            obj = _loads(data)
        except ValueError:
            raise self._malformed(data) from None
        if event.event == "error":
            raise self.errors.upstream_error(obj)
        return self.parse(obj)

    def parse(self, obj: Any) -> list[StreamPart]:
        """One decoded chunk: its choice's parts (``_choice_parts``), then a usage delta."""
        if type(obj) is not dict:
            raise self._bad(obj)
        if obj.get("error"):
            raise self.errors.upstream_error(obj)
        id_ = obj.get("id")
        choices = obj.get("choices")
        parts = self._choice_parts(obj, choices[0], id_) if choices else []
        usage = obj.get("usage")
        if usage:
            part = self._usage_part(usage, id_)
            if part is not None:
                parts.append(part)
        return parts

    def _choice_parts(
        self, obj: dict[str, Any], choice: dict[str, Any], id_: str | None
    ) -> list[StreamPart]:
        raise NotImplementedError

    def finish(self) -> None:
        """At the end of the bytes: raise StreamTruncated unless ``[DONE]`` came, or the
        answer's ``finish_reason`` (and the usage chunk, when asked for) did."""
        if self.done or (self.finished and (self.usage_seen or not self.expect_usage)):
            return
        raise self.errors.truncated("[DONE]")

    def _malformed(self, data: str) -> StreamProtocolError:
        return self.errors.protocol_error(f"malformed JSON in event: {data[:80]!r}")

    def _bad(self, obj: Any) -> StreamProtocolError:
        return self.errors.protocol_error(f"unexpected event: {json.dumps(obj)[:80]}")

    def _usage_part(self, usage: Any, id_: str | None) -> StreamPart | None:
        if not isinstance(usage, dict):
            return None
        self.usage_seen = True
        delta = self._usage.delta(openai_usage(usage))
        return None if delta is None else StreamPart("", META, usage=delta, id=id_)


class OpenAIChatParser(_OpenAIStreamParser):
    """Chat Completions chunks (``chat.completion.chunk``) to parts.

    Only choice ``index`` 0 is the answer (we never ask for ``n > 1``). Every chunk yields
    at least one part, so the event trace has one stream event per wire chunk, as
    LangChain's ChatOpenAI has.
    """

    __slots__ = ()

    def feed(self, event: SSEEvent) -> list[StreamPart]:
        # The hot path, inlined: almost every chunk is one choice whose delta is only
        # ``content``, with no finish reason, usage or error.
        name, data, _, _ = event
        if name == "message" and data != "[DONE]":
            try:
                obj = _fast_loads(data)
            except ValueError:
                try:
                    obj = _loads(data)  # what orjson refuses and the stdlib may read
                except ValueError:
                    raise self._malformed(data) from None
            if type(obj) is dict:
                choices = obj.get("choices")
                if choices and len(choices) == 1:
                    choice = choices[0]
                    delta = choice.get("delta")
                    if (
                        delta is not None
                        and len(delta) == 1
                        and choice.get("finish_reason") is None
                        and obj.get("usage") is None
                        and not obj.get("error")
                    ):
                        content = delta.get("content")
                        if content and choice.get("index", 0) == 0:
                            return [text_part(content, obj.get("id"))]
            return self.parse(obj)
        return super().feed(event)

    def parse(self, obj: Any) -> list[StreamPart]:
        return super().parse(obj) or [StreamPart("", META, id=obj.get("id"))]

    def _choice_parts(
        self, obj: dict[str, Any], choice: dict[str, Any], id_: str | None
    ) -> list[StreamPart]:
        if choice.get("index", 0) != 0:
            choice = next((c for c in obj["choices"] if c.get("index") == 0), {})
        parts: list[StreamPart] = []
        delta = choice.get("delta")
        if delta:
            content = delta.get("content")
            if content:
                parts.append(StreamPart(content, TEXT, id=id_))
            if len(delta) > 1 or content is None:
                self._extras(delta, id_, parts)
        finish = choice.get("finish_reason")
        if finish:
            self.finished = True
            meta = {"model_name": obj["model"]} if obj.get("model") else None
            if obj.get("system_fingerprint"):
                meta = {**(meta or {}), "system_fingerprint": obj["system_fingerprint"]}
            if parts and parts[-1].channel == TEXT:
                parts[-1].finish_reason = finish
                parts[-1].metadata = meta
            else:
                parts.append(StreamPart("", META, finish_reason=finish, metadata=meta, id=id_))
        return parts

    def _extras(self, delta: dict[str, Any], id_: str | None, parts: list[StreamPart]) -> None:
        refusal = delta.get("refusal")
        if refusal:
            parts.append(StreamPart(refusal, REFUSAL, id=id_))
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning and isinstance(reasoning, str):
            parts.append(StreamPart(reasoning, REASONING, id=id_))
        calls = delta.get("tool_calls")
        if calls:
            for call in calls:
                function = call.get("function") or {}
                parts.append(
                    tool_call_part(
                        function.get("name"),
                        function.get("arguments"),
                        call.get("id"),
                        call.get("index"),
                        id_,
                    )
                )


class OpenAICompletionsParser(_OpenAIStreamParser):
    """Legacy Completions chunks (``text_completion``) to parts (choice 0's ``text``)."""

    __slots__ = ()

    def _choice_parts(
        self, obj: dict[str, Any], choice: dict[str, Any], id_: str | None
    ) -> list[StreamPart]:
        text = choice.get("text")
        finish = choice.get("finish_reason")
        if not (text or finish):
            return []
        if finish:
            self.finished = True
        meta = {"model_name": obj["model"]} if finish and obj.get("model") else None
        channel = TEXT if text else META
        return [
            StreamPart(text or "", channel, finish_reason=finish or None, metadata=meta, id=id_)
        ]


# -- adapters ---------------------------------------------------------------------------------


class OpenAIChatSpec(ProviderSpec):
    kind: Literal["openai-chat"] = "openai-chat"
    #: Ask for usage in the stream (``stream_options.include_usage``). Turn off for
    #: compatible servers that reject ``stream_options``.
    stream_usage: bool = True


class OpenAICompletionsSpec(ProviderSpec):
    kind: Literal["openai-completions"] = "openai-completions"
    stream_usage: bool = True


#: Chat Completions: ``max_tokens`` is ``max_completion_tokens``; the system prompt goes
#: first in the messages.
_CHAT_PARAMS = ParamMap(max_tokens="max_completion_tokens")
#: Legacy Completions: our names as they are; it has no system role, so no system prompt.
_COMPLETIONS_PARAMS = ParamMap()


class _OpenAIBase(HTTPModel):
    ls_provider = "openai"
    default_base_url = "https://api.openai.com/v1"
    api_key_envs = ("OPENAI_API_KEY",)
    endpoint: ClassVar[str] = ""
    spec: OpenAIChatSpec | OpenAICompletionsSpec

    def _parser(self) -> _OpenAIStreamParser:
        raise NotImplementedError

    def _body(self, request: ModelRequest, stream: bool) -> dict[str, Any]:
        raise NotImplementedError

    def _astream(self, request: ModelRequest, ctx: RunContext) -> AsyncIterator[StreamPart]:
        return pump_sse(self, self.endpoint, self._body(request, True), ctx, self._parser())

    def _stream_fields(self, stream: bool) -> dict[str, Any]:
        if stream and self.spec.stream_usage:
            return {"stream": True, "stream_options": {"include_usage": True}}
        return {"stream": stream}


class OpenAIChatModel(_OpenAIBase):
    """``openai-chat``: ``POST {base_url}/chat/completions``, chat flavour.

    Request: ``messages`` (the system prompt first, unless the input has one),
    ``max_tokens`` sent as ``max_completion_tokens``, ``temperature``/``top_p``/``stop``/
    ``seed`` as named, ``stream_options.include_usage`` when streaming.
    """

    Spec = OpenAIChatSpec
    endpoint = "/chat/completions"
    spec: OpenAIChatSpec

    def _parser(self) -> OpenAIChatParser:
        return OpenAIChatParser(self, expect_usage=self.spec.stream_usage)

    def _body(self, request: ModelRequest, stream: bool) -> dict[str, Any]:
        fields, system = map_params(_CHAT_PARAMS, self.params, request)
        messages = message_dicts(request.messages, system, tool_calls="openai")
        return {"model": self.model, "messages": messages, **fields, **self._stream_fields(stream)}

    async def _agenerate(self, request: ModelRequest, ctx: RunContext) -> list[StreamPart]:
        data = await self.post_json(self.endpoint, self._body(request, False), ctx)
        return chat_completion_parts(data, self)


class OpenAICompletionsModel(_OpenAIBase):
    """``openai-completions``: ``POST {base_url}/completions``, text-LLM flavour.

    The legacy API has no system role: ``params.system`` is not sent. ``max_tokens`` keeps
    its name.
    """

    Spec = OpenAICompletionsSpec
    flavor_default = "llm"
    endpoint = "/completions"
    spec: OpenAICompletionsSpec

    def _parser(self) -> OpenAICompletionsParser:
        return OpenAICompletionsParser(self, expect_usage=self.spec.stream_usage)

    def _body(self, request: ModelRequest, stream: bool) -> dict[str, Any]:
        fields = map_params(_COMPLETIONS_PARAMS, self.params, request).fields
        return {
            "model": self.model,
            "prompt": request.prompt,
            **fields,
            **self._stream_fields(stream),
        }

    async def _agenerate(self, request: ModelRequest, ctx: RunContext) -> list[StreamPart]:
        data = await self.post_json(self.endpoint, self._body(request, False), ctx)
        return completion_parts(data, self)


# -- non-streaming answers --------------------------------------------------------------------


def _first_choice(data: Any, errors: ErrorBuilder) -> tuple[dict[str, Any], str | None]:
    if not isinstance(data, dict):
        raise errors.protocol_error("answer is not a JSON object")
    if data.get("error"):
        raise errors.upstream_error(data)
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise errors.protocol_error("answer without choices")
    return choices[0], data.get("id")


def _tail_parts(data: dict[str, Any], finish: str | None, id_: str | None) -> list[StreamPart]:
    parts: list[StreamPart] = []
    if finish:
        meta = {"model_name": data["model"]} if data.get("model") else None
        parts.append(StreamPart("", META, finish_reason=finish, metadata=meta, id=id_))
    usage = data.get("usage")
    if isinstance(usage, dict):
        parts.append(StreamPart("", META, usage=openai_usage(usage), id=id_))
    return parts


def chat_completion_parts(data: Any, errors: ErrorBuilder | None = None) -> list[StreamPart]:
    """A whole ``chat.completion`` (``stream = false``) as parts."""
    errors = errors if errors is not None else PlainErrors()
    choice, id_ = _first_choice(data, errors)
    message = choice.get("message") or {}
    parts: list[StreamPart] = []
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if reasoning and isinstance(reasoning, str):
        parts.append(StreamPart(reasoning, REASONING, id=id_))
    if message.get("content"):
        parts.append(StreamPart(message["content"], TEXT, id=id_))
    if message.get("refusal"):
        parts.append(StreamPart(message["refusal"], REFUSAL, id=id_))
    for index, call in enumerate(message.get("tool_calls") or []):
        function = call.get("function") or {}
        parts.append(
            tool_call_part(
                function.get("name"), function.get("arguments"), call.get("id"), index, id_
            )
        )
    return parts + _tail_parts(data, choice.get("finish_reason"), id_)


def completion_parts(data: Any, errors: ErrorBuilder | None = None) -> list[StreamPart]:
    """A whole ``text_completion`` (``stream = false``) as parts."""
    errors = errors if errors is not None else PlainErrors()
    choice, id_ = _first_choice(data, errors)
    parts = [StreamPart(choice["text"], TEXT, id=id_)] if choice.get("text") else []
    return parts + _tail_parts(data, choice.get("finish_reason"), id_)
