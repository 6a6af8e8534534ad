"""LangChain's Runnable interface for one language model, async-first.

``LanguageModel`` is the base of every backend. A backend implements ``_astream`` (a stream
of ``StreamPart``) and, if its provider has a non-streaming call, ``_agenerate`` (the contract
is in ``core.backend``); everything a caller sees is written here once: ``invoke``/
``ainvoke``, ``batch``/``abatch`` (and the ``as_completed`` forms, in ``core.batch``),
``stream``/``astream`` and ``astream_events`` v1 and v2, with the outputs and event dicts
langchain-core 1.7 produces for an equivalent ``BaseLLM`` or ``BaseChatModel`` (pinned by
tests that run langchain-core on the same chunks).

Two flavours, as in LangChain, and a type for each: ``TextLLM`` (input a string, ``stream``
yields ``str``, ``invoke`` returns ``str``) and ``ChatModel`` (input a string or messages,
``stream`` yields ``AIMessageChunk`` ending with an empty ``chunk_position="last"`` chunk,
``invoke`` returns an ``AIMessage``). Both are ``LanguageModel`` with its two type parameters
(the whole answer, one streamed piece) bound; ``build_llm(..., flavor="chat")`` returns a
``ChatModel``. A backend that cannot stream, or runs with ``streaming=False``, yields exactly
one item from ``astream``: the final output, as LangChain's default implementation does (for
a chat model that item is the ``AIMessage`` itself, as in LangChain).

Besides LangChain's config keys (``tags``, ``metadata``, ``run_name``, ``run_id``,
``max_concurrency``) a config may carry ``timeline``: a ``StreamTimeline`` the run records its
timestamps into, so callers get TTFB/TTFT/gaps without wrapping the iterator.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, Generic, Literal, cast

from typing_extensions import TypeVar

from ..errors import ProviderError
from .accumulate import ChunkAccumulator, TextAccumulator
from .backend import (
    Backend,
    Flavor,
    ModelInput,
    ModelRequest,
    RunContext,
    RunnableConfig,
    aclosing,
    iterate_list,
    run_uuid,
)
from .batch import Batching
from .events import EventFilter, StreamEvent
from .messages import LC_ID_PREFIX, AIMessage, AIMessageChunk
from .outputs import GenerationInfo, llm_result, merge_generation_info, part_to_chunk
from .parts import META, REFUSAL, TEXT, StreamPart
from .syncbridge import iterate_sync, run_sync

#: The whole answer (``invoke``): ``AIMessage`` for a chat model, ``str`` for a text LLM.
OutT_co = TypeVar("OutT_co", covariant=True, default=AIMessage | str)
#: One streamed piece (``stream``): ``AIMessageChunk`` for a chat model, ``str`` for a text LLM.
ChunkT_co = TypeVar("ChunkT_co", covariant=True, default=AIMessageChunk | str)


def closing_marker(chunk: AIMessageChunk) -> bool:
    """The empty ``chunk_position="last"`` chunk that closes a chat stream: left out of the
    sums (it carries nothing). A source's own last chunk with content is not one."""
    return (
        chunk.chunk_position == "last"
        and not chunk.content
        and not chunk.tool_call_chunks
        and not chunk.additional_kwargs
        and not chunk.response_metadata
        and chunk.usage_metadata is None
    )


class StreamOutput:
    """Where ``LanguageModel.astream_to`` leaves the run's end output."""

    __slots__ = ("output",)

    def __init__(self) -> None:
        #: ``astream_events`` v2's end output, once the stream is exhausted; None before
        self.output: Any = None


