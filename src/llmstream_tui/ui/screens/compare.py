"""``CompareScreen``: a comparison on a prompt set, watched live (issue 18).

Per provider and level a progress bar (finished / planned, errors, streaming now); the CDFs
of time to first token and of the inter-chunk gaps, one colour per provider; the running
statistics table (``compare``'s cells, the best of each column highlighted); and every
request in a list, running ones too: ``enter`` opens one in the stream-pane view
(:class:`CompareRequestScreen`: its chunks between delimiters on alternating tints, and
its events), which keeps filling while the request streams.

The comparison (``compare_live.runner``) runs on an event loop of its own, in the screen's
worker thread: the screen's drawing never holds up the loop that stamps each chunk's
arrival (only the GIL is shared, released every few milliseconds), so the live screen does
not distort the timings it shows. The runner's callbacks only append to the
:class:`~llmstream_tui.ui.compare_live.CompareLive` model and a timer redraws from it
:data:`REDRAW_HZ` times a second, and only when it moved: 256 concurrent streams cost the
screen one redraw per tick.

Keys: ``escape`` (or ``ctrl+c``) cancels the run, keeping what finished (marked cancelled);
``q`` (or ``escape`` once it is over) leaves, dismissing the screen with the ``CompareRun``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Final

from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, ProgressBar, Static
from textual.worker import Worker, WorkerState

from ...core.inert import escape_controls
from ...core.redaction import mask_urls
from ...sessions.compare_run import LAG_WARN_S, CompareRun
from ..compare_live import CompareLive, GroupProgress, LiveRequest, request_events
from ..keys import bindings
from ..line_runs import NOTE
from ..themes import app_variable_defaults
from ..widgets.chunk_view import ChunkView
from ..widgets.compare_plots import PALETTE, DistributionPlot
from ..widgets.compare_table import CompareStats
from ..widgets.events_log import EventsLog

__all__ = ["HEAVY_SHARE", "REDRAW_HZ", "CompareApp", "CompareRequestScreen", "CompareScreen"]

#: Redraws a second at most (the model is read, never pushed): every drawing holds the GIL
#: the runner's thread needs to stamp chunks; at 5 a second the simulated ``swift``'s gaps
#: measured 11-20% longer than headless, at 2 a second 5-8%.
REDRAW_HZ: Final = 2.0
#: The plots and the table wait this many times their last drawing's cost before the next,
#: and at least :data:`HEAVY_EVERY_S` (a distribution needs no more: plotext's drawing is
#: the screen's costliest, and every millisecond of it is GIL the runner waits for).
HEAVY_SHARE: Final = 10.0
HEAVY_EVERY_S: Final = 1.0

_STATUS_STYLE: Final = {
    "running": "cyan",
    "done": "green",
    "error": "red",
    "cancelled": "yellow",
}

Start = Callable[[], Awaitable[Any]]


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.0f}"


def _one_line(text: str, width: int) -> str:
    line = escape_controls(" ".join(text.split()))
    return line if len(line) <= width else line[: width - 1] + "…"


class CompareScreen(Screen[CompareRun | None]):
    """The live comparison. ``start`` makes the comparison's coroutine (it must feed
    ``live``: ``compare_live.runner`` does)."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("compare")  # type: ignore[assignment]  # list of Binding

    DEFAULT_CSS = """
    CompareScreen { layout: vertical; }
    CompareScreen #compare-head { height: 1; padding: 0 1; background: $panel; }
    CompareScreen #compare-progress { height: auto; max-height: 8; padding: 0 1; }
    CompareScreen .compare-group { height: 1; }
    CompareScreen .compare-group-name { width: 24; }
    CompareScreen .compare-group ProgressBar { width: auto; }
    CompareScreen .compare-group-counts { width: 1fr; padding: 0 1; }
    CompareScreen #compare-plots { height: 2fr; min-height: 8; }
    CompareScreen #compare-stats { height: auto; }
    CompareScreen #compare-requests { height: 1fr; min-height: 3; }
    """

    def __init__(
        self,
        live: CompareLive,
        start: Start,
        *,
        title: str = "compare",
        delimiter: str = "|",
        tints: bool = True,
        redraw_hz: float = REDRAW_HZ,
    ) -> None:
        super().__init__()
        self.live = live
        self.start = start
        self.compare_title = title
        self.delimiter = delimiter
        self.tints = tints
        self.redraw_hz = redraw_hz
        self.worker: Worker[Any] | None = None
        #: what stopped the comparison itself (not one request: those are records), for
        #: the caller to report as the headless run would
        self.failure: Exception | None = None
        #: the model version last drawn
        self.drawn = -1
        self._groups: dict[tuple[str, str], tuple[ProgressBar, Static]] = {}
        #: rows added to the request list (an index into ``live.requests``), and the
        #: requests whose row may still change (running)
        self._listed = 0
        self._open_rows: dict[str, LiveRequest] = {}
        #: (status, TTFT, chunks) as the list shows them, per running request
        self._shown_cells: dict[str, tuple[str, str, str]] = {}
        #: when the plots and the table may be drawn again (``time.perf_counter``)
        self._heavy_due = 0.0
        #: the comparison's loop and task while it runs (in the worker's thread)
        self._runner: tuple[asyncio.AbstractEventLoop, asyncio.Task[None]] | None = None
        self._runner_lock = threading.Lock()
        self._cancelling = False

    def compose(self) -> ComposeResult:
        yield Static("", id="compare-head")
        yield Vertical(id="compare-progress")
        with Horizontal(id="compare-plots"):
            yield DistributionPlot("time to first token (CDF)", "ms", 1e3, id="plot-ttft")
            yield DistributionPlot("inter-chunk gap (CDF)", "ms", 1e3, id="plot-gaps")
        yield CompareStats(id="compare-stats")
        table: DataTable[Text] = DataTable(
            id="compare-requests", cursor_type="row", zebra_stripes=True
        )
        yield table
        yield Footer()

    @property
    def requests_table(self) -> DataTable[Text]:
        return self.query_one("#compare-requests", DataTable)

    def on_mount(self) -> None:
        for label, key in (
            ("provider", "provider"),
            ("level", "level"),
            ("#", "index"),
            ("prompt", "prompt"),
            ("status", "status"),
            ("TTFT ms", "ttft"),
            ("chunks", "chunks"),
        ):
            self.requests_table.add_column(label, key=key)
        self.worker = self.run_worker(
            self._run_in_thread, name="compare", thread=True, exit_on_error=False
        )
        self.set_interval(1 / self.redraw_hz, self.redraw)
        self.redraw()
        self.requests_table.focus()

    def _run_in_thread(self) -> None:
        """The comparison on a loop of its own (this is the worker's thread)."""
        loop = asyncio.new_event_loop()
        try:
            task = loop.create_task(self._run())
            with self._runner_lock:
                self._runner = (loop, task)
                if self._cancelling:
                    task.cancel()
            with contextlib.suppress(asyncio.CancelledError):  # cancelled before it began
                loop.run_until_complete(task)
        finally:
            with self._runner_lock:
                self._runner = None
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _run(self) -> None:
        try:
            await self.start()
        except asyncio.CancelledError:
            self.live.run.interrupted = True
            self.live.end("cancelled")
        except Exception as exc:  # noqa: BLE001  # one line on screen, never a traceback
            self.failure = exc
            self.live.end(f"failed: {_one_line(mask_urls(f'{type(exc).__name__}: {exc}'), 200)}")
        else:
            self.live.end("done")

    def _cancel_runner(self) -> None:
        """Cancel the comparison from this (the UI's) thread: its task, on its own loop."""
        with self._runner_lock:
            self._cancelling = True
            if self._runner is not None:
                loop, task = self._runner
                loop.call_soon_threadsafe(task.cancel)

    def on_unmount(self) -> None:
        self._cancel_runner()  # the app quitting mid-run: the thread must not outlive it

    # -- drawing ------------------------------------------------------------------------------

    def colours(self) -> dict[str, tuple[int, int, int]]:
        """One colour per provider (and per "provider level" label of the plots)."""
        providers = self.live.run.providers or list(
            dict.fromkeys(r.provider for r in self.live.requests)
        )
        out = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(providers)}
        for level in self.live.run.levels:
            out.update({f"{p} {level}": c for p, c in list(out.items()) if " " not in p})
        return out

    def redraw(self) -> None:
        """Draw what changed since the last tick (nothing when the model did not move).

        The head and the bars are cheap and drawn every tick. The plots and the table are
        recomputed from every request (exact statistics, the CLI's), so their cost grows
        with the run, and the request list costs milliseconds a row whenever a cell
        changes: those are redrawn at most every :data:`HEAVY_EVERY_S`, or
        :data:`HEAVY_SHARE` times their last cost (the GIL they hold is the runner's
        wait), and always once the run is over."""
        live = self.live
        if live.version == self.drawn or not self.is_attached:
            return
        now = time.perf_counter()
        heavy = live.ended is not None or now >= self._heavy_due
        if heavy:
            self.drawn = live.version
        colours = self.colours()
        self._draw_head()
        self._draw_progress(live.progress(), colours)
        if not heavy:
            return
        self._draw_requests()
        self.query_one("#plot-ttft", DistributionPlot).show(
            live.values("time_to_first_token"), colours
        )
        self.query_one("#plot-gaps", DistributionPlot).show(
            live.values("inter_chunk_latency"), colours
        )
        self.query_one("#compare-stats", CompareStats).show(
            live.summaries(), colours, width=self.app.size.width
        )
        cost = time.perf_counter() - now
        self._heavy_due = now + max(HEAVY_EVERY_S, HEAVY_SHARE * cost)

    def _draw_head(self) -> None:
        live = self.live
        head = Text(escape_controls(self.compare_title), style="bold")
        done = sum(1 for _ in live.run.requests)
        head.append(f"  {done} finished", style="")
        if live.ended is None:
            head.append("  ● running (esc cancels)", style="cyan")
        elif live.ended == "done":
            head.append("  ✓ done (q leaves)", style="green")
        elif live.ended == "cancelled":
            head.append("  ■ cancelled: showing what finished (q leaves)", style="yellow")
        else:
            head.append(f"  ✗ {live.ended}", style="red")
        lag = live.recent_loop_lag()
        if lag is not None:  # the client's own delay in the figures (busy: over LAG_WARN_S)
            busy = lag > LAG_WARN_S
            head.append(
                f"  lag p99 {lag * 1e3:.0f} ms" + (" busy" if busy else ""),
                style="yellow" if busy else "dim",
            )
        self.query_one("#compare-head", Static).update(head)

    def _draw_progress(
        self, groups: list[GroupProgress], colours: dict[str, tuple[int, int, int]]
    ) -> None:
        box = self.query_one("#compare-progress", Vertical)
        several = len(self.live.run.levels) > 1
        for g in groups:
            key = (g.provider, g.level)
            if key not in self._groups:
                name = g.provider + (f" {g.level}" if several else "")
                colour = colours.get(g.provider, PALETTE[-1])
                label = Static(
                    Text(_one_line(name, 23), style=Style(color=f"rgb{colour}", bold=True)),
                    classes="compare-group-name",
                )
                bar = ProgressBar(total=g.planned, show_eta=False, show_percentage=False)
                counts = Static("", classes="compare-group-counts")
                box.mount(Horizontal(label, bar, counts, classes="compare-group"))
                self._groups[key] = (bar, counts)
            bar, counts = self._groups[key]
            bar.update(total=g.planned, progress=g.finished)
            line = Text(f"{g.finished}/{'?' if g.planned is None else g.planned}")
            line.append(f"  errors {g.errors}", style="red" if g.errors else "dim")
            if g.running:
                line.append(f"  streaming {g.running}", style="cyan")
            counts.update(line)

    def _draw_requests(self) -> None:
        """New requests get a row; a running request's row is updated while it is on
        screen (hundreds of rows off screen would cost more than the rest of the screen)
        and once more when it ends, wherever it is. Only the cells that changed are set:
        each change redraws the table's visible rows, a few milliseconds each."""
        table = self.requests_table
        new = self.live.requests[self._listed :]  # the runner's thread appends meanwhile
        self._listed += len(new)
        for req in new:
            key = f"{req.provider}/{req.level}/{req.index}"
            table.add_row(*self._cells(req), key=key)
            self._open_rows[key] = req
        top = int(table.scroll_y)
        bottom = top + table.size.height
        for key, req in list(self._open_rows.items()):
            ended = req.status != "running"
            if not ended and not top <= table.get_row_index(key) <= bottom:
                continue
            cells = self._cells(req)
            shown = self._shown_cells.get(key)
            now = (str(cells[4]), str(cells[5]), str(cells[6]))
            for i, column in enumerate(("status", "ttft", "chunks")):
                if shown is None or shown[i] != now[i]:
                    table.update_cell(key, column, cells[4 + i])
            if ended:
                del self._open_rows[key]
                self._shown_cells.pop(key, None)
            else:
                self._shown_cells[key] = now

    @staticmethod
    def _cells(req: LiveRequest) -> list[Text]:
        chunks = "-" if req.dropped else str(len(req.chunks))
        return [
            Text(_one_line(req.provider, 24)),
            Text(req.level),
            Text(str(req.index)),
            Text(_one_line(req.prompt.text, 40)),
            Text(req.status, style=_STATUS_STYLE[req.status]),
            Text(_ms(req.ttft_s)),
            Text(chunks),
        ]

    # -- keys ---------------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        index = event.cursor_row
        if 0 <= index < len(self.live.requests):
            self.open_request(self.live.requests[index])

    def open_request(self, req: LiveRequest) -> None:
        self.app.push_screen(CompareRequestScreen(req, delimiter=self.delimiter, tints=self.tints))

    def action_cancel(self) -> None:
        """Stop the run (what finished stays); once it is over, leave."""
        if self.live.ended is not None:
            self.action_leave()
            return
        self._cancel_runner()
        self.redraw()

    def action_leave(self) -> None:
        if self.live.ended is None:
            self.notify("The comparison is running: escape cancels it first.", markup=False)
            return
        self.dismiss(self.live.run)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self.worker and event.state in (
            WorkerState.CANCELLED,
            WorkerState.ERROR,
            WorkerState.SUCCESS,
        ):
            if self.live.ended is None:  # cancelled before the comparison ever began
                cancelled = self._cancelling or event.state == WorkerState.CANCELLED
                self.live.run.interrupted = cancelled
                self.live.end("cancelled" if cancelled else "done")
            self.redraw()


