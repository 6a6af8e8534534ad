"""Incremental ``text/event-stream`` decoder (WHATWG HTML, "server-sent events").

Feed the bytes of a response as they arrive, in reads of any size split anywhere (inside a
CRLF, inside a multi-byte character, inside the leading BOM); each ``feed`` returns the
events completed by that read, in order.  The event list never depends on how the stream
was split.

Why it is fast: each read is decoded and split by C string methods, so Python code runs
once per *line*, never per byte; a partial line is kept as a list of pieces joined once when
its line ends, so an event of any length costs time linear in its size.

Bounded memory: with ``max_event_bytes`` the pending event (its data lines and the partial
line, counted with its field name) may not grow past that many characters (the same as bytes
for ASCII, fewer for other text): ``feed`` raises ``wire.errors.WireLimitError`` as soon as
it does, so a server sending one endless line costs the limit plus one read. The bookkeeping
is a few ``len`` calls per read, never work that grows with the pending event.
"""

from __future__ import annotations

import codecs
import sys
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import NamedTuple

from .errors import WireLimitError

__all__ = ["SSEDecoder", "SSEEvent", "aiter_sse", "iter_sse"]


class SSEEvent(NamedTuple):
    """One dispatched event.

    ``id`` is the last event id in effect at dispatch (it persists across events);
    ``retry`` is the reconnection time a ``retry`` field *of this event* set, else ``None``.
    """

    event: str = "message"
    data: str = ""
    id: str = ""
    retry: int | None = None


_new_event = tuple.__new__


