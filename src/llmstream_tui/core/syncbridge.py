"""Run coroutines and async iterators from synchronous code.

The Runnable interface is async-first; ``invoke``/``stream``/``batch`` drive the async
methods on one private event loop in a daemon thread. One loop for the whole process (rather
than ``asyncio.run`` per call) keeps a provider's pooled HTTP connections usable across sync
calls, and works even when the caller already runs an event loop (a notebook, a Textual app).

What lives on that loop must be closed on it: a pooled connection is an asyncio transport of
that loop, and one never closed warns ``unclosed <socket>`` when it is collected. So the loop
has an owner's lifecycle here:

- ``close_at_exit(resource)``: ``resource.aclose()`` runs on the loop when the interpreter
  exits (bounded by ``EXIT_GRACE_S``), after which the loop stops and is closed;
  ``forget(resource)`` takes it back (its owner closed it first).
- ``close_soon(loop, resource)``: schedule ``resource.aclose()`` on ``loop`` from any thread
  (a finalizer, which may run in any thread, including the loop's own), for a resource whose
  owner was collected without closing it; ``wait_closed()`` waits until those closes ran.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Coroutine, Iterator
from typing import Any, Final, Protocol, TypeVar

__all__ = [
    "EXIT_GRACE_S",
    "AsyncCloseable",
    "background_loop",
    "close_at_exit",
    "close_soon",
    "forget",
    "is_background_loop",
    "iterate_sync",
    "run_sync",
    "wait_closed",
]

T = TypeVar("T")

#: Seconds the exit hook gives the resources still open on the shared loop to close.
EXIT_GRACE_S: Final = 2.0


class AsyncCloseable(Protocol):
    """Something holding connections of an event loop, released by ``await aclose()``."""

    def aclose(self) -> Awaitable[None]: ...


_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
#: Resources to close on the shared loop at exit (strong references: a resource whose
#: owner is gone still holds sockets until someone closes it).
_at_exit: set[AsyncCloseable] = set()
#: Close tasks scheduled by ``close_soon`` (asyncio keeps only weak references to tasks).
_closing: set[asyncio.Task[None]] = set()


def background_loop() -> asyncio.AbstractEventLoop:
    """The shared loop, started on first use."""
    global _loop, _thread
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="llmstream-sync", daemon=True)
            thread.start()
            if _loop is None:
                atexit.register(_shutdown)
            _loop, _thread = loop, thread
        return _loop


def is_background_loop(loop: asyncio.AbstractEventLoop) -> bool:
    """True for the shared loop of the sync methods."""
    return loop is _loop


def close_at_exit(resource: AsyncCloseable) -> None:
    """Close ``resource`` on the shared loop when the interpreter exits, unless ``forget``
    takes it back first."""
    with _lock:
        _at_exit.add(resource)


def forget(resource: AsyncCloseable) -> None:
    """Drop ``resource`` from the exit list (its owner closes it, or has closed it)."""
    with _lock:
        _at_exit.discard(resource)


def close_soon(loop: asyncio.AbstractEventLoop, resource: AsyncCloseable) -> bool:
    """Schedule ``resource.aclose()`` on ``loop``, from any thread, without waiting. False
    when ``loop`` is closed: its transports can no longer be closed gracefully."""
    forget(resource)
    if loop.is_closed():
        return False

    def start() -> None:
        task = loop.create_task(_aclose(resource))
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    try:
        loop.call_soon_threadsafe(start)
    except RuntimeError:  # closed between the check and the call
        return False
    return True


async def _aclose(resource: AsyncCloseable) -> None:
    # a failing close must not stop the others closing: the resource is gone either way
    with contextlib.suppress(Exception):
        await resource.aclose()


def wait_closed(timeout: float = EXIT_GRACE_S) -> None:
    """Wait (at most ``timeout`` seconds) until every close ``close_soon`` scheduled on the
    shared loop has finished: a finalizer's close runs later, on the loop, and a caller that
    must know the sockets are released (the exit hook, a test) waits here."""
    loop = _loop
    if loop is None or loop.is_closed() or not loop.is_running():
        return

    async def settle() -> None:
        # one turn first: a close scheduled with call_soon_threadsafe becomes a task then
        await asyncio.sleep(0)
        mine = [t for t in list(_closing) if t.get_loop() is loop]
        if mine:
            await asyncio.wait(mine, timeout=timeout)

    with contextlib.suppress(TimeoutError):
        asyncio.run_coroutine_threadsafe(settle(), loop).result(timeout + 1)


def _shutdown() -> None:
    """At exit: close what is still open on the shared loop, then stop and close it."""
    global _loop
    with _lock:
        loop, thread = _loop, _thread
        resources = list(_at_exit)
        _at_exit.clear()
    if loop is None or loop.is_closed():
        return

    async def close_all() -> None:
        if resources:
            await asyncio.wait_for(asyncio.gather(*(_aclose(r) for r in resources)), EXIT_GRACE_S)

    # exiting anyway: a stuck close must not hang the exit
    with contextlib.suppress(Exception):
        asyncio.run_coroutine_threadsafe(close_all(), loop).result(EXIT_GRACE_S + 1)
    wait_closed()
    loop.call_soon_threadsafe(loop.stop)
    if thread is not None:
        thread.join(EXIT_GRACE_S)
    if not loop.is_running():
        loop.close()
        _loop = None


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
