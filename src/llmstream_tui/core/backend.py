"""The contract a backend implements, apart from the Runnable front callers see.

A backend subclasses ``LanguageModel`` (``core.runnable``) and implements the async generator
``_astream(request, ctx)``, yielding ``StreamPart``s; optionally ``_agenerate(request, ctx)``
(a non-streaming call) and ``aclose()``. The caller owns the backend's lifetime:
``aclose()`` / ``close()``, or leaving ``with`` / ``async with``, release what it holds (its
HTTP client). It is given:

- ``ModelRequest``: what to answer (``prompt`` for a text LLM, ``messages`` for a chat model),
  the stop sequences and the per-call overrides of its configured parameters;
- ``RunContext``: the run id and the timeline to mark the first byte on.

Its ``Flavor`` says which of the two LangChain shapes the front gives it: ``"llm"`` (string in,
``str`` out) or ``"chat"`` (messages in, ``AIMessageChunk``/``AIMessage`` out).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import aclosing as _aclosing
from typing import Any, ClassVar, Literal, Self, TypedDict, TypeVar, cast

from .message_io import PromptValueLike, to_messages, to_prompt
from .messages import BaseMessage
from .metrics import StreamTimeline
from .parts import StreamPart
from .syncbridge import run_sync

__all__ = [
    "Backend",
    "Flavor",
    "ModelInput",
    "ModelRequest",
    "RunContext",
    "RunnableConfig",
    "aclosing",
    "iterate_list",
    "run_uuid",
]

Flavor = Literal["llm", "chat"]

#: What a model takes: a string, a LangChain prompt value, or (chat models) messages (ours
#: or LangChain's), ``{"role", "content"}`` dicts or ``(role, content)`` tuples.
ModelInput = str | Sequence[Any] | PromptValueLike

_T = TypeVar("_T")


class RunnableConfig(TypedDict, total=False):
    """LangChain's config keys, plus ``timeline``: a ``StreamTimeline`` the run records its
    timestamps into, so callers get TTFB/TTFT/gaps without wrapping the iterator."""

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


def run_uuid(value: uuid.UUID | str | None) -> uuid.UUID:
    """The run id a config asks for (a UUID or its string), or a new one."""
    if value is None:
        return uuid.uuid4()
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def aclosing(iterator: AsyncIterator[_T]) -> _aclosing[AsyncGenerator[_T, None]]:
    """``contextlib.aclosing`` for what is annotated as an iterator but is a generator."""
    return _aclosing(cast(AsyncGenerator[_T, None], iterator))


async def iterate_list(items: list[_T]) -> AsyncIterator[_T]:
    """A list as an async iterator: a non-streaming answer read like a stream."""
    for item in items:
        yield item


class Backend:
    """What a provider implements: ``_astream`` (and optionally ``_agenerate``, ``aclose``),
    ``ls_provider``, ``Spec`` and ``from_spec``. Subclass ``LanguageModel`` (``core.runnable``),
    which adds the Runnable front, rather than this class."""

    #: The provider family, as LangChain's ``ls_provider`` (``openai``, ``anthropic``...).
    ls_provider: str = "llmstream"
    #: The kind's options: a ``providers.spec.ProviderSpec`` subclass (the registry checks).
    Spec: ClassVar[type[Any]]

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

    @classmethod
    def from_spec(cls, name: str, spec: Any, client: Any = None) -> Backend:
        """A backend from its validated table (an instance of ``Spec``); ``client`` is the
        ``httpx.AsyncClient`` to use, for kinds that speak HTTP."""
        raise NotImplementedError(f"{cls.__name__} does not implement from_spec")

    @property
    def can_stream(self) -> bool:
        """True when the class implements ``_astream``."""
        return type(self)._astream is not Backend._astream

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

    def close(self) -> None:
        """``aclose()`` from sync code, on the loop the sync methods run on."""
        run_sync(self.aclose())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

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
