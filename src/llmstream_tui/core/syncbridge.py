"""Run coroutines and async iterators from synchronous code.

The Runnable interface is async-first; ``invoke``/``stream``/``batch`` drive the async
methods on one private event loop in a daemon thread. One loop for the whole process (rather
than ``asyncio.run`` per call) keeps a provider's pooled HTTP connections usable across sync
calls, and works even when the caller already runs an event loop (a notebook, a Textual app).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def background_loop() -> asyncio.AbstractEventLoop:
    """The shared loop, started on first use."""
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="llmstream-sync", daemon=True)
            thread.start()
            _loop = loop
        return _loop


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the shared loop and wait; KeyboardInterrupt cancels it."""
    future = asyncio.run_coroutine_threadsafe(coro, background_loop())
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise


def iterate_sync(aiter: AsyncIterator[T]) -> Iterator[T]:
    """Iterate ``aiter`` from sync code. Closing the iterator closes ``aiter`` at once."""
    agen: Any = aiter
    try:
        while True:
            try:
                item = run_sync(agen.__anext__())
            except StopAsyncIteration:
                return
            yield item
    finally:
        aclose = getattr(agen, "aclose", None)
        if aclose is not None:
            run_sync(aclose())
