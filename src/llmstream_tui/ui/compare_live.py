"""What the live comparison screen shows, without any widget (issue 18).

The runner (``sessions/compare_run.py``) calls :meth:`CompareLive.started` as each counted
request starts, handing over the list it appends that request's chunks to, and
:meth:`CompareLive.finished` as it ends. Both only append and count: the screen reads this
model a few times a second (``ui/screens/compare.py``), so 256 concurrent streams cost the
UI one redraw per tick, not one per request or per chunk.

Memory: every request keeps its figures (its ``RequestRecord``, as the headless run does);
its chunks are kept while it runs and, once finished, for the last :data:`KEEP_CHUNKS`
finished requests only (older ones drop their chunks and answer text: they can still be
opened, showing their figures). With ``bounded=False`` (``compare --out``, which writes
every request's chunks anyway) nothing is dropped.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from ..core.compare_stats import GroupSummary, RequestRecord, percentile, summarise
from ..sessions.compare_run import (
    CompareRun,
    LoadShape,
    PromptItem,
    RequestRun,
    run_compare,
)

__all__ = [
    "KEEP_CHUNKS",
    "CompareLive",
    "GroupProgress",
    "LiveRequest",
    "Status",
    "request_events",
    "runner",
]

#: Finished requests that keep their chunks (the newest); running ones always do.
KEEP_CHUNKS: Final = 200
#: How many of the runner's loop ticks (10 ms each) the header's client lag is taken over.
LAG_WINDOW: Final = 500

Status = Literal["running", "done", "error", "cancelled"]
Chunk = tuple[float, str, str]


@dataclass(slots=True, eq=False)
class LiveRequest:
    """One counted request, running or finished. ``chunks`` is the runner's own list
    (``(t since the request started, text, channel)``), growing while it runs."""

    provider: str
    level: str
    index: int
    prompt: PromptItem
    chunks: list[Chunk]
    #: ``time.monotonic()`` when it started (a running request's age)
    started_s: float
    done: RequestRun | None = None
    #: the run was cancelled while this one streamed: it is not counted
    cut: bool = False
    #: its chunks were dropped to bound memory (``KEEP_CHUNKS``)
    dropped: bool = False

    @property
    def status(self) -> Status:
        if self.done is not None:
            return "done" if self.done.record.ok else "error"
        return "cancelled" if self.cut else "running"

    @property
    def record(self) -> RequestRecord | None:
        return None if self.done is None else self.done.record

    @property
    def ttft_s(self) -> float | None:
        """Time to the first chunk: the record's once finished, else the first chunk's."""
        if self.done is not None:
            return self.done.record.time_to_first_token
        return self.chunks[0][0] if self.chunks else None


@dataclass(frozen=True, slots=True)
class GroupProgress:
    """A provider at a level: requests finished (ok + errors) against the plan (None when
    only ``--duration`` bounds it), and how many are streaming now."""

    provider: str
    level: str
    finished: int
    errors: int
    planned: int | None
    running: int


@dataclass
class CompareLive:
    """The live state of one comparison: the run (what finished) and every request seen."""

    run: CompareRun = field(default_factory=CompareRun)
    bounded: bool = True
    keep: int = KEEP_CHUNKS
    #: every counted request, in the order they started
    requests: list[LiveRequest] = field(default_factory=list)
    #: bumped by every change: a reader redraws when it moved
    version: int = 0
    #: the run ended: ``"done"``, ``"cancelled"``, or ``"failed: ..."`` (a bug's one line)
    ended: str | None = None
    _by_key: dict[tuple[str, str, int], LiveRequest] = field(default_factory=dict)
    _kept: deque[LiveRequest] = field(default_factory=deque)
    _counts: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    _summary_cache: dict[tuple[str, str], tuple[int, GroupSummary]] = field(default_factory=dict)
    _values_cache: dict[tuple[str, str, str], tuple[int, list[float]]] = field(default_factory=dict)

    # -- the runner's callbacks (compare_run.OnStart / OnRequest) ---------------------------

    def started(
        self, provider: str, level: str, index: int, item: PromptItem, chunks: list[Chunk]
    ) -> None:
        live = LiveRequest(provider, level, index, item, chunks, time.monotonic())
        self.requests.append(live)
        self._by_key[(provider, level, index)] = live
        self._count(provider, level)[2] += 1
        self.version += 1

    def finished(self, done: RequestRun) -> None:
        rec = done.record
        live = self._by_key.pop((rec.provider, rec.level, rec.index), None)
        counts = self._count(rec.provider, rec.level)
        counts[0] += 1
        counts[1] += 0 if rec.ok else 1
        if live is not None:
            live.done = done
            counts[2] -= 1
            if self.bounded:
                self._bound(live)
        self.version += 1

    def end(self, how: str) -> None:
        """The run is over (``done``, ``cancelled``, or a failure's line): requests still
        marked running were cut off and are not counted."""
        self.ended = how
        for live in self._by_key.values():
            live.cut = True
        for counts in self._counts.values():
            counts[2] = 0
        self._by_key.clear()
        self.version += 1

    def _count(self, provider: str, level: str) -> list[int]:
        """[finished, errors, running] of a group."""
        return self._counts.setdefault((provider, level), [0, 0, 0])

    def _bound(self, live: LiveRequest) -> None:
        self._kept.append(live)
        while len(self._kept) > self.keep:
            old = self._kept.popleft()
            old.chunks.clear()  # the runner's list: the RequestRun's too
            if old.done is not None:
                old.done.record.text = ""
            old.dropped = True

    # -- what the screen reads ----------------------------------------------------------------

    def progress(self) -> list[GroupProgress]:
        """Every planned group (provider x level, in run order), then any other seen.
        The runner's thread adds groups as they start: the dicts are copied (one C call
        each, atomic under the GIL) before they are walked."""
        planned, seen = dict(self.run.planned), list(self._counts)
        keys = list(planned) or seen
        keys += [k for k in seen if k not in planned]
        out = []
        for provider, level in keys:
            finished, errors, running = self._counts.get((provider, level), [0, 0, 0])
            out.append(
                GroupProgress(
                    provider, level, finished, errors, planned.get((provider, level)), running
                )
            )
        return out

    def recent_loop_lag(self) -> float | None:
        """The p99 of how late the runner's loop woke over its last ``LAG_WINDOW`` ticks
        (seconds), the level now running; None before it ticked. Drawing this screen
        holds the GIL the runner's thread needs: this is what it costs the figures."""
        if not self.run.loop_lag:
            return None
        recent = sorted(list(self.run.loop_lag.values())[-1][-LAG_WINDOW:])
        return percentile(recent, 99) if recent else None

    def _groups(self) -> dict[tuple[str, str], list[RequestRecord]]:
        """What finished, by (provider, level), in the order each group first appears."""
        groups: dict[tuple[str, str], list[RequestRecord]] = {}
        for done in self.run.requests[:]:  # the runner's thread appends meanwhile
            rec = done.record
            groups.setdefault((rec.provider, rec.level), []).append(rec)
        return groups

    def summaries(self) -> list[GroupSummary]:
        """The statistics of what finished: ``compare_stats.summarise`` of each group (the
        CLI's figures), recomputed only for a group that has finished requests since the
        last call (a sweep's earlier levels, a provider that is done, cost nothing)."""
        out = []
        for key, records in self._groups().items():
            cached = self._summary_cache.get(key)
            if cached is None or cached[0] != len(records):
                cached = self._summary_cache[key] = (len(records), summarise(records)[0])
            out.append(cached[1])
        return out

    def values(self, metric: str) -> dict[str, list[float]]:
        """Each group's values of ``metric`` over its successful requests (the plots'
        input), keyed ``provider`` (``provider level`` when there are several levels);
        gathered again only for a group that changed since the last call."""
        several = len(self.run.levels) > 1
        out: dict[str, list[float]] = {}
        for (provider, level), records in self._groups().items():
            cached = self._values_cache.get((metric, provider, level))
            if cached is None or cached[0] != len(records):
                values = [v for r in records if r.ok for v in r.values(metric)]
                cached = self._values_cache[(metric, provider, level)] = (len(records), values)
            out[f"{provider} {level}" if several else provider] = cached[1]
        return out


