"""``RunRecorder``: what one provider's answer to one turn reports, as recording lines.

``SessionRecorder.start_run`` makes one; the CLI and the app call it as the run streams.
Every call turns into a line handed to the session's queue (``put``), so it is on the hot
path: nothing per chunk grows with the text already received. Plain answer text (no
channel, metadata or usage) goes into a ``chunks`` entry, the batch the session's queue
(``LineQueue``) holds until its next drain: per chunk a timestamp and two list appends
under the queue's lock, and the history stores the batch with one statement
(``chunk_lines`` spells it out for a recording file). A caller that batches text itself
(the app, once per frame) hands a batch over with ``texts``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from ..core.events import summarise_output
from ..core.recording_lines import error_line

if TYPE_CHECKING:
    from ..core.metrics import StreamTimeline

#: Where a run's lines go: the session's queue (``SessionRecorder._put``).
LineSink = Callable[[dict[str, Any]], None]

#: Pending lines (or chunks of one open batch) past which the producer itself flushes.
BACKPRESSURE_LINES: Final = 50_000


class LineQueue:
    """A session's lines waiting for the writer thread, and the open text batches in them.

    ``take`` hands the lines over and starts a new generation: a ``RunRecorder`` appends a
    chunk to its open batch only while the batch's generation is the queue's (checked and
    appended under ``lock``), so a batch the writer took is never changed again, and a
    batch waiting in the queue is saved, as it stands, by the next drain.
    """

    __slots__ = ("flush", "generation", "lines", "lock")

    def __init__(self, flush: Callable[[], None]) -> None:
        """``flush``: what drains the queue now (called by a producer that outruns the
        writer thread, so the backlog stays bounded)."""
        self.lock = threading.Lock()
        self.lines: list[dict[str, Any]] = []
        self.generation = 0
        self.flush = flush

    def put(self, line: dict[str, Any]) -> None:
        with self.lock:
            self.lines.append(line)
            backlog = len(self.lines)
        if backlog >= BACKPRESSURE_LINES:
            # A producer that never waits (a replay at speed 0, a scripted stream) outruns
            # the writer thread, which shares the GIL: write in the caller's thread instead
            # of letting the backlog grow with the stream.
            self.flush()

    def take(self) -> list[dict[str, Any]]:
        """Everything queued so far, in order; the open batches in it are closed."""
        with self.lock:
            lines, self.lines = self.lines, []
            self.generation += 1
        return lines


class RunRecorder:
    """One provider's answer to one turn. ``observe`` each ``astream_events`` dict, or call
    ``chunk``/``end``/``error`` yourself; after ``end``/``error``/``cancel`` it ignores calls."""

    __slots__ = (
        "_batch_generation",
        "_done",
        "_events",
        "_index",
        "_put",
        "_queue",
        "_stamps",
        "_start_ns",
        "_texts",
        "_timeline",
        "provider",
        "turn",
    )

    def __init__(
        self,
        put: LineSink,
        provider: str,
        turn: int,
        timeline: StreamTimeline | None,
        *,
        events: bool = False,
        queue: LineQueue | None = None,
    ) -> None:
        """``put`` queues a line; ``events``: also record every ``astream_events`` dict
        ``observe`` sees (``--record-events``: then every chunk is a line of its own, in
        the order of the events). ``queue``: the session's queue that ``put`` feeds, where
        plain answer text is batched (without it, one line per chunk)."""
        self.provider = provider
        self.turn = turn
        self._put = put
        self._start_ns = time.perf_counter_ns()
        self._timeline = timeline
        self._index = 0
        self._done = False
        self._events = events
        self._queue = None if events else queue
        #: the open batch's lists and generation (-1: none open)
        self._texts: list[str] = []
        self._stamps: list[int] = []
        self._batch_generation = -1

    def _t(self) -> float:
        timeline = self._timeline
        if timeline is not None and timeline.start_ns is not None:
            self._start_ns = timeline.start_ns
        return round((time.perf_counter_ns() - self._start_ns) / 1e9, 6)

    @property
    def chunks(self) -> int:
        return self._index

    def chunk(
        self,
        text: str,
        channel: str | None = None,
        tool_call: Mapping[str, Any] | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        usage: Mapping[str, Any] | None = None,
    ) -> None:
        """A streamed piece arrived now. ``channel``: None for answer text, else
        ``reasoning``, ``refusal``, ``tool_call`` or ``meta`` (no text: stop reason, usage).
        ``metadata`` (the chunk's response metadata, stop reason included) and ``usage``
        (its usage delta) are kept so a replay puts them on the same chunk."""
        if self._done:
            return
        queue = self._queue
        if queue is not None:
            if channel is None and not metadata and not usage and self._text(queue, text):
                return
            self._batch_generation = -1  # what follows this line is a new batch
        line: dict[str, Any] = {
            "type": "chunk",
            "provider": self.provider,
            "index": self._index,
            "t": self._t(),
            "text": text,
        }
        if channel is not None:
            line["channel"] = channel
            if tool_call is not None:
                line["tool_call"] = dict(tool_call)
        if metadata:
            line["metadata"] = dict(metadata)
        if usage:
            line["usage"] = dict(usage)
        self._index += 1
        self._put(line)

    def _text(self, queue: LineQueue, text: str) -> bool:
        """Plain answer text into the open batch (a new one if the writer took the last):
        its index and time are what ``chunk`` would have given it. False when no batch can
        hold it (a timeline not started yet: its start is still to come)."""
        timeline = self._timeline
        if timeline is not None:
            if timeline.start_ns is None:
                return False
            self._start_ns = timeline.start_ns
        now = time.perf_counter_ns()
        with queue.lock:
            if self._batch_generation != queue.generation:
                self._texts, self._stamps = [], []
                self._batch_generation = queue.generation
                queue.lines.append(
                    {
                        "type": "chunks",
                        "provider": self.provider,
                        "index": self._index,
                        "start_ns": self._start_ns,
                        "texts": self._texts,
                        "stamps": self._stamps,
                    }
                )
            self._texts.append(text)
            self._stamps.append(now)
            full = len(self._texts) >= BACKPRESSURE_LINES
        self._index += 1
        if full:
            queue.flush()
        return True

    def texts(self, texts: list[str], stamps_ns: list[int]) -> None:
        """Answer-text chunks (no channel, metadata or usage) that arrived at ``stamps_ns``,
        in order: what ``chunk(text)`` records one at a time, for a caller on a hot path that
        batches (the app hands over a frame's worth). The stamps are on the clock of the
        run's timeline (each chunk's ``timeline.last_ns``; without a timeline,
        ``time.perf_counter_ns()``). The lists are kept, not copied: pass fresh ones."""
        if self._done or not texts:
            return
        self._batch_generation = -1
        timeline = self._timeline
        if timeline is not None and timeline.start_ns is not None:
            self._start_ns = timeline.start_ns
        self._put(
            {
                "type": "chunks",
                "provider": self.provider,
                "index": self._index,
                "start_ns": self._start_ns,
                "texts": texts,
                "stamps": stamps_ns,
            }
        )
        self._index += len(texts)

    def record_event(self, event: Mapping[str, Any]) -> None:
        """An inner run's event of a nested application: kept as an ``event`` line when the
        recording keeps events (``--record-events``), never read as this run's chunks."""
        if self._events and not self._done:
            self._put({"type": "event", "provider": self.provider, "t": self._t(), "event": event})

    def observe(self, event: Mapping[str, Any]) -> None:
        """Record what an ``astream_events`` (v1 or v2) dict says about this run."""
        if self._done:
            return
        kind: str = event["event"]
        if self._events:
            self.record_event(event)
        if kind.endswith("_stream"):
            chunk = event["data"]["chunk"]
            if type(chunk) is str:
                self.chunk(chunk)
                return
            content = getattr(chunk, "content", None)
            if content is None:  # a LangChain application's own output (a dict): its JSON
                self.chunk(summarise_output(chunk)[0])
                return
            extra = chunk.additional_kwargs
            meta = chunk.response_metadata
            usage = chunk.usage_metadata
            if content:
                self.chunk(content, metadata=meta, usage=usage)
            elif extra and isinstance(extra.get("refusal"), str):
                # a refusal is not content; an empty one (Anthropic's stop_reason) still marks it
                self.chunk(extra["refusal"], "refusal", metadata=meta, usage=usage)
            elif extra and extra.get("reasoning_content"):
                self.chunk(extra["reasoning_content"], "reasoning", metadata=meta, usage=usage)
            elif chunk.tool_call_chunks:
                for i, call in enumerate(chunk.tool_call_chunks):
                    self.chunk(
                        "",
                        "tool_call",
                        call,
                        metadata=meta if not i else None,
                        usage=usage if not i else None,
                    )
            elif meta or usage:
                self.chunk("", "meta", metadata=meta, usage=usage)
        elif kind.endswith("_end"):
            text, finish, usage = summarise_output(event["data"].get("output"))
            if self._index == 0 and text:
                self.chunk(text)  # not streamed: the whole answer arrived at once
            self.end(text, finish, usage)

    def _metrics(self, metrics: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if metrics is not None:
            return dict(metrics)
        if self._timeline is not None and self._timeline.start_ns is not None:
            return self._timeline.snapshot().to_dict()
        return None

    def end(
        self,
        text: str,
        finish_reason: str | None = None,
        usage: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> None:
        """The run finished with ``text``. ``metrics`` default to the timeline's snapshot."""
        if self._done:
            return
        self._done = True
        self._put(
            {
                "type": "end",
                "provider": self.provider,
                "t": self._t(),
                "text": text,
                "finish_reason": finish_reason,
                "usage": dict(usage) if usage is not None else None,
                "metrics": self._metrics(metrics),
            }
        )

    def error(
        self, exc: Exception, text: str = "", metrics: Mapping[str, Any] | None = None
    ) -> None:
        """The run failed with ``exc`` after ``text`` (its partial text)."""
        if self._done:
            return
        self._done = True
        self._put(
            error_line(
                exc, provider=self.provider, t=self._t(), text=text, metrics=self._metrics(metrics)
            )
        )

    def cancel(self, text: str = "", metrics: Mapping[str, Any] | None = None) -> None:
        """The user stopped the run after ``text``."""
        if self._done:
            return
        self._done = True
        self._put(
            {
                "type": "error",
                "provider": self.provider,
                "t": self._t(),
                "text": text,
                "error": {
                    "kind": "cancelled",
                    "message": "cancelled by the user",
                    "status": None,
                    "detail": "cancelled by the user",
                    "hint": None,
                },
                "metrics": self._metrics(metrics),
            }
        )


def chunk_lines(batch: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The recording ``chunk`` lines of a ``texts`` batch (the recorder's internal
    ``chunks`` entry)."""
    provider, first, start = batch["provider"], batch["index"], batch["start_ns"]
    return [
        {
            "type": "chunk",
            "provider": provider,
            "index": first + i,
            "t": round((ns - start) / 1e9, 6),
            "text": text,
        }
        for i, (text, ns) in enumerate(zip(batch["texts"], batch["stamps"], strict=True))
    ]


__all__ = ["BACKPRESSURE_LINES", "LineQueue", "LineSink", "RunRecorder", "chunk_lines"]
