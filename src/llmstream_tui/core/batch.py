"""``batch``/``abatch`` and their ``as_completed`` forms, written once over ``ainvoke``.

A mixin of ``LanguageModel``: every run of a batch is one ``ainvoke``, ``max_concurrency``
(from the config) bounds how many run at once, and the outputs are typed by the model's
flavour (``list[AIMessage]`` for a chat model, ``list[str]`` for a text LLM; with
``return_exceptions=True`` an item may be the exception its run raised).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, overload

from typing_extensions import TypeVar

from .backend import ModelInput, RunnableConfig, aclosing
from .messages import AIMessage
from .syncbridge import iterate_sync, run_sync

__all__ = ["Batching"]

OutT_co = TypeVar("OutT_co", covariant=True, default=AIMessage | str)

Configs = RunnableConfig | Sequence[RunnableConfig] | None


def batch_configs(config: Configs, n: int) -> list[RunnableConfig]:
    """One config per input: a single config is copied (the first run keeps its ``run_id``,
    no run shares a ``timeline``); a sequence must have one per input."""
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


class Batching(Generic[OutT_co]):
    """The batch methods of the Runnable interface, for a class that has ``ainvoke``."""

    if TYPE_CHECKING:

        async def ainvoke(
            self,
            input: ModelInput,
            config: RunnableConfig | None = None,
            *,
            stop: list[str] | None = None,
            **kwargs: Any,
        ) -> OutT_co: ...

    @overload
    def abatch_as_completed(
        self,
        inputs: Sequence[ModelInput],
        config: Configs = None,
        *,
        return_exceptions: Literal[False] = False,
        **kwargs: Any,
    ) -> AsyncIterator[tuple[int, OutT_co]]: ...
    @overload
    def abatch_as_completed(
        self,
        inputs: Sequence[ModelInput],
        config: Configs = None,
        *,
        return_exceptions: bool,
        **kwargs: Any,
    ) -> AsyncIterator[tuple[int, OutT_co | Exception]]: ...
    async def abatch_as_completed(
        self,
        inputs: Sequence[ModelInput],
        config: Configs = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> AsyncIterator[tuple[int, OutT_co | Exception]]:
        """``(index, output)`` pairs in the order runs finish."""
        configs = batch_configs(config, len(inputs))
        limit = configs[0].get("max_concurrency") if configs else None
        gate = asyncio.Semaphore(limit) if limit else None

        async def one(i: int) -> tuple[int, OutT_co | Exception]:
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

    @overload
    async def abatch(
        self,
        inputs: Sequence[ModelInput],
        config: Configs = None,
        *,
        return_exceptions: Literal[False] = False,
        **kwargs: Any,
    ) -> list[OutT_co]: ...
    @overload
    async def abatch(
        self,
        inputs: Sequence[ModelInput],
        config: Configs = None,
        *,
        return_exceptions: bool,
        **kwargs: Any,
    ) -> list[OutT_co | Exception]: ...
    async def abatch(
        self,
        inputs: Sequence[ModelInput],
        config: Configs = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[OutT_co] | list[OutT_co | Exception]:
        """Outputs in input order; ``max_concurrency`` from the config bounds parallel runs."""
        out: list[Any] = [None] * len(inputs)
        async with aclosing(
            self.abatch_as_completed(inputs, config, return_exceptions=return_exceptions, **kwargs)
        ) as results:
            async for i, value in results:
                out[i] = value
        return out

    @overload
    def batch(
        self,
        inputs: Sequence[ModelInput],
        config: Configs = None,
        *,
        return_exceptions: Literal[False] = False,
        **kwargs: Any,
    ) -> list[OutT_co]: ...
    @overload
    def batch(
        self,
        inputs: Sequence[ModelInput],
        config: Configs = None,
        *,
        return_exceptions: bool,
        **kwargs: Any,
    ) -> list[OutT_co | Exception]: ...
    def batch(
        self,
        inputs: Sequence[ModelInput],
        config: Configs = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[OutT_co] | list[OutT_co | Exception]:
        return run_sync(self.abatch(inputs, config, return_exceptions=return_exceptions, **kwargs))

    @overload
    def batch_as_completed(
        self,
        inputs: Sequence[ModelInput],
        config: Configs = None,
        *,
        return_exceptions: Literal[False] = False,
        **kwargs: Any,
    ) -> Iterator[tuple[int, OutT_co]]: ...
    @overload
    def batch_as_completed(
        self,
        inputs: Sequence[ModelInput],
        config: Configs = None,
        *,
        return_exceptions: bool,
        **kwargs: Any,
    ) -> Iterator[tuple[int, OutT_co | Exception]]: ...
    def batch_as_completed(
        self,
        inputs: Sequence[ModelInput],
        config: Configs = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> Iterator[tuple[int, OutT_co | Exception]]:
        return iterate_sync(
            self.abatch_as_completed(inputs, config, return_exceptions=return_exceptions, **kwargs)
        )
