"""Our backends inside LangChain: ``as_langchain(llm)`` (needs ``llmstream-tui[langchain]``).

Any of our backends becomes a langchain-core model, so a LangChain application can use our
providers (and our recordings, replays and simulated models) in its own chains::

    chain = prompt | as_langchain(build_llm("openai-chat:gpt-4o-mini")) | StrOutputParser()

A chat backend becomes a ``BaseChatModel`` (:class:`BackendChatModel`), a text backend a
``BaseLLM`` (:class:`BackendLLM`). Both stream token by token (``_stream``/``_astream``),
so ``stream``, ``astream``, ``astream_events`` v1/v2 and callbacks see every chunk as it
arrives. A chunk or message keeps the provider's id; one without (our ``lc_run-`` ids) is
left for LangChain to name after its run, as it names its own integrations' chunks.

How our chunks map onto langchain-core's ``AIMessageChunk``: ``content``,
``additional_kwargs`` (``reasoning_content``, ``refusal``), ``response_metadata``
(``finish_reason``, ``model_name``...), ``id`` and ``chunk_position`` as they are;
``tool_call_chunks`` as LangChain's ``ToolCallChunk``; ``usage_metadata`` as its
``UsageMetadata``. Our stream's closing empty ``chunk_position="last"`` chunk is not passed
on: LangChain 1.x adds that chunk itself after a model's last one (and leaves it out of the
end event's output, which it would not do for a chunk the model yielded), so the stream
and events are those of LangChain's own integrations.

``bind_tools`` converts LangChain's tools with ``convert_to_openai_tool`` and sends them in
the request format of the backend's kind (``TOOL_FORMATS``): they reach the provider as
per-call request fields (``tools``, ``tool_choice``...), which every HTTP kind passes
through to its request body.

This is the only module of ours that imports ``langchain_core``; the rest of the package
reads LangChain's messages by their fields and never needs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Mapping, Sequence
from typing import Any, Final, TypeVar, cast, overload

try:
    from langchain_core.callbacks import (
        AsyncCallbackManagerForLLMRun,
        CallbackManagerForLLMRun,
    )
    from langchain_core.language_models import BaseChatModel, BaseLLM, LanguageModelInput
    from langchain_core.language_models.base import LangSmithParams
    from langchain_core.messages import AIMessage as LCAIMessage
    from langchain_core.messages import AIMessageChunk as LCAIMessageChunk
    from langchain_core.messages import BaseMessage as LCBaseMessage
    from langchain_core.messages import InvalidToolCall, ToolCall, ToolCallChunk
    from langchain_core.messages import UsageMetadata as LCUsageMetadata
    from langchain_core.outputs import (
        ChatGeneration,
        ChatGenerationChunk,
        ChatResult,
        Generation,
        GenerationChunk,
        LLMResult,
    )
    from langchain_core.runnables import Runnable
    from langchain_core.tools import BaseTool
    from langchain_core.utils.function_calling import convert_to_openai_tool
except ImportError:  # pragma: no cover  # exercised in a subprocess without langchain_core
    raise ImportError(
        "llmstream_tui.langchain needs langchain-core: pip install 'llmstream-tui[langchain]'"
    ) from None

from .core.backend import RunnableConfig, aclosing
from .core.message_io import arguments_json
from .core.messages import LC_ID_PREFIX, AIMessage, AIMessageChunk, UsageMetadata
from .core.outputs import merge_generation_info
from .core.runnable import LanguageModel
from .core.syncbridge import iterate_sync, run_sync

__all__ = [
    "TOOL_FORMATS",
    "BackendChatModel",
    "BackendLLM",
    "ToolFormat",
    "as_langchain",
    "is_closing_marker",
    "lc_chunk",
    "lc_message",
]

_T = TypeVar("_T")

#: What ``bind_tools`` accepts, as LangChain's ``BaseChatModel.bind_tools`` types it.
ToolLike = Mapping[str, Any] | type | Callable[..., Any] | BaseTool
#: LangChain's ``tool_choice``: a tool's name, ``"auto"``/``"none"``/``"any"``/
#: ``"required"``, ``True`` (some tool must be called), or a provider-shaped dict.
ToolChoice = str | bool | Mapping[str, Any] | None


#: ``user:password@`` in a URL (an ad hoc reference may carry one).
_USERINFO = re.compile(r"//[^/@\s]*@")


def _kind(backend: LanguageModel[Any, Any]) -> str:
    """The backend's provider kind (``openai-chat``, ``anthropic``...), from its ``Spec``."""
    field = type(backend).Spec.model_fields.get("kind")
    default = field.default if field is not None else None
    return default if isinstance(default, str) else type(backend).__name__


