"""LangChain's Runnable interface for one language model, async-first.

``LanguageModel`` is the base of every backend. A backend implements ``_astream`` (a stream
of ``StreamPart``) and, if its provider has a non-streaming call, ``_agenerate``; everything a
caller sees is written here once: ``invoke``/``ainvoke``, ``batch``/``abatch`` (and the
``as_completed`` forms), ``stream``/``astream`` and ``astream_events`` v1 and v2, with the
outputs and event dicts langchain-core 1.7 produces for an equivalent ``BaseLLM`` or
``BaseChatModel`` (pinned by tests that run langchain-core on the same chunks).

Two flavours, as in LangChain: ``"llm"`` (input a string, ``stream`` yields ``str``,
``invoke`` returns ``str``) and ``"chat"`` (input a string or messages, ``stream`` yields
``AIMessageChunk`` ending with an empty ``chunk_position="last"`` chunk, ``invoke`` returns an
``AIMessage``). A backend that cannot stream, or runs with ``streaming=False``, yields exactly
one item from ``astream``: the final output, as LangChain's default implementation does.

Besides LangChain's config keys (``tags``, ``metadata``, ``run_name``, ``run_id``,
``max_concurrency``) a config may carry ``timeline``: a ``StreamTimeline`` the run records its
timestamps into, so callers get TTFB/TTFT/gaps without wrapping the iterator.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping, Sequence
from contextlib import aclosing as _aclosing
from typing import Any, Literal, TypedDict, TypeVar, cast

from ..errors import ProviderError
from .events import EventFilter
from .messages import (
    LC_ID_PREFIX,
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChunkAccumulator,
    TextAccumulator,
    add_usage,
    merge_dicts,
    to_messages,
    to_prompt,
)
from .metrics import StreamTimeline
from .parts import META, REASONING, REFUSAL, TEXT, TOOL_CALL, StreamPart
from .syncbridge import iterate_sync, run_sync

Flavor = Literal["llm", "chat"]
_T = TypeVar("_T")


def aclosing(iterator: AsyncIterator[_T]) -> _aclosing[AsyncGenerator[_T, None]]:
    """``contextlib.aclosing`` for what is annotated as an iterator but is a generator."""
    return _aclosing(cast(AsyncGenerator[_T, None], iterator))


async def _iterate(items: list[_T]) -> AsyncIterator[_T]:
    for item in items:
        yield item


ModelInput = str | Sequence[Any]


class RunnableConfig(TypedDict, total=False):
    tags: list[str]
    metadata: dict[str, Any]
    run_name: str
    run_id: uuid.UUID | str
    max_concurrency: int | None
    callbacks: Any
    configurable: dict[str, Any]
    timeline: StreamTimeline


class ModelRequest:
    """What a backend is asked for: the prompt (text LLMs) or messages (chat models),
    stop sequences and per-call overrides of the configured parameters."""

    __slots__ = ("messages", "overrides", "prompt", "stop")

    def __init__(
        self,
        prompt: str,
        messages: list[BaseMessage],
        stop: list[str] | None,
        overrides: dict[str, Any],
    ) -> None:
        self.prompt = prompt
        self.messages = messages
        self.stop = stop
        self.overrides = overrides


class RunContext:
    """Per-run state a backend may use: the run id and the timeline to mark first byte on."""

    __slots__ = ("run_id", "timeline")

    def __init__(self, run_id: uuid.UUID, timeline: StreamTimeline | None) -> None:
        self.run_id = run_id
        self.timeline = timeline

    def first_byte(self) -> None:
        if self.timeline is not None:
            self.timeline.first_byte()


def _uuid(value: uuid.UUID | str | None) -> uuid.UUID:
    if value is None:
        return uuid.uuid4()
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


class LanguageModel:
    """Base of every backend. Subclasses set ``ls_provider`` and implement ``_astream``."""

    #: The provider family, as LangChain's ``ls_provider`` (``openai``, ``anthropic``...).
    ls_provider: str = "llmstream"

    def __init__(
        self,
        *,
        name: str,
        model: str = "",
        flavor: Flavor = "chat",
        streaming: bool = True,
        tags: Sequence[str] = (),
        metadata: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.model = model
        self.flavor: Flavor = flavor
        self.streaming = streaming
        self.tags = list(tags)
        self.metadata = dict(metadata or {})
        self.params: dict[str, Any] = {k: v for k, v in (params or {}).items() if v is not None}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, model={self.model!r})"

    # -- what a backend provides -------------------------------------------------------------

    @property
    def can_stream(self) -> bool:
        """True when the class implements ``_astream``."""
        return type(self)._astream is not LanguageModel._astream

    async def _astream(self, request: ModelRequest, ctx: RunContext) -> AsyncIterator[StreamPart]:
        raise NotImplementedError
        yield  # pragma: no cover  # makes this an async generator

    async def _agenerate(self, request: ModelRequest, ctx: RunContext) -> list[StreamPart]:
        """One non-streaming call. The default collects ``_astream``; providers with a
        non-streaming endpoint override it."""
        async with aclosing(self._astream(request, ctx)) as parts:
            return [p async for p in parts]

    async def aclose(self) -> None:
        """Release what the backend holds (HTTP clients it created itself)."""

    # -- helpers -----------------------------------------------------------------------------

    @property
    def run_type(self) -> str:
        return "chat_model" if self.flavor == "chat" else "llm"

    def _request(
        self, value: ModelInput, stop: list[str] | None, kw: dict[str, Any]
    ) -> ModelRequest:
        if self.flavor == "chat":
            messages = to_messages(value)
            return ModelRequest("", messages, stop, kw)
        if not isinstance(value, str | Sequence):
            raise TypeError(f"a text LLM takes a string, not {type(value).__name__}")
        return ModelRequest(to_prompt(value), [], stop, kw)

    def ls_params(self, stop: list[str] | None) -> dict[str, Any]:
        """LangSmith's standard parameters, as ``_get_ls_params`` reports them."""
        out: dict[str, Any] = {
            "ls_provider": self.ls_provider,
            "ls_model_type": "chat" if self.flavor == "chat" else "llm",
        }
        if self.model:
            out["ls_model_name"] = self.model
        if self.params.get("temperature") is not None:
            out["ls_temperature"] = self.params["temperature"]
        if self.params.get("max_tokens") is not None:
            out["ls_max_tokens"] = self.params["max_tokens"]
        stop = stop or self.params.get("stop")
        if stop:
            out["ls_stop"] = stop
        return out

    def _chunk(self, part: StreamPart, default_id: str) -> AIMessageChunk:
        channel = part.channel
        text = part.text
        if (
            channel == TEXT
            and part.finish_reason is None
            and not part.metadata
            and part.usage is None
        ):
            return AIMessageChunk.plain(text, part.id or default_id)
        kwargs: dict[str, Any] = {}
        if channel == REFUSAL:
            kwargs["additional_kwargs"] = {"refusal": text}
        elif channel == REASONING:
            kwargs["additional_kwargs"] = {"reasoning_content": text}
            text = ""
        elif channel == TOOL_CALL:
            kwargs["tool_call_chunks"] = [part.tool_call] if part.tool_call else []
            text = ""
        elif channel == META:
            text = ""
        if part.finish_reason is not None or part.metadata:
            meta = dict(part.metadata or {})
            if part.finish_reason is not None:
                meta["finish_reason"] = part.finish_reason
            kwargs["response_metadata"] = meta
        if part.usage is not None:
            kwargs["usage_metadata"] = part.usage
        return AIMessageChunk(text, id=part.id or default_id, **kwargs)

    async def _items(
        self,
        value: ModelInput,
        config: RunnableConfig,
        run_id: uuid.UUID,
        stop: list[str] | None,
        kw: dict[str, Any],
        streaming: bool,
        received: TextAccumulator,
    ) -> AsyncIterator[Any]:
        """What ``astream`` yields for a run: ``str`` or ``AIMessageChunk``. Also records the
        timeline, so every public method measures the same way, and adds the answer text
        (text and refusal channels) to ``received``: the caller's own sum, so a chunk's text
        is accumulated once however many layers look at it, and a ``ProviderError`` carries
        the partial answer."""
        request = self._request(value, stop, kw)
        ctx = RunContext(run_id, config.get("timeline"))
        timeline = ctx.timeline
        chat = self.flavor == "chat"
        default_id = f"{LC_ID_PREFIX}-{run_id}"
        keep = received.add
        if timeline is not None and timeline.start_ns is None:
            timeline.start()
        try:
            # one generator fewer per chunk than wrapping the provider's: this loop is the
            # whole per-chunk cost of the core
            if streaming:
                parts: AsyncIterator[StreamPart] = self._astream(request, ctx)
            else:
                parts = _iterate(await self._agenerate(request, ctx))
            async with aclosing(parts):
                async for part in parts:
                    channel = part.channel
                    counts = channel == TEXT or channel == REFUSAL
                    if counts:
                        keep(part.text)
                        if timeline is not None:
                            timeline.chunk(part.text)
                    if part.usage is not None and timeline is not None:
                        timeline.add_usage(part.usage.get("output_tokens"))
                    if chat:
                        yield self._chunk(part, default_id)
                        continue
                    if counts:
                        yield part.text
                    if part.finish_reason is not None or part.metadata or part.usage:
                        yield _GenerationInfo(part)
        except ProviderError as exc:
            if not exc.partial_text:
                exc.partial_text = received.text()
            if not exc.provider:
                exc.provider = self.name
            raise
        finally:
            if timeline is not None:
                timeline.finish()
        if chat:
            yield AIMessageChunk("", chunk_position="last", id=default_id)

    # -- invoke ------------------------------------------------------------------------------

    async def ainvoke(
        self,
        input: ModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """The whole answer: ``str`` for a text LLM, ``AIMessage`` for a chat model."""
        config = config or {}
        run_id = _uuid(config.get("run_id"))
        final, _ = await self._final(input, config, run_id, stop, kwargs)
        return final

    async def _final(
        self,
        value: ModelInput,
        config: RunnableConfig,
        run_id: uuid.UUID,
        stop: list[str] | None,
        kw: dict[str, Any],
    ) -> tuple[Any, dict[str, Any] | None]:
        """(final output, a text LLM's merged generation_info)."""
        streaming = self.streaming and self.can_stream
        texts = TextAccumulator()
        chunks = ChunkAccumulator(texts)
        info: dict[str, Any] | None = None
        async with aclosing(
            self._items(value, config, run_id, stop, kw, streaming, texts)
        ) as items:
            async for item in items:
                if isinstance(item, AIMessageChunk):
                    if item.chunk_position != "last":  # our closing marker: not in the sum
                        chunks.add(item)
                elif not isinstance(item, str):
                    info = _merge_info(info, item.info)
        if self.flavor == "llm":
            return texts.text(), info
        total = chunks.result() or AIMessageChunk("")
        message = total.to_message()
        if not message.id or message.id.startswith(LC_ID_PREFIX):
            message.id = f"{LC_ID_PREFIX}-{run_id}-0"
        return message, None

    def invoke(
        self,
        input: ModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        return run_sync(self.ainvoke(input, config, stop=stop, **kwargs))

    # -- batch -------------------------------------------------------------------------------

    def _configs(
        self, config: RunnableConfig | Sequence[RunnableConfig] | None, n: int
    ) -> list[RunnableConfig]:
        if config is None:
            return [{} for _ in range(n)]
        if isinstance(config, Mapping):
            base: RunnableConfig = dict(config)  # type: ignore[assignment]
            out = []
            for i in range(n):
                c: RunnableConfig = dict(base)  # type: ignore[assignment]
                if i > 0:
                    c.pop("run_id", None)
                c.pop("timeline", None)
                out.append(c)
            return out
        configs = list(config)
        if len(configs) != n:
            raise ValueError(f"batch got {n} inputs but {len(configs)} configs")
        return configs

    async def abatch_as_completed(
        self,
        inputs: Sequence[ModelInput],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> AsyncIterator[tuple[int, Any]]:
        """``(index, output)`` pairs in the order runs finish."""
        configs = self._configs(config, len(inputs))
        limit = configs[0].get("max_concurrency") if configs else None
        gate = asyncio.Semaphore(limit) if limit else None

        async def one(i: int) -> tuple[int, Any]:
            try:
                if gate is None:
                    return i, await self.ainvoke(inputs[i], configs[i], **kwargs)
                async with gate:
                    return i, await self.ainvoke(inputs[i], configs[i], **kwargs)
            except Exception as exc:
                if return_exceptions:
                    return i, exc
                raise

        tasks = [asyncio.ensure_future(one(i)) for i in range(len(inputs))]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def abatch(
        self,
        inputs: Sequence[ModelInput],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Outputs in input order; ``max_concurrency`` from the config bounds parallel runs."""
        out: list[Any] = [None] * len(inputs)
        async with aclosing(
            self.abatch_as_completed(inputs, config, return_exceptions=return_exceptions, **kwargs)
        ) as results:
            async for i, value in results:
                out[i] = value
        return out

    def batch(
        self,
        inputs: Sequence[ModelInput],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        return run_sync(self.abatch(inputs, config, return_exceptions=return_exceptions, **kwargs))

    def batch_as_completed(
        self,
        inputs: Sequence[ModelInput],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> Iterator[tuple[int, Any]]:
        return iterate_sync(
            self.abatch_as_completed(inputs, config, return_exceptions=return_exceptions, **kwargs)
        )

    # -- stream ------------------------------------------------------------------------------

    async def astream(
        self,
        input: ModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Chunks as they arrive; closing the iterator closes the connection behind it."""
        config = config or {}
        run_id = _uuid(config.get("run_id"))
        if not (self.streaming and self.can_stream):
            yield (await self._final(input, config, run_id, stop, kwargs))[0]
            return
        async with aclosing(
            self._items(input, config, run_id, stop, kwargs, True, TextAccumulator())
        ) as items:
            async for item in items:
                if type(item) is not _GenerationInfo:
                    yield item

    def stream(
        self,
        input: ModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[Any]:
        return iterate_sync(self.astream(input, config, stop=stop, **kwargs))

    # -- events ------------------------------------------------------------------------------

    async def astream_events(
        self,
        input: ModelInput,
        config: RunnableConfig | None = None,
        *,
        version: Literal["v1", "v2"] = "v2",
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        """The event trace langchain-core 1.7 emits for this model as the root runnable.

        v2: ``on_*_start`` (``data.input`` = the raw input), one ``on_*_stream`` per chunk
        (none when the run does not really stream), ``on_*_end`` (``data.output``: the
        ``generations`` dict for a text LLM, the summed message chunk for a chat model).
        v1: the same names, metadata as given (no ``ls_*``), a stream event even for a single
        non-streamed output, and the end output is the sum of everything streamed.
        An exception leaves the iterator after the events already emitted; there is no
        error event.
        """
        if version not in ("v1", "v2"):
            raise NotImplementedError('only versions "v1" and "v2" of the schema are supported')
        config = config or {}
        run_id = _uuid(config.get("run_id"))
        name = config.get("run_name") or self.name
        tags = [*(config.get("tags") or []), *self.tags]
        metadata: dict[str, Any] = {**(config.get("metadata") or {})}
        if version == "v2":
            metadata = {**metadata, **self.metadata, **self.ls_params(stop)}
        kind = self.run_type
        emit = EventFilter(
            include_names, include_types, include_tags, exclude_names, exclude_types, exclude_tags
        ).admits(name, kind, tags)
        rid = str(run_id)
        start, stream_ev, end = f"on_{kind}_start", f"on_{kind}_stream", f"on_{kind}_end"
        streaming = self.streaming and self.can_stream
        chat = self.flavor == "chat"

        if emit:
            yield {
                "event": start,
                "data": {"input": input},
                "name": name,
                "tags": tags,
                "run_id": rid,
                "metadata": metadata,
                "parent_ids": [],
            }
        if not streaming:
            final, info = await self._final(input, config, run_id, stop, kwargs)
            if not emit:
                return
            if version == "v1":
                yield {
                    "event": stream_ev,
                    "run_id": rid,
                    "name": name,
                    "tags": tags,
                    "metadata": metadata,
                    "data": {"chunk": final},
                    "parent_ids": [],
                }
                output: Any = final
            elif chat:
                output = final
            else:
                output = _llm_output(final, info)
            yield {
                "event": end,
                "data": {"output": output},
                "run_id": rid,
                "name": name,
                "tags": tags,
                "metadata": metadata,
                "parent_ids": [],
            }
            return

        # The end event's output is a running sum: nothing is kept per chunk. LangChain's v2
        # output leaves out the closing ``chunk_position="last"`` marker; v1's includes it.
        texts = TextAccumulator()
        chunks = ChunkAccumulator(texts)
        info = None
        v1 = version == "v1"
        async with aclosing(self._items(input, config, run_id, stop, kwargs, True, texts)) as items:
            async for item in items:
                if chat:
                    if v1 or item.chunk_position != "last":
                        chunks.add(item)
                elif type(item) is _GenerationInfo:
                    info = _merge_info(info, item.info)
                    continue
                if emit:
                    yield {
                        "event": stream_ev,
                        "run_id": rid,
                        "name": name,
                        "tags": tags,
                        "metadata": metadata,
                        "data": {"chunk": item},
                        "parent_ids": [],
                    }
        if not emit:
            return
        if chat:
            output = chunks.result() or AIMessageChunk("")
        elif v1:
            output = texts.text()
        else:
            output = _llm_output(texts.text(), info)
        yield {
            "event": end,
            "data": {"output": output},
            "run_id": rid,
            "name": name,
            "tags": tags,
            "metadata": metadata,
            "parent_ids": [],
        }


class _GenerationInfo:
    """A text LLM's metadata (stop reason, usage): not yielded by ``astream``, merged into
    ``generation_info`` of the end event as LangChain merges chunk infos. Usage goes under
    ``usage`` there (LangChain's text LLMs have no other place for it in a stream)."""

    __slots__ = ("info",)

    def __init__(self, part: StreamPart) -> None:
        info = dict(part.metadata or {})
        if part.finish_reason is not None:
            info["finish_reason"] = part.finish_reason
        if part.usage:
            info["usage"] = dict(part.usage)
        self.info = info


def _merge_info(info: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Merge generation infos; usage deltas add up rather than overwrite."""
    usage = new.get("usage")
    if usage is None or info is None or "usage" not in info:
        return merge_dicts(info or {}, new)
    merged = merge_dicts(info, {k: v for k, v in new.items() if k != "usage"})
    merged["usage"] = add_usage(info["usage"], usage)
    return merged


def _llm_output(text: str, info: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "generations": [[{"text": text, "generation_info": info or None, "type": "Generation"}]],
        "llm_output": None,
    }


__all__ = [
    "AIMessage",
    "Flavor",
    "LanguageModel",
    "ModelInput",
    "ModelRequest",
    "RunContext",
    "RunnableConfig",
]