class CompareRequestScreen(Screen[None]):
    """One request of a comparison in the stream-pane view: its chunks (the pane's
    ``ChunkView``: delimiters, alternating tints) and its events (the app's ``EventsLog``).
    A running request is drawn as it grows, a few times a second."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("compare-request")  # type: ignore[assignment]  # list of Binding

    DEFAULT_CSS = """
    CompareRequestScreen #request-head { height: auto; padding: 0 1; background: $panel; }
    CompareRequestScreen #request-body { height: 1fr; layout: horizontal; }
    CompareRequestScreen #request-chunks { width: 3fr; border: round $primary; }
    CompareRequestScreen #request-events { width: 2fr; border: round $secondary; }
    """

    def __init__(
        self,
        request: LiveRequest,
        *,
        delimiter: str = "|",
        tints: bool = True,
        redraw_hz: float = 10.0,
    ) -> None:
        super().__init__()
        self.request = request
        self.redraw_hz = redraw_hz
        self.view = ChunkView(delimiter=delimiter, tints=tints, id="request-chunks")
        self.events = EventsLog(id="request-events")
        #: chunks of the request drawn so far, and whether its end is in the log
        self.shown = 0
        self._opened = False
        self._ended = False

    def compose(self) -> ComposeResult:
        yield Static("", id="request-head")
        with Horizontal(id="request-body"):
            yield self.view
            yield self.events
        yield Footer()

    def on_mount(self) -> None:
        req = self.request
        self.view.border_title = Text(escape_controls(f"{req.provider} · {req.level}"))
        self.events.border_title = "events"
        self.view.add_text("› " + req.prompt.text, NOTE)
        self.view.newline()
        self.view.begin_answer()
        self.pull()
        self.set_interval(1 / self.redraw_hz, self.pull)
        self.view.focus()

    def pull(self) -> None:
        """Draw the chunks and events that arrived since the last call: only those (the
        runner's thread may be appending meanwhile: what is drawn is what was there when
        the call began, the record read first, so a finished request's chunks are all in)."""
        req = self.request
        finished = req.record is not None
        upto = len(req.chunks)
        first = self.shown
        new = req.chunks[first:upto]
        if new:
            texts = [text for _, text, channel in new if channel == "text"]
            if texts:
                self.view.append_chunks(texts)
        events = request_events(
            req, first, upto, opening=not self._opened, ending=finished and not self._ended
        )
        self._opened = True
        self._ended = self._ended or finished
        self.events.add(events)
        self.shown = upto
        self.events.show()
        self._head()

    def _head(self) -> None:
        req = self.request
        head = Text()
        head.append(escape_controls(req.provider), style="bold")
        head.append(f"  {req.level}  request #{req.index}  prompt {req.prompt.id!r}  ")
        head.append(req.status, style=_STATUS_STYLE[req.status])
        rec = req.record
        if rec is not None:
            head.append(
                f"  TTFT {_ms(rec.time_to_first_token)} ms"
                f"  latency {_ms(rec.request_latency)} ms  chunks {self.shown}"
            )
            if rec.error_message:
                head.append("\n" + _one_line(rec.error_message, 300), style="red")
        else:
            head.append(f"  TTFT {_ms(req.ttft_s)} ms  chunks {self.shown}")
        if req.dropped:
            head.append(
                "\nits chunks were dropped (only the newest finished requests keep them)",
                style="dim",
            )
        self.query_one("#request-head", Static).update(head)

    def action_close(self) -> None:
        self.dismiss(None)


class CompareApp(App[CompareRun | None]):
    """The live screen on its own (``llmstream-tui compare`` in a terminal): the app's
    theme variables (chunk tints, delimiter colour), the screen, and its result as the
    app's return value."""

    def __init__(
        self,
        screen: CompareScreen,
        *,
        theme: str | None = None,
        keymap: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self._compare = screen
        self._theme_name = theme
        if keymap:
            self.set_keymap(keymap)  # the config's [keymap], as the app applies it

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return app_variable_defaults(self.current_theme.dark)

    def on_mount(self) -> None:
        if self._theme_name is not None:
            from ..themes import install_themes

            for problem in install_themes(self, self._theme_name, None, explicit=True):
                self.notify(problem, severity="warning", markup=False)
        self.push_screen(self._compare, self.exit)