def _config(run_id: uuid.UUID | None) -> RunnableConfig:
    """Our run takes LangChain's run id when LangChain hands one over, so what of ours
    names the run names LangChain's."""
    return {"run_id": run_id} if run_id is not None else {}


def _sync(stream: AsyncIterator[_T]) -> contextlib.closing[Generator[_T, None, None]]:
    """``stream`` read from sync code; leaving the block closes it (and its connection)
    at once, even when LangChain stops reading early."""
    return contextlib.closing(cast(Generator[_T, None, None], iterate_sync(stream)))


def _call_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """LangChain's per-call keyword arguments as our per-call request fields (``None``
    means "not given" for ours too)."""
    return {k: v for k, v in kwargs.items() if v is not None}


# -- tools ---------------------------------------------------------------------------------


class ToolFormat:
    """How one request format carries tools: ``fields(openai_tools, tool_choice)`` gives
    the request fields to send. Tools arrive as ``convert_to_openai_tool`` makes them
    (``{"type": "function", "function": {"name", "description", "parameters"}}``)."""

    def __init__(
        self,
        tools: Callable[[list[dict[str, Any]]], object],
        choice: Callable[[ToolChoice], dict[str, Any]],
    ) -> None:
        self._tools = tools
        self._choice = choice

    def fields(self, tools: list[dict[str, Any]], tool_choice: ToolChoice) -> dict[str, Any]:
        out: dict[str, Any] = {"tools": self._tools(tools)}
        if tool_choice is not None and tool_choice is not False:
            out.update(self._choice(tool_choice))
        return out


def _functions(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dict(t["function"]) for t in tools]


#: LangChain's words for "the model must call some tool".
_MUST = frozenset({"any", "required"})


def _openai_choice(choice: ToolChoice) -> dict[str, Any]:
    if choice is True or choice in _MUST:
        return {"tool_choice": "required"}
    if choice in ("auto", "none") or isinstance(choice, Mapping):
        return {"tool_choice": choice}
    return {"tool_choice": {"type": "function", "function": {"name": choice}}}


def _responses_choice(choice: ToolChoice) -> dict[str, Any]:
    if isinstance(choice, str) and choice not in _MUST and choice not in ("auto", "none"):
        return {"tool_choice": {"type": "function", "name": choice}}
    return _openai_choice(choice)


def _anthropic_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for fn in _functions(tools):
        tool: dict[str, Any] = {"name": fn["name"]}
        if fn.get("description"):
            tool["description"] = fn["description"]
        tool["input_schema"] = fn.get("parameters") or {"type": "object", "properties": {}}
        out.append(tool)
    return out


def _anthropic_choice(choice: ToolChoice) -> dict[str, Any]:
    if isinstance(choice, Mapping):
        return {"tool_choice": dict(choice)}
    if choice is True or choice in _MUST:
        return {"tool_choice": {"type": "any"}}
    if choice in ("auto", "none"):
        return {"tool_choice": {"type": choice}}
    return {"tool_choice": {"type": "tool", "name": choice}}


def _ollama_choice(choice: ToolChoice) -> dict[str, Any]:
    if choice == "auto":
        return {}
    raise ValueError(f"Ollama has no tool_choice (the model decides): got {choice!r}")


def _gemini_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"functionDeclarations": _functions(tools)}]


def _gemini_choice(choice: ToolChoice) -> dict[str, Any]:
    if isinstance(choice, Mapping):
        return {"toolConfig": dict(choice)}
    if choice is True or choice in _MUST:
        config: dict[str, Any] = {"mode": "ANY"}
    elif choice in ("auto", "none"):
        config = {"mode": str(choice).upper()}
    else:
        config = {"mode": "ANY", "allowedFunctionNames": [choice]}
    return {"toolConfig": {"functionCallingConfig": config}}


