"""``langchain``: any LangChain runnable, named ``"module:attribute"``, as a backend.

The app then shows a LangChain chain or model exactly as it shows our own providers: our
``astream``/``astream_events`` drive the wrapped runnable's ``astream`` and turn what it
yields into ``StreamPart`` values. Nothing here imports ``langchain_core``: the wrapped
object is used through its public methods (duck typing), so the optional extra costs nothing
until a ``langchain`` provider is configured, and the import of ``target`` happens at the
first run, not when the config is read.

Conversion of each item the runnable yields:

- ``str`` (a text LLM, a chain ending in ``StrOutputParser``): the answer text.
- a message chunk (``AIMessageChunk``): ``content`` (a string, or a list of content blocks
  whose ``text`` blocks are the answer and ``thinking``/``reasoning`` blocks the REASONING
  channel); ``additional_kwargs["reasoning_content"]`` (or ``reasoning``) to REASONING and
  ``["refusal"]`` to REFUSAL; each of ``tool_call_chunks`` to TOOL_CALL; ``usage_metadata``
  as the usage delta (LangChain chunks already carry deltas: they add up with ``+``);
  ``response_metadata``'s ``finish_reason`` (or ``stop_reason``/``done_reason``, as the
  Anthropic and Ollama integrations name it) as the finish reason, the rest as metadata.
- anything else: its ``str()`` as text, so a chain of any output type still shows something.

With ``stream = false`` the runnable's ``ainvoke`` is called once and its result converted
the same way (a whole ``AIMessage``'s ``tool_calls`` become one tool-call chunk each).
An exception from the runnable becomes an ``UpstreamError`` naming its type.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal, cast

from pydantic import Field

from ..core.backend import ModelRequest, RunContext
from ..core.inert import escape_controls
from ..core.messages import LC_AUTO_PREFIX, BaseMessage, UsageMetadata
from ..core.parts import META, REASONING, REFUSAL, TEXT, TOOL_CALL, StreamPart
from ..core.runnable import LanguageModel
from ..errors import ConfigError, ProviderError, UpstreamError
from .spec import ProviderSpec

#: Keys of ``response_metadata`` that name the stop reason, by integration.
_FINISH_KEYS = ("finish_reason", "stop_reason", "done_reason")
#: LangChain's own message roles for our ``BaseMessage.type`` values.
_LC_ROLES = {"system": "system", "human": "human", "ai": "ai"}


class LangChainSpec(ProviderSpec):
    """Options of the ``langchain`` kind."""

    kind: Literal["langchain"] = "langchain"
    #: ``"package.module:attribute"``: a runnable, or a callable taking no argument that
    #: returns one (a factory, so building the runnable may read its own settings).
    target: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
    #: ``chat``: the input is a message list and the output message chunks; ``llm``: the
    #: input is a prompt string and the output text.
    flavor: Literal["llm", "chat"] = "chat"


def load_target(target: str) -> Any:
    """Import ``module:attribute`` (dotted attributes allowed) and return the runnable.

    A value without ``astream`` is called with no arguments (a factory). ``ConfigError``
    names the target when the import, the attribute or the factory fails.
    """
    module_name, _, attribute = target.partition(":")
    try:
        value: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"langchain target {target!r}: cannot import {module_name!r}: {exc}"
        ) from None
    for name in attribute.split("."):
        try:
            value = getattr(value, name)
        except AttributeError:
            raise ConfigError(f"langchain target {target!r}: no attribute {name!r}") from None
    if not hasattr(value, "astream"):
        if not callable(value):
            raise ConfigError(f"langchain target {target!r} is neither a runnable nor a factory")
        try:
            value = value()
        except Exception as exc:  # the factory is user code: report it, whatever it raised
            raise ConfigError(
                f"langchain target {target!r}: the factory failed: {type(exc).__name__}"
            ) from exc
        if not hasattr(value, "astream"):
            raise ConfigError(
                f"langchain target {target!r}: the factory returned "
                f"{type(value).__name__}, not a runnable"
            )
    return value


def convert(item: Any, *, whole: bool = False) -> list[StreamPart]:  # noqa: C901  # per chunk: one flat pass over a chunk's fields
    """The parts one item from the runnable stands for (``whole``: a complete ``AIMessage``,
    whose parsed ``tool_calls`` are turned back into chunks)."""
    if type(item) is str:
        return [StreamPart(item)]
    content = getattr(item, "content", None)
    if content is None:
        return [StreamPart(str(item))] if item is not None else []
    out: list[StreamPart] = []
    part_id = getattr(item, "id", None)
    if part_id and part_id.startswith(LC_AUTO_PREFIX):
        part_id = None  # LangChain's run id for the inner run: ours takes its place
    extra: Mapping[str, Any] = getattr(item, "additional_kwargs", None) or {}
    reasoning = extra.get("reasoning_content") or extra.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        out.append(StreamPart(reasoning, REASONING, id=part_id))
    if isinstance(content, str):
        if content:
            out.append(StreamPart(content, id=part_id))
    else:
        for block in content:
            out.extend(_block(block, part_id))
    refusal = extra.get("refusal")
    if isinstance(refusal, str) and refusal:
        out.append(StreamPart(refusal, REFUSAL, id=part_id))
    chunks = list(getattr(item, "tool_call_chunks", None) or ())
    if whole and not chunks:
        for index, call in enumerate(getattr(item, "tool_calls", None) or ()):
            chunks.append(
                {
                    "name": call.get("name"),
                    "args": json.dumps(call.get("args") or {}),
                    "id": call.get("id"),
                    "index": index,
                }
            )
    for chunk in chunks:
        out.append(
            StreamPart(
                "",
                TOOL_CALL,
                id=part_id,
                tool_call={
                    "name": chunk.get("name"),
                    "args": chunk.get("args"),
                    "id": chunk.get("id"),
                    "index": chunk.get("index"),
                },
            )
        )
    if not out and not chunks and getattr(item, "chunk_position", None) != "last":
        out.append(StreamPart("", id=part_id))  # an empty chunk is still a chunk boundary
    usage = getattr(item, "usage_metadata", None)
    meta = dict(getattr(item, "response_metadata", None) or {})
    finish = None
    for key in _FINISH_KEYS:
        if meta.get(key) is not None:
            finish = str(meta.pop(key))
            break
    if usage or finish is not None or meta:
        usage_delta = cast("UsageMetadata | None", dict(usage) if usage else None)
        if out and out[-1].channel == TEXT:
            last = out[-1]  # ride on the text: one chunk in, one chunk out
            last.usage, last.finish_reason, last.metadata = usage_delta, finish, meta or None
        else:
            out.append(
                StreamPart(
                    "",
                    META,
                    usage=usage_delta,
                    finish_reason=finish,
                    metadata=meta or None,
                    id=part_id,
                )
            )
    return out


def _block(block: Any, part_id: str | None) -> list[StreamPart]:
    """One content block of a list-valued ``content`` (Anthropic-style integrations)."""
    if isinstance(block, str):
        return [StreamPart(block, id=part_id)] if block else []
    if not isinstance(block, Mapping):
        return []
    kind = block.get("type")
    if kind == "text" and block.get("text"):
        return [StreamPart(str(block["text"]), id=part_id)]
    if kind in ("thinking", "reasoning"):
        text = block.get(kind) or block.get("text") or ""
        return [StreamPart(str(text), REASONING, id=part_id)] if text else []
    return []


def _lc_messages(messages: list[BaseMessage]) -> list[tuple[str, str]]:
    """Our messages as ``(role, content)`` tuples, which every LangChain chat model accepts
    (so no ``langchain_core`` import is needed here)."""
    return [(_LC_ROLES.get(m.type, m.role), m.content) for m in messages]


class LangChainModel(LanguageModel):
    """A LangChain runnable behind our interface (``target`` imported when built)."""

    ls_provider = "langchain"
    Spec = LangChainSpec

    def __init__(self, spec: LangChainSpec, *, name: str, runnable: Any = None) -> None:
        super().__init__(
            name=name,
            model=spec.model or spec.target,
            flavor=spec.flavor,
            streaming=spec.stream,
            tags=spec.tags,
            params=spec.params.model_dump(),
        )
        self.spec = spec
        self.runnable = runnable if runnable is not None else load_target(spec.target)

    @classmethod
    def from_spec(cls, name: str, spec: LangChainSpec, client: Any = None) -> LangChainModel:
        """Imports ``target`` now, so a wrong name is a ``ConfigError`` before any run."""
        return cls(spec, name=name)

    def _input(self, request: ModelRequest) -> Any:
        if self.flavor == "chat":
            messages = list(request.messages)
            system = self.params.get("system")
            if system and not any(m.type == "system" for m in messages):
                return [("system", system), *_lc_messages(messages)]
            return _lc_messages(messages)
        return request.prompt

    def _kwargs(self, request: ModelRequest) -> dict[str, Any]:
        stop = request.stop or self.params.get("stop")
        return {"stop": stop} if stop else {}

    async def _astream(self, request: ModelRequest, ctx: RunContext) -> AsyncIterator[StreamPart]:
        first = True
        stream = self.runnable.astream(self._input(request), **self._kwargs(request))
        try:
            async for item in stream:
                if first:
                    ctx.first_byte()
                    first = False
                for part in convert(item):
                    yield part
        except (ProviderError, asyncio.CancelledError, GeneratorExit):
            raise
        except Exception as exc:
            raise _upstream(exc) from exc
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:  # closing our iterator closes the runnable's at once
                await close()

    async def _agenerate(self, request: ModelRequest, ctx: RunContext) -> list[StreamPart]:
        try:
            result = await self.runnable.ainvoke(self._input(request), **self._kwargs(request))
        except ProviderError:
            raise
        except Exception as exc:
            raise _upstream(exc) from exc
        ctx.first_byte()
        return convert(result, whole=True)


def _upstream(exc: BaseException) -> UpstreamError:
    """The runnable's exception as one line: its type and the start of its message."""
    message = escape_controls(" ".join(str(exc).split()))[:300]
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return UpstreamError(text)
