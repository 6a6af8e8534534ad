"""``RunRecorder``: what one provider's answer to one turn reports, as recording lines.

``SessionRecorder.start_run`` makes one; the CLI and the app call it as the run streams.
Every call turns into a line handed to the session's queue (``put``), so it is on the hot
path: nothing per chunk grows with the text already received. Plain answer text (no
channel, metadata or usage) goes into the run's open ``TextBatch``, which the session's
queue (``LineQueue``) turns into a ``chunks`` line at each drain: per chunk a timestamp and
two list appends (no lock), and the history stores the batch with one statement
(``chunk_lines`` spells it out for a recording file). A caller that batches text itself
(the app, once per frame) hands a batch over with ``texts``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from ..core.events import summarise_output
from ..core.messages import AIMessageChunk
from ..core.recording_lines import error_line

if TYPE_CHECKING:
    from ..core.metrics import StreamTimeline

#: Where a run's lines go: the session's queue (``SessionRecorder._put``).
LineSink = Callable[[dict[str, Any]], None]

_now = time.perf_counter_ns

#: Pending lines past which the producer itself flushes (bounded memory at any rate).
BACKPRESSURE_LINES: Final = 50_000
#: Chunks one open text batch holds before its run starts another (bounded lists).
BATCH_CHUNKS: Final = 65_536


class TextBatch:
    """One run's plain answer text as it streams: the producer (the run's thread) appends
    a text then its stamp, without a lock; the writer thread takes what is complete so far
    (``len(stamps)`` items: a text is always appended before its stamp) and remembers how
    far it got. ``sealed`` (the final count) is set by the producer before any other line
    of the run is queued, so a run's lines keep their order. Appends and ``len`` are each
    atomic under the GIL; a lock per chunk cost more than the rest of the recording."""

    __slots__ = ("first", "provider", "sealed", "stamps", "start_ns", "taken", "texts")

    def __init__(self, provider: str, first: int, start_ns: int) -> None:
        self.provider = provider
        self.first = first
        self.start_ns = start_ns
        self.texts: list[str] = []
        self.stamps: list[int] = []
        self.sealed: int | None = None
        self.taken = 0

    def seal(self) -> None:
        self.sealed = len(self.stamps)


class LineQueue:
    """A session's lines waiting for the writer thread, with the runs' open text batches.

    ``take`` turns each batch into a ``chunks`` line holding what it gained since the last
    take (nothing is lost or repeated: a batch still open is carried to the next take, and
    one sealed is dropped once taken whole), so a stalled stream's last chunks are saved at
    the next drain like any other line. One consumer at a time (the recorder's flush lock).
    """

    __slots__ = ("flush", "lines", "lock", "open")

    def __init__(self, flush: Callable[[], None]) -> None:
        """``flush``: what drains the queue now (called by a producer that outruns the
        writer thread, so the backlog stays bounded)."""
        self.lock = threading.Lock()
        self.lines: list[dict[str, Any] | TextBatch] = []
        #: batches taken in part, still open (the consumer's own)
        self.open: list[TextBatch] = []
        self.flush = flush

    def put(self, line: dict[str, Any] | TextBatch) -> None:
        with self.lock:
            self.lines.append(line)
            backlog = len(self.lines)
        if backlog >= BACKPRESSURE_LINES:
            # A producer that never waits (a replay at speed 0, a scripted stream) outruns
            # the writer thread, which shares the GIL: write in the caller's thread instead
            # of letting the backlog grow with the stream.
            self.flush()

    def take(self) -> list[dict[str, Any]]:
        """Everything queued so far as recording lines, in each run's order."""
        with self.lock:
            lines, self.lines = self.lines, []
        carried, self.open = self.open, []
        out: list[dict[str, Any]] = []
        for batch in carried:
            self._slice(batch, out)
        for line in lines:
            if type(line) is TextBatch:
                self._slice(line, out)
            else:
                out.append(line)  # type: ignore[arg-type]  # a dict: not a TextBatch
        return out

    def _slice(self, batch: TextBatch, out: list[dict[str, Any]]) -> None:
        sealed = batch.sealed
        end = len(batch.stamps) if sealed is None else sealed
        taken = batch.taken
        if end > taken:
            out.append(
                {
                    "type": "chunks",
                    "provider": batch.provider,
                    "index": batch.first + taken,
                    "start_ns": batch.start_ns,
                    "texts": batch.texts[taken:end],
                    "stamps": batch.stamps[taken:end],
                }
            )
            batch.taken = end
        if sealed is None:
            self.open.append(batch)


class RunRecorder:
    """One provider's answer to one turn. ``observe`` each ``astream_events`` dict, or call
    ``chunk``/``end``/``error`` yourself; after ``end``/``error``/``cancel`` it ignores calls."""

    __slots__ = (
        "_batch",
        "_counted",
        "_done",
        "_events",
        "_index",
        "_put",
        "_queue",
        "_start_ns",
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
        #: the open batch of plain answer text (None: none open)
        self._batch: TextBatch | None = None
        #: the timeline's chunk count when its last stamp was taken for a chunk here
        self._counted = 0  # (a timeline has a last stamp once it counted a chunk)

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
            self._seal()  # the batch ends before this line
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
        """Plain answer text into the open batch (a new one when none is open): its index
        and time are what ``chunk`` would have given it. False when no batch can hold it (a
        timeline not started yet: its start is still to come)."""
        timeline = self._timeline
        if timeline is not None:
            if timeline.start_ns is None:
                return False
            self._start_ns = timeline.start_ns
        if timeline is not None and timeline.chunks != self._counted:
            self._counted = timeline.chunks  # the timeline's stamp of it, as observe takes
            now: int = timeline.last_ns  # type: ignore[assignment]  # set once it counts one
        else:
            now = time.perf_counter_ns()
        batch = self._batch
        if batch is None or len(batch.stamps) >= BATCH_CHUNKS:
            full = batch
            if full is not None:
                full.seal()
            batch = self._batch = TextBatch(self.provider, self._index, self._start_ns)
            queue.put(batch)
            if full is not None and full.taken == 0:  # the writer has not run meanwhile
                queue.flush()
        batch.texts.append(text)
        batch.stamps.append(now)
        self._index += 1
        return True

    def _seal(self) -> None:
        """End the open batch: the run's next line comes after all of it."""
        batch = self._batch
        if batch is not None:
            batch.seal()
            self._batch = None

    def texts(self, texts: list[str], stamps_ns: list[int]) -> None:
        """Answer-text chunks (no channel, metadata or usage) that arrived at ``stamps_ns``,
        in order: what ``chunk(text)`` records one at a time, for a caller on a hot path that
        batches (the app hands over a frame's worth). The stamps are on the clock of the
        run's timeline (each chunk's ``timeline.last_ns``; without a timeline,
        ``time.perf_counter_ns()``). The lists are kept, not copied: pass fresh ones."""
        if self._done or not texts:
            return
        self._seal()
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
        """Record what an ``astream_events`` (v1 or v2) dict says about this run.

        The common event first, in as few steps as Python allows (the CLI calls this per
        chunk): a chat model's plain answer text while a text batch is open (an open batch
        means the run is neither done nor recording events) is a stamp and two appends;
        everything else takes ``_observe``."""
        if (
            self._batch is not None
            and event["event"] == "on_chat_model_stream"
            and self._batched(event["data"]["chunk"])
        ):
            return
        self._observe(event)

    @property
    def records_events(self) -> bool:
        """Whether every ``astream_events`` dict is kept (``--record-events``): then only
        ``observe`` can record the run, never ``stream_chunk``/``stream_end``."""
        return self._events

    def stream_chunk(self, chunk: Any) -> None:
        """The ``data.chunk`` of one of the run's own stream events, for a caller that
        builds no events (``stream``'s plain path on ``LanguageModel.astream_to``): what
        ``observe`` records of that event. Not for a recorder that ``records_events``."""
        if self._batch is None or not self._batched(chunk):
            self._observe({"event": "on_chat_model_stream", "data": {"chunk": chunk}})

    def stream_end(self, output: Any) -> None:
        """The run's end output (its end event's ``data.output``), as ``stream_chunk``."""
        self._observe({"event": "on_chat_model_end", "data": {"output": output}})

    def _batched(self, chunk: Any) -> bool:
        """A chat model's plain answer text into the open batch: a stamp and two appends
        (an open batch means the run is neither done nor recording events). False for
        anything else, which ``_observe`` takes."""
        batch = self._batch
        if (
            type(chunk) is AIMessageChunk
            and chunk.content
            and not chunk.response_metadata
            and not chunk.usage_metadata
            and batch is not None
            and len(batch.stamps) < BATCH_CHUNKS
        ):
            batch.texts.append(chunk.content)
            timeline = self._timeline
            if timeline is not None and timeline.chunks != self._counted:
                # the stamp the timeline took as this chunk arrived: no second clock
                # read (one costs 0.1-0.2 us on this kind of VM), and the same instant
                # its metrics count
                self._counted = timeline.chunks
                batch.stamps.append(timeline.last_ns)  # type: ignore[arg-type]  # set with chunks
            else:
                batch.stamps.append(_now())
            self._index += 1
            return True
        return False

    def _observe(self, event: Mapping[str, Any]) -> None:
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
            meta = chunk.response_metadata
            usage = chunk.usage_metadata
            if content:
                queue = self._queue
                if queue is None or meta or usage or not self._text(queue, content):
                    self.chunk(content, metadata=meta, usage=usage)  # not plain text
                return
            extra = chunk.additional_kwargs
            if extra and isinstance(extra.get("refusal"), str):
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
        self._seal()
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
        self._seal()
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
        self._seal()
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


__all__ = [
    "BACKPRESSURE_LINES",
    "BATCH_CHUNKS",
    "LineQueue",
    "LineSink",
    "RunRecorder",
    "TextBatch",
    "chunk_lines",
]
