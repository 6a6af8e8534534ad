"""The one stream loop every HTTP kind runs: bytes -> decoder -> the kind's pure parser ->
``StreamPart`` values, with one end-of-stream policy for all of them.

A kind's ``_astream`` is then a single call (and not a generator itself, so each part goes
through one generator, as when every kind wrote this loop out)::

    def _astream(self, request, ctx):
        return pump_sse(self, "/chat/completions", self._body(request), ctx, MyParser(self))

A parser (:class:`StreamParser`) is fed one decoded item at a time (an ``SSEEvent`` for
``pump_sse``, a JSON value for ``pump_ndjson``) and returns the parts it stands for; it sets
``done`` when the stream's terminator arrived (``[DONE]``, ``message_stop``,
``response.completed``, Ollama's ``"done": true``; never for Gemini, whose stream has none)
and raises ``StreamTruncated`` from ``finish()`` unless what it saw makes a complete answer.

The policy, the same for every kind:

- the terminator ends the stream: nothing after it is parsed (not even the rest of the read
  that carried it); the body is then drained for at most ``HTTPModel.drain``'s grace, so the
  connection goes back to the pool, and a server that keeps the line open cannot stall a
  complete answer into a timeout;
- without a terminator the bytes are read to their end, the decoder is closed and what that
  completes is parsed (for SSE, by the WHATWG rules the decoder implements, an event not
  ended by a blank line is discarded; a final NDJSON line needs no newline);
- either way ``parser.finish()`` has the last word;
- timeouts and transport failures are ``stream_bytes``'s (one ``spec.timeout`` per read), so
  they are the same everywhere; closing the pump closes the response at once;
- a stream that keeps sending bytes but no content (keep-alive comments, pings, empty deltas)
  ends in ``StreamTimeout`` after ``spec.idle_timeout`` seconds without a content-bearing part
  (text, reasoning, refusal or a tool call), and any stream after ``spec.deadline`` seconds
  in all (0 switches either off): see :class:`_Watchdog`;
- an event or line longer than ``spec.max_event_bytes`` is a ``StreamProtocolError`` naming
  the limit, raised once the pending bytes pass it (the decoders never buffer more), and a
  parser that overflows the stack on a deeply nested value (``RecursionError``) is one too;
  the parts decoded before either are delivered first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..core.parts import StreamPart
from ..core.runnable import RunContext
from ..errors import ProviderError, StreamTimeout
from ..wire.errors import WireDecodeError, WireLimitError, describe_size
from ..wire.ndjson import NDJSONDecoder
from ..wire.sse import SSEDecoder, SSEEvent

if TYPE_CHECKING:
    from .http import HTTPModel

__all__ = ["StreamParser", "pump_ndjson", "pump_sse"]

_Item_contra = TypeVar("_Item_contra", contravariant=True)
_Item_co = TypeVar("_Item_co", covariant=True)
_Item = TypeVar("_Item")


class StreamParser(Protocol[_Item_contra]):
    """What the pump needs of a kind's parser (``_Item_contra``: what one decoded unit is)."""

    @property
    def done(self) -> bool:
        """True once the stream's terminator arrived; the pump then stops reading."""
        ...

    def feed(self, item: _Item_contra, /) -> Iterable[StreamPart]:
        """The parts one decoded item stands for (often one, possibly none)."""
        ...

    def finish(self) -> None:
        """At the end of the stream: raise ``StreamTruncated`` unless it is complete."""
        ...


def pump_sse(
    model: HTTPModel,
    path: str,
    body: Mapping[str, Any],
    ctx: RunContext,
    parser: StreamParser[SSEEvent],
    *,
    params: Mapping[str, str] | None = None,
) -> AsyncGenerator[StreamPart, None]:
    """Stream ``POST base_url + path`` (``params``: its query) as server-sent events through
    ``parser`` (see the module docstring for the end-of-stream policy)."""
    decoder = SSEDecoder(max_event_bytes=model.spec.max_event_bytes)
    return _pump(model.stream_bytes(path, body, ctx, params=params), decoder, parser, model)


def pump_ndjson(
    model: HTTPModel,
    path: str,
    body: Mapping[str, Any],
    ctx: RunContext,
    parser: StreamParser[object],
) -> AsyncGenerator[StreamPart, None]:
    """Stream ``POST base_url + path`` as NDJSON through ``parser``, with the same policy. A
    line that is not JSON is a ``StreamProtocolError`` naming the line, raised after the good
    lines read with it were parsed (an error object among them wins: the provider's own
    message says more)."""
    decoder = NDJSONDecoder(max_line_bytes=model.spec.max_event_bytes)
    return _pump(model.stream_bytes(path, body, ctx), decoder, parser, model)


class _Decoder(Protocol[_Item_co]):
    """``SSEDecoder`` and ``NDJSONDecoder``: bytes in, the items they complete out."""

    def feed(self, data: bytes, /) -> Sequence[_Item_co]: ...

    def close(self) -> Sequence[_Item_co]: ...


