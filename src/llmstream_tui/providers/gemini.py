"""``gemini``: Google's Gemini API, ``models/{model}:streamGenerateContent?alt=sse``.

``GeminiStreamParser`` is pure (one decoded event in, its parts out); ``GeminiModel`` is the
thin adapter over the shared HTTP layer.

Every event is a whole ``GenerateContentResponse``. Guarantees:

- ``candidates[0].content.parts[]``: ``text`` is the answer, a part with ``thought: true``
  goes to REASONING, ``functionCall`` to TOOL_CALL (whole calls, JSON-encoded ``args``);
  a call's ``thoughtSignature`` rides on its part as ``{"thought_signatures": {"<call
  index>": signature}}`` metadata, so it lands in ``response_metadata`` and is sent back
  with the call in a follow-up (``gemini_contents``); a text part's (thinking models sign
  the last part of an answer without calls) is kept under ``"text"`` and sent back on the
  answer's text part.
- ``finishReason`` is the finish reason as Gemini spells it (``STOP``, ``MAX_TOKENS``...);
  ``promptFeedback.blockReason`` (the prompt itself was blocked) ends the run on the REFUSAL
  channel with that reason.
- ``usageMetadata`` is *cumulative* in every event (each repeats ``promptTokenCount`` and the
  candidates so far): it is turned into deltas, so summing every part's usage gives the last
  event's counts. Output tokens are ``candidatesTokenCount`` plus ``thoughtsTokenCount``
  (thinking is billed as output), the latter also as ``output_token_details.reasoning``.
- An ``error`` object (in the stream or as the body) raises ``UpstreamError`` with Google's
  message and status.
- Gemini's event stream has no terminator: a stream whose bytes end before any candidate
  carried a ``finishReason`` (or the prompt was blocked) raises ``StreamTruncated``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Final, Literal
from urllib.parse import quote

from ..core.messages import AIMessage, BaseMessage, ToolMessage, UsageMetadata
from ..core.parts import META, REASONING, REFUSAL, TEXT, TOOL_CALL, StreamPart
from ..core.runnable import ModelRequest, RunContext
from ..wire.jsonload import json_loads as _loads
from ..wire.sse import SSEEvent
from .http import HTTPModel
from .http_errors import ErrorBuilder
from .params import ParamMap, answered_calls, map_params, system_texts
from .spec import ProviderSpec
from .sse_pump import pump_sse

#: The API root when ``base_url`` is not set (the path includes its version, ``v1beta``).
DEFAULT_BASE_URL: Final = "https://generativelanguage.googleapis.com/v1beta"
#: The variables holding the key when ``api_key_env`` is not set, in the order tried.
DEFAULT_KEY_ENVS: Final = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
#: The generation parameters go in ``generationConfig``, in Gemini's camelCase; the system
#: prompt is ``systemInstruction`` (system messages win over it).
_PARAMS: Final = ParamMap(
    max_tokens="maxOutputTokens", top_p="topP", stop="stopSequences", nest="generationConfig"
)


class GeminiSpec(ProviderSpec):
    """Options of the ``gemini`` kind, beyond those every provider has."""

    kind: Literal["gemini"] = "gemini"
    #: ``thinkingConfig.thinkingBudget`` in tokens (0 turns thinking off); unset: the model's.
    thinking_budget: int | None = None
    #: Ask for thought summaries (parts with ``thought: true``, shown as reasoning).
    include_thoughts: bool = False


class GeminiStreamParser:
    """Turns the events (or the one body) of a ``generateContent`` call into parts."""

    __slots__ = ("_calls", "_errors", "_input", "_output", "_reasoning", "finished", "response_id")

    #: Gemini's event stream has no terminator: the pump reads to the end of the bytes.
    done: Final = False

    def __init__(self, errors: ErrorBuilder) -> None:
        self._errors = errors
        #: True once a candidate carried a ``finishReason`` or the prompt was blocked.
        self.finished = False
        self.response_id: str | None = None
        # Cumulative counts already emitted as deltas.
        self._input = 0
        self._output = 0
        self._reasoning = 0
        self._calls = 0

    def feed(self, event: SSEEvent) -> list[StreamPart]:
        """The parts of one event-stream event (its data is one JSON response)."""
        try:
            payload = _loads(event.data)
        except ValueError:
            raise self._errors.protocol_error("malformed JSON in an event") from None
        return self.parse(payload)

    def parse(self, payload: object) -> list[StreamPart]:
        """The parts of one ``GenerateContentResponse`` object."""
        if type(payload) is list:  # the non-SSE stream form: a JSON array of responses
            parts: list[StreamPart] = []
            for item in payload:
                # one level only: a list in the list is no response, and recursing into it
                # would let an array nested 1,000 deep overflow the stack
                if type(item) is not dict:
                    raise self._errors.protocol_error("an event is not a JSON object")
                parts += self.parse(item)
            return parts
        if type(payload) is not dict:
            raise self._errors.protocol_error("an event is not a JSON object")
        if "error" in payload:
            raise self._errors.upstream_error(payload)
        if self.response_id is None and payload.get("responseId"):
            self.response_id = payload["responseId"]
        out: list[StreamPart] = []
        candidates = payload.get("candidates")
        finish: str | None = None
        meta: dict[str, Any] | None = None
        channel = META
        if candidates:
            candidate = candidates[0]
            self._content_parts(candidate.get("content") or {}, out)
            finish = candidate.get("finishReason")
            if finish is not None:
                self.finished = True
                meta = {"finish_reason": finish}
                if candidate.get("safetyRatings"):
                    meta["safety_ratings"] = candidate["safetyRatings"]
        feedback = payload.get("promptFeedback") or {}
        if feedback.get("blockReason"):
            self.finished = True
            finish = feedback["blockReason"]
            channel = REFUSAL
            meta = {"prompt_feedback": feedback}
        usage = self._usage(payload.get("usageMetadata"))
        if finish is None and usage is None:
            return out
        if payload.get("modelVersion"):
            meta = {**(meta or {}), "model_name": payload["modelVersion"]}
        if out and channel == META and out[-1].channel == TEXT:
            last = out[-1]  # ride on the last text part: one chunk, as the wire had it
            if last.metadata:  # a signed text part keeps its signature
                meta = {**last.metadata, **(meta or {})}
            last.usage, last.finish_reason, last.metadata = usage, finish, meta
        else:
            out.append(
                StreamPart(
                    "",
                    channel,
                    usage=usage,
                    finish_reason=finish,
                    metadata=meta,
                    id=self.response_id,
                )
            )
        return out

    def _content_parts(self, content: Mapping[str, Any], out: list[StreamPart]) -> None:
        for part in content.get("parts") or ():
            text = part.get("text")
            if text is not None:
                if part.get("thought"):
                    out.append(StreamPart(text, REASONING, id=self.response_id))
                else:
                    signature = part.get("thoughtSignature")
                    meta = (
                        {"thought_signatures": {TEXT_SIGNATURE: signature}} if signature else None
                    )
                    out.append(StreamPart(text, metadata=meta, id=self.response_id))
            elif "functionCall" in part:
                out.append(self._tool_call(part["functionCall"], part.get("thoughtSignature")))

    def finish(self) -> None:
        """The bytes ended: raise ``StreamTruncated`` unless a finish reason arrived."""
        if not self.finished:
            raise self._errors.truncated("a finishReason")

    def _tool_call(self, call: Mapping[str, Any], signature: Any) -> StreamPart:
        index = self._calls
        chunk = {
            "name": call.get("name"),
            "args": json.dumps(call.get("args") or {}),
            "id": call.get("id"),
            "index": index,
        }
        self._calls += 1
        meta = {"thought_signatures": {str(index): signature}} if signature else None
        return StreamPart("", TOOL_CALL, tool_call=chunk, metadata=meta, id=self.response_id)

    def _usage(self, usage: Mapping[str, Any] | None) -> UsageMetadata | None:
        if not usage:
            return None
        prompt = int(usage.get("promptTokenCount") or 0)
        reasoning = int(usage.get("thoughtsTokenCount") or 0)
        output = int(usage.get("candidatesTokenCount") or 0) + reasoning
        d_in, d_out, d_reason = (
            prompt - self._input,
            output - self._output,
            reasoning - self._reasoning,
        )
        if not (d_in or d_out or d_reason):
            return None
        self._input, self._output, self._reasoning = prompt, output, reasoning
        delta: UsageMetadata = {
            "input_tokens": d_in,
            "output_tokens": d_out,
            "total_tokens": d_in + d_out,
        }
        if d_reason:
            delta["output_token_details"] = {"reasoning": d_reason}
        return delta


#: Where a text part's ``thoughtSignature`` is kept in ``thought_signatures`` (the calls'
#: are kept under their positions, ``"0"``, ``"1"``...).
TEXT_SIGNATURE: Final = "text"


def gemini_contents(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """The conversation as ``contents`` (roles ``user`` / ``model``; system messages go to
    ``systemInstruction``).

    An assistant message's tool calls are ``functionCall`` parts after its text, each with
    the ``thoughtSignature`` it came with (``response_metadata["thought_signatures"]``, by
    call position), as thinking models require it back. A tool result is a
    ``functionResponse`` part naming the call it answers (found by ``tool_call_id``, else the
    next unanswered call: Gemini's calls often have no id), its content as the ``response``
    object when it is a JSON object, else under ``output``; the results of parallel calls
    share one ``user`` content.
    """
    out: list[dict[str, Any]] = []
    previous_tool = False
    for m, call in zip(messages, answered_calls(messages), strict=True):
        if m.role == "system":
            continue
        if isinstance(m, ToolMessage):
            response: dict[str, Any] = {
                "name": (call or {}).get("name") or "",
                "response": _response_object(m.content),
            }
            if call is not None and call.get("id"):
                response["id"] = call["id"]
            part = {"functionResponse": response}
            if previous_tool:
                out[-1]["parts"].append(part)
            else:
                out.append({"role": "user", "parts": [part]})
            previous_tool = True
            continue
        previous_tool = False
        parts = _call_parts(m) if isinstance(m, AIMessage) else [{"text": m.content}]
        out.append({"role": "model" if m.role == "assistant" else "user", "parts": parts})
    return out


def _call_parts(m: AIMessage) -> list[dict[str, Any]]:
    """An assistant message's text (with the ``thoughtSignature`` a text part came with),
    then a ``functionCall`` part per call (with its own, when one was kept)."""
    signatures = m.response_metadata.get("thought_signatures")
    if not isinstance(signatures, dict):
        signatures = {}
    parts: list[dict[str, Any]] = []
    if m.content or not m.tool_calls:
        text: dict[str, Any] = {"text": m.content}
        if signatures.get(TEXT_SIGNATURE):
            text["thoughtSignature"] = signatures[TEXT_SIGNATURE]
        parts.append(text)
    for position, call in enumerate(m.tool_calls):
        args = call.get("args")
        function: dict[str, Any] = {
            "name": call.get("name"),
            "args": args if isinstance(args, dict) else {},
        }
        if call.get("id"):
            function["id"] = call["id"]
        part: dict[str, Any] = {"functionCall": function}
        signature = signatures.get(str(position))
        if signature:
            part["thoughtSignature"] = signature
        parts.append(part)
    return parts


def _response_object(content: str) -> dict[str, Any]:
    try:
        value = json.loads(content)
    except ValueError:
        return {"output": content}
    return value if isinstance(value, dict) else {"output": value}


class GeminiModel(HTTPModel):
    """The ``gemini`` kind: a chat model over ``models/{model}:streamGenerateContent``."""

    ls_provider = "google_genai"
    Spec = GeminiSpec
    default_base_url = DEFAULT_BASE_URL
    api_key_envs = DEFAULT_KEY_ENVS
    flavor_default = "chat"
    stream_content_types = ("text/event-stream",)
    models_path = "/models"

    spec: GeminiSpec

    def _auth_headers(self) -> dict[str, str]:
        key = self._secret()
        return {"x-goog-api-key": key} if key else {}

    def _model_path(self, method: str) -> str:
        model = self.model.removeprefix("models/")
        return f"/models/{quote(model, safe='-._~@')}:{method}"

    def request_body(self, request: ModelRequest) -> dict[str, Any]:
        """``contents`` (roles ``user``/``model``), ``systemInstruction`` and
        ``generationConfig``; unknown per-call overrides are sent as given."""
        thinking: dict[str, Any] = {}
        if self.spec.thinking_budget is not None:
            thinking["thinkingBudget"] = self.spec.thinking_budget
        if self.spec.include_thoughts:
            thinking["includeThoughts"] = True
        nested = {"thinkingConfig": thinking} if thinking else None
        fields, system = map_params(_PARAMS, self.params, request, nested=nested)
        body: dict[str, Any] = {"contents": gemini_contents(request.messages)}
        system_parts = system_texts(request.messages, system)
        if system_parts:
            body["systemInstruction"] = {"parts": [{"text": text} for text in system_parts]}
        body.update(fields)
        return body

    def _astream(self, request: ModelRequest, ctx: RunContext) -> AsyncIterator[StreamPart]:
        path = self._model_path("streamGenerateContent")
        parser = GeminiStreamParser(self)
        body = self.request_body(request)
        return pump_sse(self, path, body, ctx, parser, params={"alt": "sse"})

    async def _agenerate(self, request: ModelRequest, ctx: RunContext) -> list[StreamPart]:
        path = self._model_path("generateContent")
        data = await self.post_json(path, self.request_body(request), ctx)
        return GeminiStreamParser(self).parse(data)

    async def list_models(self) -> list[str]:
        """Model names from ``GET models`` (``models/`` prefix removed), only those that
        can ``generateContent``; follows ``nextPageToken`` for up to 10 pages."""
        names: list[str] = []
        params = {"pageSize": "1000"}
        for _ in range(10):
            data = await self.get_json(self.models_path, params=params)
            names.extend(self._parse_models(data))
            token = data.get("nextPageToken") if isinstance(data, dict) else None
            if not token:
                break
            params = {"pageSize": "1000", "pageToken": str(token)}
        return sorted(names)

    def _parse_models(self, data: Any) -> list[str]:
        items = data.get("models") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise self.protocol_error("model list without a 'models' array")
        out = []
        for item in items:
            if not isinstance(item, dict) or not item.get("name"):
                continue
            methods = item.get("supportedGenerationMethods")
            if methods is not None and "generateContent" not in methods:
                continue  # embedding and other models the picker cannot use
            out.append(str(item["name"]).removeprefix("models/"))
        return out