class SSEDecoder:
    """Turns event-stream bytes into :class:`SSEEvent` values.

    Guarantees (the rules in ``tests/fixtures/wire/README.md``): UTF-8 with replacement of
    invalid bytes; one leading BOM stripped; lines end at CRLF, LF or a lone CR and nowhere
    else; a blank line dispatches; comments and unknown fields are ignored; an event not
    ended by a blank line is discarded at end of stream.

    A CR that ends a read is treated as a line break at once (so an event ended by it is
    returned without waiting for more bytes) and an LF opening the next read is then skipped:
    a CRLF split across reads is still one line break.

    After :meth:`close` the decoder can decode a reconnected stream: ``last_event_id`` and
    ``retry`` survive, everything else starts afresh.

    ``max_event_bytes`` (default: no limit) bounds one event, see the module docstring; the
    events completed before the limit was passed are on the error's ``decoded``.
    """

    __slots__ = (
        "_data",
        "_decoder",
        "_event",
        "_event_retry",
        "_id_buffer",
        "_last_event_id",
        "_limit",
        "_retry",
        "_size",
        "_skip_lf",
        "_started",
        "_tail",
        "_tail_size",
    )

    def __init__(self, max_event_bytes: int | None = None) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._started = False
        self._skip_lf = False
        self._tail: list[str] = []
        self._data: list[str] = []
        self._event = ""
        self._event_retry: int | None = None
        self._id_buffer = ""
        self._last_event_id = ""
        self._retry: int | None = None
        self._limit = sys.maxsize if max_event_bytes is None else max_event_bytes
        #: Characters held for the pending event: its data lines (each with the newline
        #: that joins them), and the partial line.
        self._size = 0
        self._tail_size = 0

    @property
    def last_event_id(self) -> str:
        """The id to send as ``Last-Event-ID`` on reconnection.

        Updated at each blank line, so an ``id`` in an event cut off by the end of the
        stream never counts.
        """
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        """The reconnection time in milliseconds the server last asked for, if any."""
        return self._retry

    def feed(self, data: bytes) -> list[SSEEvent]:  # noqa: C901  # the hot path, kept inline
        """Decode one read; return the events it completes (often none)."""
        text = self._decoder.decode(data)
        if not text:
            return []
        if not self._started:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
                if not text:
                    return []
        if self._skip_lf:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
                if not text:
                    return []
        if "\r" in text:
            self._skip_lf = text[-1] == "\r"
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        rest = lines.pop()
        tail = self._tail
        if not lines:
            tail.append(rest)
            self._tail_size += len(rest)
            if self._size + self._tail_size > self._limit:
                raise self._too_large([])
            return []
        before = len(self._data)
        if tail:
            tail.append(lines[0])
            if tail[0][:6] == "data: ":
                tail[0] = tail[0][6:]
                self._data.append("".join(tail))
                del lines[0]
            else:
                lines[0] = "".join(tail)
            tail.clear()
        self._tail_size = len(rest)
        if rest:
            tail.append(rest)
        events = self._lines(lines)
        if self._data:
            self._measure(events, before)
        else:  # the common case: no event pending past this read
            self._size = 0
            if self._tail_size > self._limit:
                raise self._too_large(events)
        return events

    def _measure(self, events: list[SSEEvent], before: int) -> None:
        """Update the size of the pending event (it has data lines) after a read
        (``before``: how many it had then); raise when it is past the limit."""
        data = self._data
        # After a dispatch in this read, the pending lines are all of this read; else they
        # are the earlier ones plus this read's. Either way the cost is bounded by this
        # read, never by the pending event.
        if events:
            self._size = sum(map(len, data)) + len(data)
        else:
            self._size += sum(map(len, data[before:])) + len(data) - before
        if self._size + self._tail_size > self._limit:
            raise self._too_large(events)

    def _too_large(self, events: list[SSEEvent]) -> WireLimitError:
        return WireLimitError(self._limit, what="an event", decoded=list(events))

    def close(self) -> list[SSEEvent]:
        """End the stream and return the events it completes.

        By rule 14 an event not followed by a blank line is discarded, and a CR ending the
        last read has already been acted on, so this returns ``[]``.  It still finalises
        the UTF-8 decoder (incomplete trailing bytes become U+FFFD, in the discarded
        partial line) and resets per-stream state for a reconnected stream.
        """
        self._decoder.decode(b"", final=True)
        self._started = False
        self._skip_lf = False
        self._tail.clear()
        self._data.clear()
        self._size = self._tail_size = 0
        self._event = ""
        self._event_retry = None
        self._id_buffer = self._last_event_id
        return []

    def _lines(self, lines: list[str]) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        data = self._data
        limit = self._limit
        for line in lines:
            if not line:
                self._last_event_id = last_id = self._id_buffer
                if data:
                    text = data[0] if len(data) == 1 else "\n".join(data)
                    data.clear()
                    if len(text) > limit:  # an event whole within one large read
                        raise self._too_large(events)
                    events.append(
                        _new_event(
                            SSEEvent, (self._event or "message", text, last_id, self._event_retry)
                        )
                    )
                self._event = ""
                self._event_retry = None
            elif line[:6] == "data: ":
                data.append(line[6:])
            elif line[:7] == "event: ":  # Anthropic names every event: skip _field
                self._event = line[7:]
            else:
                self._field(line)
        return events

    def _field(self, line: str) -> None:
        colon = line.find(":")
        if colon == 0:
            return
        if colon < 0:
            name, value = line, ""
        else:
            name = line[:colon]
            value = line[colon + 2 :] if line.startswith(" ", colon + 1) else line[colon + 1 :]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id_buffer = value
        elif name == "retry" and value.isascii() and value.isdigit():
            try:
                retry = int(value)
            except ValueError:  # beyond int's digit limit: no meaningful delay
                return
            self._retry = self._event_retry = retry


def iter_sse(chunks: Iterable[bytes]) -> Iterator[SSEEvent]:
    """Yield the events of a whole stream given as an iterable of reads."""
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.close()


async def aiter_sse(chunks: AsyncIterable[bytes]) -> AsyncIterator[SSEEvent]:
    """Yield the events of a stream read asynchronously (e.g. ``response.aiter_bytes()``)."""
    decoder = SSEDecoder()
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
    for event in decoder.close():
        yield event