#: The kinds that take tools, and how. Other kinds (text LLMs, simulated, scripted,
#: replay) cannot call tools: ``bind_tools`` says so.
TOOL_FORMATS: Final[Mapping[str, ToolFormat]] = {
    "openai-chat": ToolFormat(list, _openai_choice),
    "openai-responses": ToolFormat(
        lambda tools: [{"type": "function", **fn} for fn in _functions(tools)],
        _responses_choice,
    ),
    "anthropic": ToolFormat(_anthropic_tools, _anthropic_choice),
    "ollama-chat": ToolFormat(list, _ollama_choice),
    "gemini": ToolFormat(_gemini_tools, _gemini_choice),
}


# -- our chunks and messages as LangChain's ------------------------------------------------


def _lc_usage(usage: UsageMetadata | None) -> LCUsageMetadata | None:
    if usage is None:
        return None
    out = LCUsageMetadata(
        input_tokens=usage.get("input_tokens", 0),
        output_tokens=usage.get("output_tokens", 0),
        total_tokens=usage.get("total_tokens", 0),
    )
    if "input_token_details" in usage:
        out["input_token_details"] = dict(usage["input_token_details"])  # type: ignore[typeddict-item]  # our detail keys are LangChain's
    if "output_token_details" in usage:
        out["output_token_details"] = dict(usage["output_token_details"])  # type: ignore[typeddict-item]  # our detail keys are LangChain's
    return out


def _provider_id(id_: str | None) -> str | None:
    """The provider's message id, or None for the ``lc_run-`` id our runnable made up: then
    LangChain names the message after its own run, as it does for its integrations."""
    return None if id_ is None or id_.startswith(LC_ID_PREFIX) else id_


def _text_only(chunk: AIMessageChunk) -> bool:
    """A chunk with nothing besides its content (most are: the hot path)."""
    return (
        not chunk.tool_call_chunks
        and chunk.usage_metadata is None
        and not chunk.additional_kwargs
        and not chunk.response_metadata
    )


def is_closing_marker(chunk: AIMessageChunk | AIMessage) -> bool:
    """Our stream's closing ``chunk_position="last"`` chunk, carrying nothing else."""
    return (
        isinstance(chunk, AIMessageChunk)
        and chunk.chunk_position == "last"
        and not chunk.content
        and _text_only(chunk)
    )


def lc_chunk(chunk: AIMessageChunk | AIMessage) -> LCAIMessageChunk:
    """LangChain's chunk for one of ours. A whole ``AIMessage`` (a backend that does not
    stream yields one) becomes one chunk carrying its tool calls as chunks."""
    if isinstance(chunk, AIMessageChunk):
        if _text_only(chunk):
            return LCAIMessageChunk(
                content=chunk.content,
                id=_provider_id(chunk.id),
                chunk_position=chunk.chunk_position,
            )
        calls = [
            ToolCallChunk(
                name=c.get("name"),
                args=c.get("args"),
                id=c.get("id"),
                index=c.get("index"),
                type="tool_call_chunk",
            )
            for c in chunk.tool_call_chunks
        ]
        position = chunk.chunk_position
    else:
        calls = [
            ToolCallChunk(
                name=c.get("name"),
                args=arguments_json(c.get("args")),
                id=c.get("id"),
                index=i,
                type="tool_call_chunk",
            )
            for i, c in enumerate(chunk.tool_calls)
        ]
        position = None
    return LCAIMessageChunk(
        content=chunk.content,
        id=_provider_id(chunk.id),
        additional_kwargs=dict(chunk.additional_kwargs),
        response_metadata=dict(chunk.response_metadata),
        tool_call_chunks=calls,
        usage_metadata=_lc_usage(chunk.usage_metadata),
        chunk_position=position,
    )


def lc_message(message: AIMessage) -> LCAIMessage:
    """LangChain's ``AIMessage`` for our whole answer. Calls whose arguments were not JSON
    (``{"__raw__": ...}``) are LangChain's ``invalid_tool_calls``, as its parsers make them."""
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for c in message.tool_calls:
        args = c.get("args")
        if isinstance(args, dict) and set(args) == {"__raw__"}:
            invalid.append(
                InvalidToolCall(
                    name=c.get("name"),
                    args=args["__raw__"],
                    id=c.get("id"),
                    error=None,
                    type="invalid_tool_call",
                )
            )
        else:
            calls.append(
                ToolCall(
                    name=c.get("name") or "", args=args or {}, id=c.get("id"), type="tool_call"
                )
            )
    return LCAIMessage(
        content=message.content,
        id=_provider_id(message.id),
        additional_kwargs=dict(message.additional_kwargs),
        response_metadata=dict(message.response_metadata),
        tool_calls=calls,
        invalid_tool_calls=invalid,
        usage_metadata=_lc_usage(message.usage_metadata),
    )