def request_events(
    live: LiveRequest,
    first: int = 0,
    upto: int | None = None,
    *,
    opening: bool = True,
    ending: bool = True,
) -> list[tuple[str, int, str, str, Any]]:
    """The request's events, for the stream-pane view's events log: with ``opening`` its
    start, a stream event per chunk of ``chunks[first:upto]`` (its text), and,
    with ``ending``, its end or error once it has finished; each at its time (ns since it
    started). Built from what the runner records (it streams with ``astream``, not
    ``astream_events``), in the events log's entry form."""
    run_id = f"{live.provider}/{live.level}/{live.index}"
    name = live.provider
    entries: list[tuple[str, int, str, str, Any]] = []
    if opening:
        start = {"event": "on_chat_model_start", "data": {"input": live.prompt.text}}
        entries.append((name, 0, "on_chat_model_start", run_id, start))
    for t, text, channel in live.chunks[first:upto]:
        payload: Any = text if channel == "text" else {"channel": channel, "text": text}
        entries.append((name, int(t * 1e9), "on_chat_model_stream", run_id, payload))
    rec = live.record
    if rec is not None and ending:
        end_ns = int((rec.request_latency or 0.0) * 1e9)
        metrics = rec.to_dict()
        if rec.ok:
            text = "".join(t for _, t, channel in live.chunks if channel == "text")
            end = {"event": "on_chat_model_end", "data": {"output": text, "metrics": metrics}}
            entries.append((name, end_ns, "on_chat_model_end", run_id, end))
        else:
            line = f"{rec.error_kind}: {rec.error_message}"
            error = {"event": "on_chat_model_error", "data": {"error": line, "metrics": metrics}}
            entries.append((name, end_ns, "on_chat_model_error", run_id, error))
    return entries


def runner(
    live: CompareLive,
    targets: Sequence[tuple[str, Mapping[str, Any]]],
    prompts: Sequence[PromptItem],
    shape: LoadShape,
    *,
    keep_chunks: bool = False,
    on_request: Callable[[RequestRun], None] | None = None,
    client: Any = None,
) -> Callable[[], Awaitable[CompareRun]]:
    """The comparison the screen runs (in its worker), feeding ``live``; ``on_request`` is
    called too (the CLI's "saved to history" or progress), after ``live`` has the request."""

    def finished(done: RequestRun) -> None:
        live.finished(done)
        if on_request is not None:
            on_request(done)

    def start() -> Awaitable[CompareRun]:
        return run_compare(
            targets,
            prompts,
            shape,
            run=live.run,
            on_start=live.started,
            on_request=finished,
            keep_chunks=keep_chunks,
            client=client,
        )

    return start
