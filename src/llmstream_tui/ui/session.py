"""One pane's conversation and its current run, without any widget.

The worker of a pane runs :meth:`PaneSession.run`: it consumes ``llm.astream_events`` and
only *appends* what arrives (chunk texts, events) to lists; the app's frame timer takes those
lists once per frame and draws them. So a chunk costs the worker a few list appends, however
fast chunks come, and the screen is updated at most once per frame per pane.

A whole LangChain application (a backend that is ``run_sources.RunsNested``) streams its
run tree: the pane's chunks are then its root run's (what the application outputs), found by
run id, not every ``*_stream`` event; ``next_source`` switches the pane to one chat model
inside and back (``run_sources.RunSources`` keeps each run's chunks). Our own backends never
take that branch: their chunks are matched by event name first, as before.

A zero-latency provider never suspends, so the run yields to the event loop once it has
spent ``SLICE_NS`` of the loop's time (the clock is read every ``CHECK_EVERY`` events): a
key, a frame or a repaint waits at most one short slice at each step of its way to the
screen, however fast chunks come and however loaded the machine is (a count of events
alone makes the slice as long as the machine is slow).

Errors never escape as tracebacks: a ``ProviderError`` becomes one line
``kind: message (hint)``; anything else becomes ``TypeName: message``. Text received before
a failure or a cancel stays on screen and in the conversation.

Given a ``SessionRecorder``, a run is also saved (history database, recording file) at no
extra cost per chunk: plain answer text (no usage, metadata or tool call) is taken from the
lists the worker fills anyway (the texts to draw and their arrival times), and handed to
``RunRecorder.texts`` once per frame as one batch. Every other event goes to
``RunRecorder.observe`` at once, after the text gathered before it. The recorder's own thread
does the writing, so the run never waits for a disk.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast, runtime_checkable

from ..core.inert import escape_controls
from ..core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from ..core.metrics import StreamTimeline
from ..core.redaction import mask_urls
from ..core.runnable import LanguageModel
from ..errors import ProviderError
from ..providers.registry import ProviderTables, build_llm
from .channels import RunChannels
from .run_sources import RunsNested, RunSources

if TYPE_CHECKING:
    from ..providers.spec import ProviderSpec
    from ..sessions.recorder import RunRecorder, SessionRecorder

State = Literal["idle", "waiting", "streaming", "done", "error", "cancelled"]
FINISHED: frozenset[str] = frozenset({"done", "error", "cancelled"})
RUNNING: frozenset[str] = frozenset({"waiting", "streaming"})

#: The event loop time a run takes before it yields to the loop (keys, timers, frames):
#: a key's way to the screen crosses the loop several times, each after one slice.
SLICE_NS = 1_000_000
#: Events between two readings of the clock (a few microseconds each: a slice may run
#: over by that much).
CHECK_EVERY = 16
#: The most events between two yields when the clock does not advance (a test's).
YIELD_EVERY = 256
#: Arrival times kept for the gap sparkline (the last this-many chunks).
STAMPS = 160

Clock = Callable[[], int]
#: One events-log entry: (provider name, nanoseconds since the run started, event name,
#: run id, payload). The payload of a stream event is its chunk's text, or the chunk itself
#: when it carries more than text (usage, tool call, reasoning...; a nested application's
#: dict or list chunk: its compact JSON); of any other event, the event dict. Keeping text
#: rather than event dicts per chunk matters: a million retained dicts keep the garbage
#: collector busy; strings and integers it never looks at.
EventEntry = tuple[str, int, str, str, Any]


def error_summary(exc: BaseException) -> str:
    """The one line a pane shows for a failure: ``kind: message (hint)``, made inert.
    (Not ``core.recording_lines.error_line``, the recording's error record.)"""
    if isinstance(exc, ProviderError):
        line = f"{exc.kind}: {exc.message}"
        if exc.hint:
            line += f" ({exc.hint})"
    else:
        message = str(exc) or "no message"
        line = f"{type(exc).__name__}: {message}"
    line = " ".join(line.split("\n"))
    return escape_controls(line)


def kept_in_conversation(status: str, text: str) -> bool:
    """Whether an exchange stays in the conversation: it finished, or some text arrived
    (a failed or cancelled run with no text at all is dropped). One rule for live runs
    and reopened ones."""
    return status == "done" or bool(text)


@runtime_checkable
class BuiltFromSpec(Protocol):
    """A backend that keeps the provider table it was built from (every built-in kind
    does): its ``kind`` is what the user wrote, where ``ls_provider`` is only the family
    (``openai-responses`` and ``openai-chat`` are both ``openai``)."""

    @property
    def spec(self) -> ProviderSpec: ...


class PaneSession:
    """A provider, its conversation, and what its current run has produced but not yet shown."""

    def __init__(
        self,
        name: str,
        ref: str,
        llm: LanguageModel | None,
        *,
        build_error: str | None = None,
        clock: Clock = time.perf_counter_ns,
    ) -> None:
        self.name = name
        self.ref = ref
        self.llm = llm
        self.clock = clock
        #: the pane's conversation: prompt, answer, prompt, answer... (what a follow-up sends)
        self.conversation: list[BaseMessage] = []
        self.state: State = "error" if build_error else "idle"
        self.error: str | None = build_error
        self.timeline: StreamTimeline | None = None
        #: chunk texts not yet drawn, and their arrival times (ns); taken by :meth:`take_pending`
        self.pending: list[str] = []
        self.arrivals: list[int] = []
        #: events not yet shown in the log; swapped out by :meth:`take_events`
        self.events: list[EventEntry] = []
        #: text of the answer in progress, one string per frame
        self.answer_parts: list[str] = []
        #: arrival times (ns) of the last chunks with text, for the gap sparkline (to the
        #: last frame)
        self.stamps: deque[int] = deque(maxlen=STAMPS)
        self.prompt: str | None = None
        self.run_id: str = ""
        self.runs = 0
        self.generation = 0
        #: the name this pane's runs are saved under: unique among the app's panes (the app
        #: sets it), so two panes of one provider, or a retry, are never mixed up
        self.record_name = name
        self._description: dict[str, Any] | None = None
        #: the current run's recorder; ``pending[_unsaved:]`` is the text not yet handed to it
        self._saved: RunRecorder | None = None
        self._unsaved = 0
        #: whether the last run's exchange was added to ``conversation``
        self.recorded = False
        #: the current run's reasoning, refusal, tool calls and usage details (channels.py)
        self.channels = RunChannels()
        self._answer_final = False
        #: the summed output of the current run's model (its ``on_*_end`` event): what the
        #: conversation keeps of the answer besides its text (tool calls, reasoning, signed
        #: thinking blocks), since a tool-use conversation must send them back
        self._final: AIMessageChunk | None = None
        #: messages the last run's prompt added to ``conversation`` before its answer (one
        #: ``HumanMessage``, or one ``ToolMessage`` per tool call it answered)
        self._turn_messages = 0
        #: a nested application's run (``RunsNested`` backends): which of its runs the pane
        #: shows, and what each streamed (None for our own backends)
        self.sources: RunSources | None = None

    @property
    def describe(self) -> str:
        """``kind:model`` for the header."""
        if self.llm is None:
            return self.ref
        llm = self.llm
        kind = llm.spec.kind if isinstance(llm, BuiltFromSpec) else llm.ls_provider
        # a kind with no model names itself as the model (scripted): say it once
        what = f"{kind}:{llm.model}" if llm.model and llm.model != kind else str(kind)
        sources = self.sources
        shown = sources.shown_source if sources is not None else None
        if shown is not None and sources is not None and shown is not sources.root:
            what += f" ▸ {shown.label}"
        return what

    @property
    def running(self) -> bool:
        return self.state in RUNNING

    def take_pending(self) -> list[str]:
        """The chunk texts that arrived since the last call (the list objects stay: the
        worker holds their ``append``); their arrival times go to ``stamps`` and, with the
        texts, to the run's recorder."""
        pending = self.pending
        if not pending:
            return []
        arrivals = self.arrivals
        if self._saved is not None:
            self._save_upto(len(pending))
        self._unsaved = 0
        batch = pending[:]
        pending.clear()
        self.stamps.extend(arrivals[-STAMPS:])
        arrivals.clear()
        if not self._answer_final:
            self.answer_parts.append("".join(batch))
        return batch

    def next_source(self) -> str | None:
        """Switch the pane of a nested application to its next run: from the application's
        output to each chat model seen so far, and back. What that run streamed is queued
        again whole (the pane redraws the answer from it), its side channels replayed and its
        timeline becomes the one the metrics read. Returns the run's label, or None when
        there is nothing to switch to (our own backends, a run with no model inside)."""
        sources = self.sources
        chosen = sources.next() if sources is not None else None
        if chosen is None:
            return None
        # in place: the worker holds these lists' ``append``
        self.pending[:] = chosen.texts
        self.arrivals[:] = chosen.arrivals
        self._unsaved = 0
        if not self._answer_final:
            self.answer_parts = []
        self.stamps.clear()
        self.channels.clear()
        for chunk, rel_ns in chosen.sides:
            self.channels.observe(chunk, rel_ns)
        self.timeline = chosen.timeline
        return chosen.label

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

    def reconfigure(self, llm: LanguageModel) -> LanguageModel | None:
        """Use ``llm`` (the same provider with other parameters or another model) from the
        next run on; the conversation goes on with it. Returns the backend it replaces (the
        caller closes it). Its next run is saved with the new provider settings."""
        old, self.llm = self.llm, llm
        self._description = None
        if self.state == "error" and old is None:
            self.state, self.error = "idle", None
        return old

    def new_conversation(self) -> None:
        """Forget the conversation and every figure of the last run (its sparkline stamps
        and side channels too: nothing of it may linger on screen)."""
        self.conversation.clear()
        self.prompt = None
        self.recorded = False
        self.stamps.clear()
        self.channels.clear()
        self.answer_parts = []
        if self.state != "error" or self.llm is not None:
            self.state = "idle"
            self.error = None
        self.timeline = None

    def fork(self, kept: int) -> None:
        """Keep the conversation's first ``kept`` messages (an earlier prompt is being edited:
        the conversation goes on from there) and forget the last run's figures."""
        del self.conversation[kept:]
        self.prompt = None
        self.recorded = False
        self._turn_messages = 0
        self.stamps.clear()
        self.channels.clear()
        self.answer_parts = []
        self.timeline = None
        if self.state != "error" or self.llm is not None:
            self.state, self.error = "idle", None

    def forget_last_exchange(self) -> str | None:
        """Drop the last run's exchange for a retry; returns its prompt (None if no run).
        A run that left nothing in the conversation (failed before any text) drops nothing."""
        if self.prompt is None:
            return None
        added = self._turn_messages + 1
        if self.recorded and len(self.conversation) >= added:
            del self.conversation[-added:]
            self.recorded = False
        return self.prompt

    def pending_tool_calls(self) -> list[dict[str, Any]]:
        """The tool calls of the conversation's last answer (see :func:`pending_tool_calls`)."""
        return pending_tool_calls(self.conversation)

    def turn_messages(self, prompt: str) -> list[BaseMessage]:
        """What ``prompt`` adds to the conversation (see :func:`turn_messages`)."""
        return turn_messages(self.conversation, prompt)

    def restore(self, conversation: list[BaseMessage], prompt: str | None, recorded: bool) -> None:
        """Take a saved conversation (reopened from the history) as this pane's own, ready
        to continue: ``prompt`` is the last one it was sent (what a retry sends again) and
        ``recorded`` whether that exchange is the last one in ``conversation``."""
        self.conversation = list(conversation)
        self.prompt = prompt
        self.recorded = recorded
        tail = 0
        for message in reversed(self.conversation[:-1] if recorded else ()):
            if not isinstance(message, ToolMessage):
                break
            tail += 1
        self._turn_messages = max(tail, 1)

    def _save_upto(self, end: int) -> None:
        """Hand the plain text chunks ``pending[_unsaved:end]`` to the run's recorder."""
        start = self._unsaved
        saved = self._saved
        if end > start and saved is not None:
            saved.texts(self.pending[start:end], self.arrivals[start:end])
        self._unsaved = end

    def _observe(self, saved: RunRecorder, ev: dict[str, Any], has_text: bool) -> None:
        """Record ``ev`` on its own, after the text gathered before it (and, when it has
        text, that text is its own: not handed over again with the batch)."""
        end = len(self.pending)
        self._save_upto(end - 1 if has_text else end)
        saved.observe(ev)
        self._unsaved = end

    def _side(self, chunk: Any, text: str, rel_ns: int) -> bool:
        """A chunk that is more than text: its other channels to ``channels``. Returns True
        when its ``content`` only repeats its refusal (a refusal is never the answer)."""
        if self.channels.observe(chunk, rel_ns) and self.state == "waiting":
            self.state = "streaming"
        return bool(text) and text == chunk.additional_kwargs.get("refusal")

    def _start_recording(
        self, llm: LanguageModel, recorder: SessionRecorder, timeline: StreamTimeline
    ) -> RunRecorder:
        description = self._description
        if description is None:
            from ..sessions.recorder import describe_model

            description = self._description = describe_model(llm)
        return recorder.start_run(self.record_name, description=description, timeline=timeline)

    async def run(  # noqa: C901  # one flat loop on purpose: it runs once per chunk
        self,
        prompt: str,
        *,
        version: Literal["v1", "v2"] = "v2",
        recorder: SessionRecorder | None = None,
    ) -> None:
        """Stream one answer to ``prompt`` after this pane's conversation. Meant to be the body of
        the pane's worker; cancelling it closes the provider's iterator (and connection).
        With ``recorder``, the run is saved as the current turn's answer of this pane."""
        llm = self.llm
        if llm is None:
            return
        self.generation += 1
        generation = self.generation
        self.runs += 1
        self.prompt = prompt
        self.pending.clear()
        self.arrivals.clear()
        self._unsaved = 0
        self.answer_parts = []
        self._answer_final = False
        self.channels.clear()
        self.error = None
        self.state = "waiting"
        timeline = StreamTimeline(clock=self.clock)
        self.timeline = timeline
        chat = llm.flavor == "chat"
        stream_name = "on_chat_model_stream" if chat else "on_llm_stream"
        # a whole application: its root's stream is the answer, found by run id below
        sources = self.sources = (
            RunSources(timeline, llm.output_text, self.clock)
            if isinstance(llm, RunsNested)
            else None
        )
        if sources is not None:
            stream_name = ""
        turn = self.turn_messages(prompt)
        messages: list[BaseMessage] = [*self.conversation, *turn]
        self._final = None
        end_name = "on_chat_model_end" if chat else ""
        model_input: Any = messages if (chat or self.conversation) else prompt
        name = self.name
        n = 0
        outcome: State = "done"
        # bound methods and locals: this loop runs once per event, up to a million times
        pending_append = self.pending.append
        events_append = self.events.append
        self.stamps.clear()
        arrive = self.arrivals.append
        waiting = True
        start = 0
        run_id = ""
        saved = self._start_recording(llm, recorder, timeline) if recorder is not None else None
        # an application's run is saved from its root's chunks (whatever the pane shows)
        app_saved, saved = (saved, None) if sources is not None else (None, saved)
        self._saved = saved
        keeper = saved if saved is not None else app_saved
        # a chunk goes through observe when it is more than text, or when the recorder
        # keeps every event (then the batches stay empty)
        observe_all = recorder is not None and recorder.events
        clock = self.clock  # the slice is timed on the session's clock (tests give theirs)
        slice_end = clock() + SLICE_NS
        try:
            events = cast(
                AsyncGenerator[dict[str, Any], None],
                llm.astream_events(model_input, {"timeline": timeline}, version=version),
            )
            async with aclosing(events) as stream:
                async for ev in stream:
                    kind = ev["event"]
                    if kind == stream_name:
                        chunk = ev["data"]["chunk"]
                        if waiting:
                            start = timeline.start_ns or 0
                            run_id = ev["run_id"]
                        if chat:
                            text = chunk.content
                            payload = (
                                chunk
                                if (
                                    chunk.usage_metadata
                                    or chunk.additional_kwargs
                                    or chunk.response_metadata
                                    or chunk.tool_call_chunks
                                )
                                else text
                            )
                        else:
                            text = payload = chunk
                        # plain answer text: the hot path, stamped by the core on arrival;
                        # anything else has no text stamp: its own arrival
                        plain = text and payload is text
                        at = (timeline.last_ns or 0) if plain else timeline.clock()
                    elif sources is not None and kind[-7:] == "_stream":
                        run_id = ev["run_id"]
                        chunk = ev["data"]["chunk"]
                        text, payload, at = sources.chunk(run_id, chunk)
                        if waiting:
                            start = timeline.start_ns or 0
                            waiting = False
                            self.state = "streaming"  # something inside is streaming
                        if app_saved is not None and text and run_id == sources.root_id:
                            app_saved.chunk(text)
                        if run_id != sources.shown:
                            events_append((name, at - start, kind, run_id, payload))
                            n += 1
                            if n % CHECK_EVERY == 0 and (
                                n % YIELD_EVERY == 0 or clock() >= slice_end
                            ):
                                await asyncio.sleep(0)
                                slice_end = clock() + SLICE_NS
                            continue
                    else:
                        if saved is not None:
                            self._observe(saved, ev, False)
                        if sources is not None:
                            self._observe_app(sources, ev, app_saved)
                        elif kind == end_name and not ev.get("parent_ids"):
                            output = ev["data"].get("output")
                            if isinstance(output, AIMessageChunk):
                                self._final = output
                        run_id = self.run_id = ev.get("run_id", self.run_id)
                        first = timeline.start_ns
                        rel = timeline.clock() - first if first is not None else 0
                        events_append((name, rel, kind, run_id, ev))
                        continue
                    if payload is not text and self._side(chunk, text, at - start):
                        text = ""  # a refusal, not the answer
                    if text:
                        pending_append(text)
                        arrive(at)
                        if waiting:
                            waiting = False
                            self.state = "streaming"
                        if saved is not None and (payload is not text or observe_all):
                            self._observe(saved, ev, True)
                    elif saved is not None:
                        self._observe(saved, ev, False)
                    events_append((name, at - start, kind, run_id, payload))
                    n += 1
                    if n % CHECK_EVERY == 0 and (n % YIELD_EVERY == 0 or clock() >= slice_end):
                        await asyncio.sleep(0)
                        slice_end = clock() + SLICE_NS
        except asyncio.CancelledError:
            outcome = "cancelled"
            if saved is not None:
                self._save_upto(len(self.pending))
            if keeper is not None:
                keeper.cancel(self.kept_text())
            raise
        except Exception as exc:  # noqa: BLE001  # a pane shows any failure as one line
            outcome = "error"
            self.error = error_summary(exc)
            if saved is not None:
                self._save_upto(len(self.pending))
            if keeper is not None:
                keeper.error(exc, self.kept_text())
            first = timeline.start_ns
            rel = (timeline.clock() - first) if first is not None else 0
            self.events.append(
                (name, rel, "error", self.run_id, {"event": "error", "data": {"error": self.error}})
            )
        finally:
            timeline.finish()
            if sources is not None:
                sources.finish()
            if generation == self.generation:  # a newer run has not taken over the pane
                self._saved = None
                self._record(turn, outcome)
                self.state = outcome

    def kept_text(self) -> str:
        """The answer the conversation and the recording keep: what the pane shows, but for
        a nested application always its own output (the root's), whichever run is shown."""
        sources = self.sources
        return sources.root_text() if sources is not None else self.answer_text()

    def _observe_app(
        self, sources: RunSources, ev: dict[str, Any], saved: RunRecorder | None
    ) -> None:
        """A nested application's start or end event: sources learn of its runs, and the
        root's end ends the saved run (with the root's text: the application's answer)."""
        sources.observe(ev)
        if saved is not None and ev["run_id"] == sources.root_id and ev["event"].endswith("_end"):
            saved.end(sources.root_text())

    def _record(self, turn: list[BaseMessage], outcome: State) -> None:
        """Keep the exchange in the conversation; a failed or cancelled one is kept with the
        text that arrived, and dropped only when nothing arrived at all. A finished answer
        keeps its tool calls, reasoning and response metadata (Anthropic's signed thinking
        blocks among them): the next turn sends them back, as the APIs require."""
        text = self.kept_text()
        # one string, shared with the conversation: no second copy of a long answer (chunks still
        # pending are drawn by the next frame but no longer added to the answer)
        self.answer_parts = [text]
        self._answer_final = True
        final = self._final if outcome == "done" else None
        self._final = None
        self.recorded = kept_in_conversation(outcome, text) or final is not None
        self._turn_messages = len(turn)
        if self.recorded:
            self.conversation.extend(turn)
            self.conversation.append(answer_message(text, final))


def pending_tool_calls(conversation: list[BaseMessage]) -> list[dict[str, Any]]:
    """The tool calls the conversation's last answer made and nothing answered yet: the
    next prompt is sent as their result (a ``ToolMessage`` per call), since a provider
    refuses a new user turn after an unanswered call."""
    if not conversation:
        return []
    last = conversation[-1]
    return list(last.tool_calls) if isinstance(last, AIMessage) else []


def turn_messages(conversation: list[BaseMessage], prompt: str) -> list[BaseMessage]:
    """What ``prompt`` adds to ``conversation``: the user's turn, or the result of each
    pending tool call (the same text for each: one prompt answers them all)."""
    calls = pending_tool_calls(conversation)
    if not calls:
        return [HumanMessage(prompt)]
    return [ToolMessage(prompt, tool_call_id=str(c.get("id") or "")) for c in calls]


def answer_message(text: str, final: AIMessageChunk | None) -> AIMessage:
    """The conversation's copy of an answer: its shown ``text`` (never a refusal), with
    what the summed output ``final`` carries besides (tool calls parsed, reasoning, metadata)."""
    if final is None:
        return AIMessage(text)
    whole = final.to_message()
    return AIMessage(
        text,
        id=whole.id,
        tool_calls=whole.tool_calls,
        additional_kwargs=whole.additional_kwargs,
        response_metadata=whole.response_metadata,
        usage_metadata=whole.usage_metadata,
    )


def build_session(
    ref: str,
    settings: ProviderTables,
    *,
    table: dict[str, Any] | None = None,
    name: str | None = None,
    clock: Clock = time.perf_counter_ns,
) -> PaneSession:
    """A session for ``ref`` (a configured name or ``KIND:MODEL``), or for ``table`` shown
    as ``name``. A provider that cannot be built gives a session without one, its error
    shown in the pane (never a traceback)."""
    display = mask_urls(name or ref)
    try:
        llm = build_llm(table if table is not None else ref, name=name, settings=settings)
    except Exception as exc:  # noqa: BLE001  # shown in the pane, never a traceback
        error = mask_urls(error_summary(exc))
        return PaneSession(display, mask_urls(ref), None, build_error=error, clock=clock)
    return PaneSession(llm.name or display, ref, llm, clock=clock)