# -- the two LangChain models --------------------------------------------------------------


class _BackendFields:
    """What both LangChain models say about the backend they wrap (mixed into each)."""

    backend: LanguageModel[Any, Any]

    @property
    def _llm_type(self) -> str:
        return f"llmstream-{_kind(self.backend)}"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        """What tells two such models apart (LangChain's cache key, tracing): the kind, our
        name (an ad hoc reference names the server; credentials in its URL are taken out),
        the model and the configured parameters. Never a key."""
        backend = self.backend
        return {
            "kind": _kind(backend),
            "name": _USERINFO.sub("//", backend.name),
            "model": backend.model,
            **backend.params,
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        """Our backend's own LangSmith parameters (provider family, model, temperature...)
        rather than LangChain's guess from the class name."""
        params: dict[str, Any] = dict(self.backend.ls_params(stop))
        if isinstance(kwargs.get("model"), str):
            params["ls_model_name"] = kwargs["model"]
        return cast(LangSmithParams, params)  # the keys ls_params returns are LangSmith's


class BackendChatModel(_BackendFields, BaseChatModel):
    """One of our chat backends as a langchain-core ``BaseChatModel`` (see the module
    docstring). Build it with :func:`as_langchain`."""

    backend: LanguageModel[AIMessage, AIMessageChunk]
    #: Stream even for ``invoke`` (so callbacks see every token), as the integrations'
    #: ``streaming=True`` does: our backends stream whole answers anyway, at no extra cost.
    streaming: bool = False

    async def _generations(
        self,
        messages: list[LCBaseMessage],
        run_id: uuid.UUID | None,
        stop: list[str] | None,
        kw: dict[str, Any],
    ) -> AsyncIterator[ChatGenerationChunk]:
        """Our run's chunks as LangChain's, without our closing marker (LangChain adds its
        own); closing this generator closes our stream and its connection."""
        stream = self.backend.astream(messages, _config(run_id), stop=stop, **kw)
        async with aclosing(stream) as chunks:
            async for chunk in chunks:
                if not is_closing_marker(chunk):
                    yield ChatGenerationChunk(message=lc_chunk(chunk))

    async def _astream(
        self,
        messages: list[LCBaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        run_id = run_manager.run_id if run_manager else None
        generations = self._generations(messages, run_id, stop, _call_kwargs(kwargs))
        async with aclosing(generations) as stream:
            async for generation in stream:
                if run_manager is not None:
                    await run_manager.on_llm_new_token(generation.text, chunk=generation)
                yield generation

    def _stream(
        self,
        messages: list[LCBaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        run_id = run_manager.run_id if run_manager else None
        with _sync(self._generations(messages, run_id, stop, _call_kwargs(kwargs))) as stream:
            for generation in stream:
                if run_manager is not None:
                    run_manager.on_llm_new_token(generation.text, chunk=generation)
                yield generation

    async def _agenerate(
        self,
        messages: list[LCBaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        config = _config(run_manager.run_id if run_manager else None)
        answer = await self.backend.ainvoke(messages, config, stop=stop, **_call_kwargs(kwargs))
        return ChatResult(generations=[ChatGeneration(message=lc_message(answer))])

    def _generate(
        self,
        messages: list[LCBaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # nothing streams to callbacks here: the run id is all _agenerate would take
        return run_sync(self._agenerate(messages, stop, None, **kwargs))

    def bind_tools(
        self,
        tools: Sequence[ToolLike],
        *,
        tool_choice: ToolChoice = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, LCAIMessage]:
        """This model with ``tools`` sent on every call, in the request format of the
        backend's kind (``TOOL_FORMATS``); ``NotImplementedError`` for a kind that takes
        no tools. ``tool_choice`` as LangChain's integrations take it: a tool name,
        ``"auto"``, ``"none"``, ``"any"``/``"required"``/``True``, or the provider's own
        dict."""
        kind = _kind(self.backend)
        form = TOOL_FORMATS.get(kind)
        if form is None:
            raise NotImplementedError(f"provider kind {kind!r} takes no tools")
        openai_tools = [convert_to_openai_tool(t) for t in tools]
        return self.bind(**form.fields(openai_tools, tool_choice), **kwargs)


class BackendLLM(_BackendFields, BaseLLM):
    """One of our text backends as a langchain-core ``BaseLLM`` (see the module
    docstring). Build it with :func:`as_langchain`. The stop reason and usage reach
    LangChain in ``generation_info``, on a last empty chunk when streaming."""

    backend: LanguageModel[str, str]

    async def _pieces(
        self, prompt: str, run_id: uuid.UUID | None, stop: list[str] | None, kw: dict[str, Any]
    ) -> AsyncIterator[GenerationChunk]:
        """Our run's text pieces, then its ``generation_info`` (the v2 end event is where
        our text LLMs report it)."""
        events = self.backend.astream_events(prompt, _config(run_id), stop=stop, **kw)
        streamed = False
        text, info = "", None
        async with aclosing(events) as stream:
            async for event in stream:
                if event["event"] == "on_llm_stream":
                    streamed = True
                    yield GenerationChunk(text=str(event["data"].get("chunk", "")))
                elif event["event"] == "on_llm_end":
                    output = event["data"].get("output")
                    generation = output["generations"][0][0] if isinstance(output, dict) else {}
                    text, info = generation.get("text", ""), generation.get("generation_info")
        if not streamed:
            yield GenerationChunk(text=text, generation_info=info)
        elif info:
            yield GenerationChunk(text="", generation_info=info)

    async def _astream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[GenerationChunk]:
        run_id = run_manager.run_id if run_manager else None
        async with aclosing(self._pieces(prompt, run_id, stop, _call_kwargs(kwargs))) as pieces:
            async for piece in pieces:
                if run_manager is not None:
                    await run_manager.on_llm_new_token(piece.text, chunk=piece)
                yield piece

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        run_id = run_manager.run_id if run_manager else None
        pieces = self._pieces(prompt, run_id, stop, _call_kwargs(kwargs))
        with _sync(pieces) as sync_pieces:
            for piece in sync_pieces:
                if run_manager is not None:
                    run_manager.on_llm_new_token(piece.text, chunk=piece)
                yield piece

    async def _whole(
        self, prompt: str, run_id: uuid.UUID | None, stop: list[str] | None, kw: dict[str, Any]
    ) -> Generation:
        texts: list[str] = []
        info: dict[str, Any] | None = None
        async with aclosing(self._pieces(prompt, run_id, stop, kw)) as pieces:
            async for piece in pieces:
                texts.append(piece.text)
                if piece.generation_info:
                    info = merge_generation_info(info, piece.generation_info)
        return Generation(text="".join(texts), generation_info=info)

    async def _agenerate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        """Every prompt at once, as LangChain's batch hands them over together."""
        run_id = run_manager.run_id if run_manager and len(prompts) == 1 else None
        kw = _call_kwargs(kwargs)
        generations = await asyncio.gather(*(self._whole(p, run_id, stop, kw) for p in prompts))
        return LLMResult(generations=[[g] for g in generations])

    def _generate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        # nothing streams to callbacks here: the run id is all _agenerate would take
        return run_sync(self._agenerate(prompts, stop, None, **kwargs))


@overload
def as_langchain(llm: LanguageModel[AIMessage, AIMessageChunk]) -> BackendChatModel: ...
@overload
def as_langchain(llm: LanguageModel[str, str]) -> BackendLLM: ...
@overload
def as_langchain(llm: LanguageModel[Any, Any]) -> BackendChatModel | BackendLLM: ...
def as_langchain(llm: LanguageModel[Any, Any]) -> BackendChatModel | BackendLLM:
    """``llm`` as a langchain-core model: a ``BaseChatModel`` for a chat backend, a
    ``BaseLLM`` for a text one. A streaming chat backend streams in ``invoke`` too (callbacks
    see every token); one that does not stream (``stream = false``) is called once per run,
    as LangChain does with models that cannot stream. The backend's
    tags become the model's; its HTTP client stays the backend's to close."""
    common: dict[str, Any] = {
        "backend": llm,
        "tags": list(llm.tags) or None,
        "metadata": dict(llm.metadata) or None,
    }
    if llm.flavor == "chat":
        streams = llm.streaming and llm.can_stream
        return BackendChatModel(**common, streaming=streams, disable_streaming=not streams)
    return BackendLLM(**common)
