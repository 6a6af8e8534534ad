"""One pane's conversation and its current run, without any widget.

The worker of a pane runs :meth:`PaneSession.run`: it consumes ``llm.astream_events`` and
only *appends* what arrives (chunk texts, events) to lists; the app's frame timer takes those
lists once per frame and draws them. So a chunk costs the worker a few list appends, however
fast chunks come, and the screen is updated at most once per frame per pane.

A zero-latency provider never suspends, so the run yields to the event loop every
``YIELD_EVERY`` events: keys, timers and frames keep flowing during the fastest stream.

Errors never escape as tracebacks: a ``ProviderError`` becomes one line
``kind: message (hint)``; anything else becomes ``TypeName: message``. Text received before
a failure or a cancel stays on screen and in the conversation.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any, Literal, cast

from ..core.inert import escape_controls
from ..core.messages import AIMessage, BaseMessage, HumanMessage
from ..core.metrics import StreamTimeline
from ..core.runnable import LanguageModel
from ..errors import ProviderError

State = Literal["idle", "waiting", "streaming", "done", "error", "cancelled"]
FINISHED: frozenset[str] = frozenset({"done", "error", "cancelled"})
RUNNING: frozenset[str] = frozenset({"waiting", "streaming"})

#: Events handled between two voluntary yields to the event loop (about 1 ms of work).
YIELD_EVERY = 256
#: Arrival times kept for the gap sparkline (the last this-many chunks).
STAMPS = 160

Clock = Callable[[], int]
#: One events-log entry: (provider name, nanoseconds since the run started, event name,
#: run id, payload). The payload of a stream event is its chunk's text, or the chunk itself
#: when it carries more than text (usage, tool call, reasoning...); of any other event, the
#: event dict. Keeping text rather than event dicts per chunk matters: a million retained
#: dicts keep the garbage collector busy; strings and integers it never looks at.
EventEntry = tuple[str, int, str, str, Any]


def error_line(exc: BaseException) -> str:
    """The one line a pane shows for a failure: ``kind: message (hint)``, made inert."""
    if isinstance(exc, ProviderError):
        line = f"{exc.kind}: {exc.message}"
        if exc.hint:
            line += f" ({exc.hint})"
    else:
        message = str(exc) or "no message"
        line = f"{type(exc).__name__}: {message}"
    line = " ".join(line.split("\n"))
    return escape_controls(line)


class PaneSession:
    """A provider, its conversation, and what its current run has produced but not yet shown."""

    def __init__(self, name: str, ref: str, llm: LanguageModel | None, *,
                 build_error: str | None = None, clock: Clock = time.perf_counter_ns) -> None:
        self.name = name
        self.ref = ref
        self.llm = llm
        self.clock = clock
        self.history: list[BaseMessage] = []
        self.state: State = "error" if build_error else "idle"
        self.error: str | None = build_error
        self.timeline: StreamTimeline | None = None
        #: chunk texts not yet drawn; swapped out by :meth:`take_pending`
        self.pending: list[str] = []
        #: events not yet shown in the log; swapped out by :meth:`take_events`
        self.events: list[EventEntry] = []
        #: text of the answer in progress, one string per frame
        self.answer_parts: list[str] = []
        #: arrival times (ns) of the last chunks with text, for the gap sparkline
        self.stamps: deque[int] = deque(maxlen=STAMPS)
        self.prompt: str | None = None
        self.run_id: str = ""
        self.runs = 0
        self.generation = 0
        #: whether the last run's exchange was added to ``history``
        self.recorded = False
        self._answer_final = False

    @property
    def describe(self) -> str:
        """``kind:model`` for the header."""
        if self.llm is None:
            return self.ref
        kind = getattr(getattr(self.llm, "spec", None), "kind", None) or self.llm.ls_provider
        return f"{kind}:{self.llm.model}" if self.llm.model else str(kind)

    @property
    def running(self) -> bool:
        return self.state in RUNNING

    def take_pending(self) -> list[str]:
        """The chunk texts that arrived since the last call (the list object stays: the
        worker holds its ``append``)."""
        pending = self.pending
        if not pending:
            return []
        batch = pending[:]
        pending.clear()
        if not self._answer_final:
            self.answer_parts.append("".join(batch))
        return batch

    def take_events(self) -> list[EventEntry]:
        events = self.events
        if not events:
            return []
        batch = events[:]
        events.clear()
        return batch

    def answer_text(self) -> str:
        if self._answer_final:
            return "".join(self.answer_parts)
        return "".join(self.answer_parts) + "".join(self.pending)

    def new_conversation(self) -> None:
        self.history.clear()
        self.prompt = None
        self.recorded = False
        if self.state != "error" or self.llm is not None:
            self.state = "idle"
            self.error = None
        self.timeline = None

    def forget_last_exchange(self) -> str | None:
        """Drop the last run's exchange for a retry; returns its prompt (None if no run).
        A run that left nothing in the conversation (failed before any text) drops nothing."""
        if self.prompt is None:
            return None
        if self.recorded and len(self.history) >= 2:
            del self.history[-2:]
            self.recorded = False
        return self.prompt

    async def run(self, prompt: str, *, version: Literal["v1", "v2"] = "v2") -> None:
        """Stream one answer to ``prompt`` with this pane's history. Meant to be the body of
        the pane's worker; cancelling it closes the provider's iterator (and connection)."""
        llm = self.llm
        if llm is None:
            return
        self.generation += 1
        generation = self.generation
        self.runs += 1
        self.prompt = prompt
        self.pending.clear()
        self.answer_parts = []
        self._answer_final = False
        self.error = None
        self.state = "waiting"
        timeline = StreamTimeline(clock=self.clock)
        self.timeline = timeline
        chat = llm.flavor == "chat"
        stream_name = "on_chat_model_stream" if chat else "on_llm_stream"
        messages: list[BaseMessage] = [*self.history, HumanMessage(prompt)]
        model_input: Any = messages if (chat or self.history) else prompt
        name = self.name
        n = 0
        outcome: State = "done"
        # bound methods and locals: this loop runs once per event, up to a million times
        pending_append = self.pending.append
        events_append = self.events.append
        self.stamps.clear()
        stamp = self.stamps.append
        waiting = True
        start = 0
        run_id = ""
        try:
            events = cast(
                AsyncGenerator[dict[str, Any], None],
                llm.astream_events(model_input, {"timeline": timeline}, version=version),
            )
            async with aclosing(events) as stream:
                async for ev in stream:
                    if ev["event"] == stream_name:
                        chunk = ev["data"]["chunk"]
                        if chat:
                            text = chunk.content
                            payload = chunk if (
                                chunk.usage_metadata or chunk.additional_kwargs
                                or chunk.response_metadata or chunk.tool_call_chunks
                            ) else text
                        else:
                            text = payload = chunk
                        if waiting:
                            start = timeline.start_ns or 0
                            run_id = ev["run_id"]
                        if text:
                            pending_append(text)
                            stamp(timeline.last_ns or 0)
                            if waiting:
                                waiting = False
                                self.state = "streaming"
                        events_append(
                            (name, (timeline.last_ns or start) - start, stream_name, run_id,
                             payload)
                        )
                        n += 1
                        if n % YIELD_EVERY == 0:
                            await asyncio.sleep(0)
                    else:
                        run_id = self.run_id = ev.get("run_id", self.run_id)
                        first = timeline.start_ns
                        end = timeline.end_ns or timeline.last_ns
                        rel = end - first if (first is not None and end is not None) else 0
                        events_append((name, rel, ev["event"], run_id, ev))
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except Exception as exc:  # noqa: BLE001  # a pane shows any failure as one line
            outcome = "error"
            self.error = error_line(exc)
            first = timeline.start_ns
            rel = (timeline.clock() - first) if first is not None else 0
            self.events.append((name, rel, "error", self.run_id,
                                {"event": "error", "data": {"error": self.error}}))
        finally:
            timeline.finish()
            if generation == self.generation:  # a newer run has not taken over the pane
                self._record(prompt, outcome)
                self.state = outcome

    def _record(self, prompt: str, outcome: State) -> None:
        """Keep the exchange in the conversation; a failed or cancelled one is kept with the
        text that arrived, and dropped only when nothing arrived at all."""
        text = self.answer_text()
        # one string, shared with the history: no second copy of a long answer (chunks still
        # pending are drawn by the next frame but no longer added to the answer)
        self.answer_parts = [text]
        self._answer_final = True
        self.recorded = outcome == "done" or bool(text)
        if self.recorded:
            self.history.append(HumanMessage(prompt))
            self.history.append(AIMessage(text))
