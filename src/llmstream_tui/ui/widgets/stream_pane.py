"""``StreamPane``: one provider's column: title, reasoning, body, tool calls, error line, live
metrics, gap sparkline. A refusal is drawn in the body with its own label and style.

The pane owns a :class:`PaneSession` (conversation + current run) and draws it once per frame
when the app calls :meth:`StreamPane.flush`. The run itself is a Textual worker in the pane's
own group, so cancelling one pane never touches another.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from heapq import merge
from itertools import pairwise
from typing import TYPE_CHECKING, ClassVar, Literal

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Markdown, Sparkline, Static
from textual.worker import Worker

from ...core.inert import escape_controls
from ...core.messages import AIMessage, HumanMessage, ToolMessage
from ...sessions.export import side_markdown
from ..exchanges import Exchange
from ..format import ChunkScope, channel_metrics, metrics_parts
from ..line_runs import NOTE, PROMPT, REFUSAL, REFUSAL_LABEL
from ..pane_params import badge
from ..session import FINISHED, RUNNING, STAMPS, PaneSession
from .chunk_view import ChunkView
from .metrics_bar import MetricsBar
from .reasoning import ReasoningSection
from .tool_cards import ToolCards

if TYPE_CHECKING:
    from ...sessions.recorder import SessionRecorder
    from ..persistence import ShownExchange

STATE_ICONS = {
    "idle": "○",
    "waiting": "◔",
    "streaming": "●",
    "done": "✓",
    "error": "✗",
    "cancelled": "■",
}

EMPTY_HINT = "Chunks will appear here between delimiters, on alternating tints: |Spark|ling| water|"

#: Painted frames between two metric/sparkline refreshes while streaming (the chunks
#: themselves are drawn every painted frame; the figures are read a few times a second).
METRICS_EVERY = 6


class StreamPane(Vertical, can_focus=False):
    """A provider's pane. The selected pane has the accent border.

    The state in the border's subtitle takes its colour from a component class rather than
    a class on the pane: a class change restyles the pane and everything in it, several
    milliseconds each time, and a run changes state three times."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"stream-pane--{state}" for state in STATE_ICONS}

    class Finished(Message):
        """A run of this pane ended (done, error or cancelled)."""

        def __init__(self, pane: StreamPane) -> None:
            self.pane = pane
            super().__init__()

    class Selected(Message):
        """The user focused something inside this pane."""

        def __init__(self, pane: StreamPane) -> None:
            self.pane = pane
            super().__init__()

    def __init__(
        self,
        session: PaneSession,
        *,
        delimiter: str,
        tints: bool,
        whitespace: bool,
        markdown: bool,
        max_rows: int,
        chunk_scope: ChunkScope = "answer",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, classes="stream-pane")
        self.session = session
        self.chunk_scope: ChunkScope = chunk_scope
        self.body = ChunkView(
            delimiter=delimiter,
            tints=tints,
            whitespace=whitespace,
            max_rows=max_rows,
            classes="pane-body",
        )
        #: the current run's reasoning (above the answer) and tool calls (below it)
        self.reasoning = ReasoningSection(
            delimiter=delimiter, tints=tints, whitespace=whitespace, max_rows=max_rows
        )
        self.tools = ToolCards()
        self._refused = False
        self._answer_from = 0
        self.markdown_on = markdown
        self._markdown: Markdown | None = None
        self._md_stream: object | None = None
        self._md_written = 0
        self.error_label = Static("", classes="pane-error", markup=False)
        self.metrics = MetricsBar(classes="pane-metrics")
        self.spark = Sparkline([], classes="pane-spark")
        self.worker: Worker[None] | None = None
        self._shown_state = ""
        self._frames = 0
        self._mark: tuple[int, int, int] | None = None
        #: where the current answer starts (before its opening delimiter): switching a
        #: nested application's pane to another of its runs redraws the answer from there
        self._answer_mark: tuple[int, int, int] | None = None
        #: every exchange shown, oldest first: what an edit can fork from
        self.exchanges: list[Exchange] = []

    def compose(self) -> ComposeResult:
        yield self.reasoning.header
        yield self.reasoning.view
        yield self.body
        yield self.tools
        yield self.error_label
        yield self.metrics
        yield self.spark

    def on_mount(self) -> None:
        if self.session.llm is not None:
            self.body.add_text(EMPTY_HINT, NOTE)
        self._update_title()
        self._show_state(force=True)
        self._refresh_metrics()
        if self.markdown_on:
            self.markdown_on = False
            self.call_after_refresh(self.toggle_markdown)

    def on_resize(self, event: events.Resize) -> None:
        """The sparkline holds as many gaps as the width does: a run that ended before the
        pane was laid out (or a terminal resized since) is drawn again at the new width."""
        self._refresh_metrics()

    # -- titles and state ---------------------------------------------------------------------

    def _update_title(self) -> None:
        s = self.session
        title = Text(escape_controls(s.name), style="bold")
        if s.describe != s.name:
            title.append("  " + escape_controls(s.describe), style="dim")
        params = badge(s.llm)
        if params:
            title.append("  " + escape_controls(params), style="italic")
        self.border_title = title

    def reconfigured(self) -> None:
        """The session's backend changed (parameters, model): the header says so."""
        self._update_title()

    def _show_state(self, force: bool = False) -> None:
        state = self.session.state
        if state == self._shown_state and not force:
            return
        self._shown_state = state
        self._paint_state()
        error = self.session.error
        self.error_label.display = bool(error) and state == "error"
        if error:
            self.error_label.update(Text(error))

    def _paint_state(self) -> None:
        state = self._shown_state
        if state:
            # no component styles while the pane is torn down (the app exiting as a run is
            # cancelled, as render --at does): the subtitle goes plain rather than raise
            style = self.get_component_rich_style(
                f"stream-pane--{state}", partial=True, default=Style.null()
            )
            self.border_subtitle = Text(f"{STATE_ICONS[state]} {state}", style=style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # the theme may have changed the state colours; component styles are read again
        # after this hook, so paint once they are
        if self.is_attached:
            self.call_later(self._paint_state)

    # -- runs ---------------------------------------------------------------------------------

    async def stop_run(self) -> None:
        """Cancel the run in progress, wait until it has closed its stream, and draw what it
        left (so its partial answer is in the conversation before anything new starts)."""
        worker = self.worker
        if worker is not None and worker.is_running:
            worker.cancel()
            with suppress(Exception):
                await worker.wait()
        await self.flush()

    def set_whitespace(self, on: bool) -> None:
        """Whitespace shown or plain in the answer and the reasoning, what is shown included;
        the places a retry returns to move with the redrawn text."""
        marks = [m for m in (self._mark, self._answer_mark) if m is not None]
        marks += [ex.mark for ex in self.exchanges]
        moved = iter(self.body.set_whitespace(on, marks))
        if self._mark is not None:
            self._mark = next(moved)
        if self._answer_mark is not None:
            self._answer_mark = next(moved)
        for ex in self.exchanges:
            ex.mark = next(moved)
        self.reasoning.set_whitespace(on)

    def _open_exchange(self, prompt: str) -> None:
        """Echo ``prompt`` below what is shown and open its answer; the place it starts
        (before the line break that separates it from the exchange above) is the mark a
        retry or an edit truncates to."""
        body = self.body
        self._mark = body.chunk_text.mark()
        if body.chunk_text.row_count > 1 or body.chunk_text.rows[0][2] > 0:
            body.newline()
        body.add_text("› " + prompt, PROMPT)
        body.newline()
        self._answer_mark = body.chunk_text.mark()
        body.begin_answer()
        self._answer_from = body.chunk_text.chunks

    async def start_run(
        self,
        prompt: str,
        *,
        version: Literal["v1", "v2"],
        retry: bool = False,
        recorder: SessionRecorder | None = None,
    ) -> None:
        """Echo the prompt, open the answer, and start the worker. ``retry`` replaces the
        last exchange (on screen and in the conversation) instead of adding one. With
        ``recorder`` the run is saved (see ``PaneSession.run``)."""
        s = self.session
        if s.llm is None:
            return
        await self.stop_run()
        body = self.body
        if s.runs == 0 and self._mark is None:
            body.clear()  # the hint shown before the first run
        if retry and self._mark is not None:
            body.truncate(self._mark)
            if self.exchanges:
                self.exchanges.pop()
        kept = len(s.conversation)
        self._open_exchange(prompt)
        turn = recorder.turn if recorder is not None else None
        self.exchanges.append(Exchange(prompt, self._mark or (0, 0, 0), kept, turn))
        self._show_gaps([])
        await self._reset_channels()
        self.worker = self.run_worker(
            s.run(prompt, version=version, recorder=recorder),
            group=f"pane-{id(self)}",
            exclusive=True,
            exit_on_error=False,
            name=f"stream {s.name}",
        )
        s.state = "waiting"
        s.sources = None  # a new run shows an application's output again: its view goes
        self._show_state()
        self._update_title()
        self._refresh_metrics()
        if self.markdown_on:
            self._render_markdown_full()

    def restore(self, exchanges: Sequence[ShownExchange]) -> None:
        """Show a reopened conversation: each exchange's prompt, its answer with the chunk
        boundaries it was received with, its refusal (labelled, as live) and a note on how
        a run that did not finish ended. The last exchange's reasoning (collapsed) and tool
        calls (as cards) come back too, as they were when the pane was left. The
        conversation itself is given to the session (``PaneSession.restore``); a retry then
        replaces the last exchange shown here."""
        body = self.body
        body.clear()
        self._mark = None
        self.exchanges = []
        for shown in exchanges:
            self._open_exchange(shown.prompt)
            mark = self._mark or (0, 0, 0)
            self.exchanges.append(Exchange(shown.prompt, mark, shown.kept_before, shown.turn))
            self._refused = False
            if shown.chunks:
                body.append_chunks(shown.chunks)
            side = shown.side
            if side is not None and side.refusal is not None:
                self._draw_refusal([side.refusal])
            if shown.note:
                body.newline()
                body.add_text(shown.note, NOTE)
        if not exchanges and self.session.llm is not None:
            body.add_text(EMPTY_HINT, NOTE)
        last = exchanges[-1] if exchanges else None
        self.call_later(self._restore_channels, last)

    async def _restore_channels(self, last: ShownExchange | None) -> None:
        await self._reset_channels()
        side = last.side if last is not None else None
        if side is None:
            return
        if side.reasoning_chunks:
            self.reasoning.add(side.reasoning_chunks)
            self.reasoning.answer_started()
        if side.tool_calls:
            await self.tools.feed(side.tool_calls)
            self.tools.finish(last is not None and last.note is None)

    async def next_source(self) -> str | None:
        """Show the next run of a nested application (``PaneSession.next_source``): the
        answer is redrawn from that run's chunks, its reasoning and tool calls replace the
        ones shown. Returns its label, or None when there is nothing else to show."""
        label = self.session.next_source()
        if label is None:
            return None
        if self._answer_mark is not None:
            self.body.truncate(self._answer_mark)
            self.body.begin_answer()
        await self._reset_channels()
        self._update_title()
        await self.flush()
        self._refresh_metrics()
        if self.markdown_on:
            self._render_markdown_full()
        return label

    def cancel(self) -> bool:
        """Cancel this pane's run; what arrived stays. Returns whether a run was cancelled."""
        worker = self.worker
        if worker is not None and worker.is_running and self.session.running:
            worker.cancel()
            return True
        return False

    def new_conversation(self) -> None:
        self.cancel()
        self.session.new_conversation()
        self.body.clear()
        self.call_later(self._reset_channels)
        self._mark = None
        self.exchanges = []
        self._show_gaps([])
        if self._markdown is not None and self.markdown_on:
            self._render_markdown_full()
        self._show_state(force=True)
        self._refresh_metrics()

    async def fork_at(self, exchange: Exchange) -> None:
        """Forget ``exchange`` and every one after it, on screen and in the conversation,
        so that the next run (an edited prompt) continues from just before it."""
        await self.stop_run()
        at = self.exchanges.index(exchange)
        del self.exchanges[at:]
        self.body.truncate(exchange.mark)
        self.session.fork(exchange.kept_before)
        self._mark = exchange.mark
        self._answer_mark = None
        await self._reset_channels()
        self._show_gaps([])
        if self._markdown is not None and self.markdown_on:
            self._render_markdown_full()
        self._show_state(force=True)
        self._refresh_metrics()

    # -- per frame ----------------------------------------------------------------------------

    async def flush(self, paint: bool = True) -> bool:
        """Draw what arrived since the last frame. Returns True when the run just ended.
        Without ``paint`` the answer takes the chunks in but is not repainted, nor are the
        metrics (the next painted frame shows them: ``ChunkView.hold``; a metrics update
        lays the whole screen out, and a layout repaints the answer too)."""
        self.body.hold(not paint)
        s = self.session
        batch = s.take_pending()
        ch = s.channels
        if ch.reasoning or ch.refusal or ch.tool_chunks:
            await self._draw_channels(bool(batch))
        if batch:
            self.reasoning.answer_started()
            self.body.append_chunks(batch)
            stream = self._md_stream
            if self.markdown_on and stream is not None and s.running:
                parts = s.answer_parts
                if len(parts) > self._md_written:
                    text = "".join(parts[self._md_written :])
                    self._md_written = len(parts)
                    await stream.write(escape_controls(text))  # type: ignore[attr-defined]  # MarkdownStream
        self._frames += paint
        state = s.state
        if state in RUNNING:
            if paint and self._frames % METRICS_EVERY == 0:
                self._refresh_metrics()
            if state != self._shown_state:
                self._show_state()
            return False
        if state != self._shown_state:
            ended = state in FINISHED and self._shown_state in RUNNING
            self._show_state()
            if ended:
                self.tools.finish(state == "done")
                self._refresh_metrics()
                if state == "cancelled":
                    self.body.newline()
                    self.body.add_text("(cancelled)", NOTE)
                await self._stop_markdown_stream()
                if self.markdown_on:
                    self._render_markdown_full()  # the whole answer once, as recorded
                self.post_message(self.Finished(self))
                return True
        return False

    async def _reset_channels(self) -> None:
        """A new run (or conversation): no reasoning, tool call or refusal shown yet."""
        self.reasoning.reset()
        self._refused = False
        await self.tools.clear()

    async def _draw_channels(self, answering: bool) -> None:
        """A frame's reasoning, refusal and tool-call deltas (drawn before its answer text)."""
        ch = self.session.channels
        reasoning = ch.take_reasoning()
        if reasoning:
            self.reasoning.add(reasoning)
        refusal = ch.take_refusal()
        tools = ch.take_tool_chunks()
        if answering or refusal or tools:
            self.reasoning.answer_started()
        if refusal:
            self._draw_refusal(refusal)
        if tools:
            await self.tools.feed(tools)

    def _draw_refusal(self, texts: Sequence[str]) -> None:
        """Refusal text in the body, after the answer, under its label (once per run)."""
        body = self.body
        if not self._refused:
            self._refused = True
            if body.chunk_text.chunks > self._answer_from:
                body.newline()
            body.add_text("⊘ refusal", REFUSAL_LABEL)
            body.add_text(" ", REFUSAL)
        body.add_text("".join(texts), REFUSAL)

    def _refresh_metrics(self) -> None:
        s = self.session
        tl = s.timeline
        snap = tl.snapshot() if tl is not None else None
        scope = self.chunk_scope
        parts = metrics_parts(snap, scope) if snap is not None else []
        if snap is not None:
            ttfr, details = channel_metrics(s.channels, snap)
            parts[1:1] = ttfr  # beside TTFT
            parts += details
        self.metrics.show(parts)
        stamps: list[int] = list(s.stamps)
        side = s.channels.side_stamps
        if scope == "all" and side and tl is not None and tl.start_ns is not None:
            start = tl.start_ns
            stamps = list(merge(stamps, (start + rel for rel in side)))[-STAMPS:]
        room = max(1, self.size.width - 4)
        gaps = [(b - a) / 1e6 for a, b in pairwise(stamps)][-room:]
        self._show_gaps(gaps)

    def set_chunk_scope(self, scope: ChunkScope) -> None:
        """Count the answer's chunks only, or every channel's, in the metrics and sparkline."""
        self.chunk_scope = scope
        self._refresh_metrics()

    def _show_gaps(self, gaps: list[float]) -> None:
        """One cell per gap (the latest ones): a sparkline stretched over a few points would
        draw each gap as a wide block and read like a trend that is not there."""
        self.spark.data = gaps
        self.spark.styles.width = len(gaps) + 2

    # -- markdown view ------------------------------------------------------------------------

    def toggle_markdown(self) -> None:
        """Switch the body between chunk view and rendered Markdown."""
        self.markdown_on = not self.markdown_on
        if self.markdown_on:
            if self._markdown is None:
                self._markdown = Markdown("", classes="pane-markdown")
                self.mount(self._markdown, after=self.body)
            self._markdown.display = True
            self.body.display = False
            self._render_markdown_full()
        else:
            if self._markdown is not None:
                self._markdown.display = False
            self.body.display = True
            self.call_later(self._stop_markdown_stream)

    def _markdown_document(self) -> tuple[str, int]:
        """The conversation as Markdown, and how many parts of the live answer it holds
        (later parts are streamed in by :meth:`flush`)."""
        s = self.session
        parts: list[str] = []
        for msg in s.conversation:
            if isinstance(msg, HumanMessage):
                parts.append("> " + msg.content.replace("\n", "\n> "))
            elif isinstance(msg, ToolMessage):
                parts.append(
                    f"> *tool result* `{msg.tool_call_id}`\n>\n> "
                    + msg.content.replace("\n", "\n> ")
                )
            elif isinstance(msg, AIMessage):
                extra = msg.additional_kwargs
                reasoning = extra.get("reasoning_content")
                refusal = extra.get("refusal")
                before, after = side_markdown(
                    reasoning if isinstance(reasoning, str) else "",
                    msg.tool_calls,
                    refusal if isinstance(refusal, str) else None,
                    collapsible=False,  # Textual's Markdown shows no HTML
                )
                parts.append("\n".join([*before, msg.content, "", *after]).strip())
            else:
                parts.append(msg.content)
        written = 0
        if s.running:
            parts.append("> " + (s.prompt or "").replace("\n", "\n> "))
            parts.append("".join(s.answer_parts))
            written = len(s.answer_parts)
        return escape_controls("\n\n".join(parts)), written

    def _render_markdown_full(self) -> None:
        md = self._markdown
        if md is None:
            return
        self.call_later(self._restart_markdown, md)

    async def _restart_markdown(self, md: Markdown) -> None:
        await self._stop_markdown_stream()
        document, self._md_written = self._markdown_document()
        await md.update(document)
        if self.session.running and self.markdown_on:
            self._md_stream = Markdown.get_stream(md)

    async def _stop_markdown_stream(self) -> None:
        stream = self._md_stream
        self._md_stream = None
        if stream is not None:
            await stream.stop()  # type: ignore[attr-defined]  # MarkdownStream

    # -- focus --------------------------------------------------------------------------------

    def on_descendant_focus(self) -> None:
        self.post_message(self.Selected(self))