class LanguageModel(Backend, Batching[OutT_co], Generic[OutT_co, ChunkT_co]):
    """Base of every backend: the contract of ``Backend`` plus the Runnable front.
    Unparameterised it stands for either flavour."""

    async def _items(  # noqa: C901  # the per-chunk loop of every run, flat on purpose (bench/)
        self,
        value: ModelInput,
        config: RunnableConfig,
        run_id: uuid.UUID,
        stop: list[str] | None,
        kw: dict[str, Any],
        streaming: bool,
        received: TextAccumulator,
    ) -> AsyncIterator[Any]:
        """What ``astream`` yields for a run: ``str`` or ``AIMessageChunk`` (and, for a text
        LLM, ``GenerationInfo`` items ``astream`` drops). Also records the timeline, so every
        public method measures the same way, and adds the answer text (the TEXT channel
        only: a refusal is not content) to ``received``: the caller's own sum, so a chunk's
        text is accumulated once however many layers look at it. A ``ProviderError`` carries
        what arrived: the answer text, then any refusal text.

        Reasoning, tool-call and refusal parts go to ``timeline.side`` (their own counts and
        times; TTFT stays the first answer chunk's); a text LLM, which has no other place for
        a refusal, gets it in ``generation_info["refusal"]``."""
        request = self._request(value, stop, kw)
        ctx = RunContext(run_id, config.get("timeline"))
        timeline = ctx.timeline
        chat = self.flavor == "chat"
        default_id = f"{LC_ID_PREFIX}-{run_id}"
        keep = received.add
        plain = AIMessageChunk.plain
        refusal: list[str] = []
        closed = False  # the source marked its own last chunk
        if timeline is not None and timeline.start_ns is None:
            timeline.start()
        try:
            # one generator fewer per chunk than wrapping the provider's: this loop is the
            # whole per-chunk cost of the core
            if streaming:
                parts: AsyncIterator[StreamPart] = self._astream(request, ctx)
            else:
                parts = iterate_list(await self._agenerate(request, ctx))
            async with aclosing(parts):
                async for part in parts:
                    channel = part.channel
                    if channel == TEXT:
                        text = part.text
                        keep(text)
                        if timeline is not None:
                            timeline.chunk(text)
                        if (
                            chat
                            and part.usage is None
                            and part.finish_reason is None
                            and not part.metadata
                            and not part.last
                        ):  # plain answer text: ``part_to_chunk``'s first case, inlined
                            yield plain(text, part.id or default_id)
                            continue
                    elif channel != META:
                        if channel == REFUSAL:
                            refusal.append(part.text)
                        if timeline is not None:
                            timeline.side(channel, part.text)
                    usage = part.usage
                    if usage is not None and timeline is not None:
                        details = usage.get("output_token_details")
                        timeline.add_usage(
                            usage.get("output_tokens"),
                            details.get("reasoning") if details else None,
                        )
                    if chat:
                        chunk = part_to_chunk(part, default_id)
                        if part.last:
                            chunk.chunk_position = "last"
                            closed = True
                        yield chunk
                        continue
                    if channel == TEXT:
                        yield part.text
                    if (
                        part.finish_reason is not None
                        or part.metadata
                        or usage
                        or channel == REFUSAL
                    ):
                        yield GenerationInfo(part)
        except ProviderError as exc:
            if not exc.partial_text:
                exc.partial_text = received.text() + "".join(refusal)
            if not exc.provider:
                exc.provider = self.name
            raise
        finally:
            if timeline is not None:
                timeline.finish()
        if chat and not closed:
            yield AIMessageChunk("", chunk_position="last", id=default_id)

    # -- invoke ------------------------------------------------------------------------------

    async def ainvoke(
        self,
        input: ModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> OutT_co:
        """The whole answer: ``str`` for a text LLM, ``AIMessage`` for a chat model."""
        config = config or {}
        run_id = run_uuid(config.get("run_id"))
        final, _ = await self._final(input, config, run_id, stop, kwargs)
        return cast(OutT_co, final)

    async def _final(
        self,
        value: ModelInput,
        config: RunnableConfig,
        run_id: uuid.UUID,
        stop: list[str] | None,
        kw: dict[str, Any],
    ) -> tuple[AIMessage | str, dict[str, Any] | None]:
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
                    if not closing_marker(item):  # our closing marker: not in the sum
                        chunks.add(item)
                elif not isinstance(item, str):
                    info = merge_generation_info(info, item.info)
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
    ) -> OutT_co:
        return run_sync(self.ainvoke(input, config, stop=stop, **kwargs))

    # -- stream ------------------------------------------------------------------------------

    async def astream(
        self,
        input: ModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChunkT_co]:
        """Chunks as they arrive; closing the iterator closes the connection behind it."""
        config = config or {}
        run_id = run_uuid(config.get("run_id"))
        if not (self.streaming and self.can_stream):
            yield cast(ChunkT_co, (await self._final(input, config, run_id, stop, kwargs))[0])
            return
        async with aclosing(
            self._items(input, config, run_id, stop, kwargs, True, TextAccumulator())
        ) as items:
            async for item in items:
                if type(item) is not GenerationInfo:
                    yield item

    def stream(
        self,
        input: ModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[ChunkT_co]:
        return iterate_sync(self.astream(input, config, stop=stop, **kwargs))

    async def astream_to(
        self,
        input: ModelInput,
        result: StreamOutput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChunkT_co]:
        """What ``astream_events`` v2 streams, without its events: the ``data.chunk`` of
        each of its stream events, as many and in order, and, once exhausted,
        ``result.output`` is its end event's ``data.output`` (nothing streams when the run
        does not really stream). For a caller that reads nothing else of the events
        (``stream`` printing an answer it does not record): two dicts and a generator
        layer less per chunk. A class that overrides ``astream_events`` is not described
        by this; the caller checks (``streams_like_its_events``)."""
        config = config or {}
        run_id = run_uuid(config.get("run_id"))
        if not (self.streaming and self.can_stream):
            final, info = await self._final(input, config, run_id, stop, kwargs)
            result.output = final if self.flavor == "chat" else llm_result(cast(str, final), info)
            return
        texts = TextAccumulator()
        chunks = ChunkAccumulator(texts)
        info = None
        chat = self.flavor == "chat"
        async with aclosing(self._items(input, config, run_id, stop, kwargs, True, texts)) as items:
            async for item in items:
                if chat:
                    if item.chunk_position is None or not closing_marker(item):
                        chunks.add(item)
                elif type(item) is GenerationInfo:
                    info = merge_generation_info(info, item.info)
                    continue
                yield item
        if chat:
            result.output = chunks.result() or AIMessageChunk("")
        else:
            result.output = llm_result(texts.text(), info)

    def streams_like_its_events(self) -> bool:
        """Whether ``astream_to`` gives what this model's ``astream_events`` v2 streams (it
        is the base's, not an override)."""
        return type(self).astream_events is LanguageModel.astream_events

    # -- events ------------------------------------------------------------------------------
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
    ) -> AsyncIterator[StreamEvent[ChunkT_co]]:
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
        run_id = run_uuid(config.get("run_id"))
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
        chat = self.flavor == "chat"
        v1 = version == "v1"
        output: object

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
        if not (self.streaming and self.can_stream):
            final, info = await self._final(input, config, run_id, stop, kwargs)
            if not emit:
                return
            if v1:
                yield {
                    "event": stream_ev,
                    "run_id": rid,
                    "name": name,
                    "tags": tags,
                    "metadata": metadata,
                    "data": {"chunk": cast(ChunkT_co, final)},
                    "parent_ids": [],
                }
            output = final if v1 or chat else llm_result(cast(str, final), info)
        else:
            # The end event's output is a running sum: nothing is kept per chunk. LangChain's
            # v2 output leaves out the closing ``chunk_position="last"`` marker; v1's has it.
            texts = TextAccumulator()
            chunks = ChunkAccumulator(texts)
            info = None
            async with aclosing(
                self._items(input, config, run_id, stop, kwargs, True, texts)
            ) as items:
                async for item in items:
                    if chat:
                        # only a "last" chunk can be the closing marker: no call per chunk
                        if v1 or item.chunk_position is None or not closing_marker(item):
                            chunks.add(item)
                    elif type(item) is GenerationInfo:
                        info = merge_generation_info(info, item.info)
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
            else:
                output = texts.text() if v1 else llm_result(texts.text(), info)
        yield {
            "event": end,
            "data": {"output": output},
            "run_id": rid,
            "name": name,
            "tags": tags,
            "metadata": metadata,
            "parent_ids": [],
        }


#: A chat model: ``invoke`` returns ``AIMessage``, ``stream`` yields ``AIMessageChunk``.
ChatModel = LanguageModel[AIMessage, AIMessageChunk]
#: A text LLM: ``invoke`` returns ``str``, ``stream`` yields ``str``.
TextLLM = LanguageModel[str, str]

__all__ = [
    "AIMessage",
    "ChatModel",
    "Flavor",
    "LanguageModel",
    "ModelInput",
    "ModelRequest",
    "RunContext",
    "RunnableConfig",
    "StreamOutput",
    "TextLLM",
]