class _Watchdog:
    """The idle timeout and the deadline of one stream, with one timer for the whole stream.

    ``timeout`` (httpx's, per read) only catches a silent server; this catches one that
    talks without saying anything. From the body's first bytes on, the pump marks ``last``
    when a read yields content, and it flags the time it spends awaiting a read; the timer,
    due at the earlier of ``last + idle`` and ``start + deadline``, moves itself on when
    content came meanwhile, and
    otherwise cancels the read in progress (the pump turns that cancellation, and only that
    one, into ``StreamTimeout``) or, when the consumer holds the stream between reads, leaves
    ``expired`` for the next read to see. So the check costs a flag and a clock read per
    read, not a timer per read (``asyncio.timeout`` per read costs 12 us), and the pump is
    never cancelled while it is suspended at a ``yield`` in the consumer's code.
    """

    __slots__ = (
        "_deadline",
        "_handle",
        "_idle",
        "_loop",
        "_total",
        "body",
        "expired",
        "last",
        "reading",
    )

    def __init__(self, idle: float, deadline: float) -> None:
        self._loop = loop = asyncio.get_running_loop()
        now = loop.time()
        self._idle = idle
        self._total = deadline
        self._deadline = now + deadline if deadline else None
        self.last = now
        #: The body's first bytes arrived: the idle clock runs from then (before, waiting
        #: for the response is ``timeout``'s job; the deadline counts from the request).
        self.body = False
        #: The task awaiting a read right now, else None.
        self.reading: asyncio.Task[Any] | None = None
        #: Why the stream is given up ("no content for 60 s"), once it is.
        self.expired: str | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._arm()

    def _due(self) -> tuple[float, str] | None:
        """When the stream is to be given up, and why: the earlier of the two limits."""
        due: tuple[float, str] | None = None
        if self._idle:
            since = self.last if self.body else self._loop.time()
            due = (since + self._idle, f"no content for {self._idle:g} s")
        if self._deadline is not None and (due is None or self._deadline < due[0]):
            due = (self._deadline, f"not finished within the {self._total:g} s deadline")
        return due

    def _arm(self) -> None:
        due = self._due()
        if due is not None:
            self._handle = self._loop.call_at(due[0], self._fire)

    def _fire(self) -> None:
        due = self._due()
        if due is None:
            return
        if due[0] > self._loop.time():
            self._handle = self._loop.call_at(due[0], self._fire)
            return
        self.expired = due[1]
        if self.reading is not None:
            self.reading.cancel()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


def _stalled(model: HTTPModel, why: str) -> StreamTimeout:
    return StreamTimeout(f"{why} (stalled)", provider=model.name)


async def _pump(  # noqa: C901  # one loop with its end-of-stream and failure branches
    byte_reads: AsyncGenerator[bytes, None],
    decoder: _Decoder[_Item],
    parser: StreamParser[_Item],
    model: HTTPModel,
) -> AsyncGenerator[StreamPart, None]:
    decode = decoder.feed
    feed = parser.feed
    spec = model.spec
    watch = None
    if spec.idle_timeout or spec.deadline:
        watch = _Watchdog(spec.idle_timeout, spec.deadline)
    clock = asyncio.get_running_loop().time
    # A line that is not JSON (NDJSON), an event or line past the size limit
    bad: WireDecodeError | WireLimitError | None = None
    try:
        async with aclosing(byte_reads) as reads:
            next_read = reads.__anext__
            current_task = asyncio.current_task
            while True:
                # The read is awaited here, not in a helper coroutine: one call less per read.
                if watch is not None:
                    if watch.expired is not None:
                        raise _stalled(model, watch.expired)
                    watch.reading = current_task()
                data: bytes | None
                try:
                    data = await next_read()
                except StopAsyncIteration:
                    data = None
                except asyncio.CancelledError:
                    # Ours only if the watchdog fired and nobody else cancelled the task too.
                    task = watch.reading if watch is not None else None
                    expired = watch.expired if watch is not None else None
                    if expired is not None and task is not None and task.uncancel() == 0:
                        raise _stalled(model, expired) from None
                    raise
                if watch is not None:
                    watch.reading = None
                    if not watch.body:  # the idle clock starts with the body
                        watch.body = True
                        watch.last = clock()
                if data is None:
                    break
                try:
                    items = decode(data)
                except (WireDecodeError, WireLimitError) as exc:
                    items, bad = exc.decoded, exc  # type: ignore[assignment]  # decoded so far
                content = False
                for item in items:
                    try:
                        parts = feed(item)
                    except RecursionError:
                        raise _too_deep(model) from None
                    for part in parts:
                        if part.text or part.tool_call:
                            content = True
                        yield part
                    if parser.done:
                        break
                if content and watch is not None:
                    watch.last = clock()
                if parser.done:
                    await model.drain(reads)
                    break
                if bad is not None:
                    raise _bad_line(model, bad)
    finally:
        if watch is not None:
            watch.stop()
    if not parser.done:
        try:
            items = decoder.close()
        except WireDecodeError as exc:
            items, bad = exc.decoded, exc  # type: ignore[assignment]  # as above
        for item in items:
            try:
                parts = feed(item)
            except RecursionError:
                raise _too_deep(model) from None
            for part in parts:
                yield part
        if bad is not None and not parser.done:
            raise _bad_line(model, bad)
    parser.finish()


def _too_deep(model: HTTPModel) -> ProviderError:
    return model.protocol_error("an event is nested too deeply to read")


def _bad_line(model: HTTPModel, exc: WireDecodeError | WireLimitError) -> ProviderError:
    if isinstance(exc, WireLimitError):
        return model.protocol_error(
            f"{exc.what} of the stream is longer than the {describe_size(exc.limit)} limit"
            f" (max_event_bytes = {exc.limit})"
        )
    return model.protocol_error(f"malformed JSON on line {exc.line_number} of the stream")
