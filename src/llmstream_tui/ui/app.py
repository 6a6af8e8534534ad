"""The Textual app: one prompt streamed into several providers side by side.

``make_app(settings)`` builds it (the CLI, the tests and the benchmark all use it);
``run_app`` runs it and returns the exit code. The app never speaks HTTP or builds a request:
each pane's provider is built by ``build_llm(ref, settings=settings)`` and consumed through
``astream_events`` in the pane's own worker (see ``session.py``); a frame timer draws what
arrived, once per frame per pane.

This module composes the screen, binds the keys and wires the parts together; the parts
live next to it: the panes' container (``widgets/pane_grid.py``), the command palette
(``commands.py``), the record and history keys (``session_keys.py``) on the plain decisions
of ``persistence.py`` (which recorder, which file, what a reopened pane gets back). Those
modules see the app as ``host.AppHost``, so none of them imports this one.

Sessions: a conversation is saved as it happens (``settings.history``) by one
``SessionRecorder``, opened at its first prompt and closed by a new conversation; every send
(and every retry) is a turn, every pane's answer a run. The history key reopens a saved
session: its panes come back with their conversations and further turns are saved into the
same session. The record key adds a recording file. Nothing about saving may stop the app: a
history that cannot be opened or written costs the history, with one notification.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Literal

from rich.text import Text
from textual import events, on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from .. import locations
from ..config import Settings
from ..core.capabilities import ModelLister
from ..core.inert import escape_controls
from ..sessions.recorder import SessionRecorder
from .commands import ProviderCommands, show_provider_commands, system_commands
from .copy_export import (
    ExportFormat,
    ScrollMove,
    copy_answer,
    copy_code_block,
    copy_selection,
    export_conversation,
    scroll_pane,
)
from .edit_resend import edit_commands, fork_saved
from .exchanges import EditTarget
from .format import targets_line
from .gcpace import GcPacer
from .host import AppHost
from .keys import bindings, keymap_problems
from .pane_params import ParamsError, current_values, rebuilt
from .persistence import CurrentRecorder
from .screens.event_detail import EventDetailScreen
from .screens.events_filter import EventsFilterScreen
from .screens.help import HelpScreen
from .screens.params import ParamsChoice, ParamsScreen
from .search import open_search
from .session import EventEntry, PaneSession, build_session
from .session_keys import browse_history, record_conversation
from .state import RECALL_FILE, Choices, PromptRecall
from .textual_internals import repaint_alone
from .themes import app_variable_defaults, install_themes
from .widgets.compare import CompareSummary
from .widgets.events_log import EventsLog, LogFilter
from .widgets.footer import FittedFooter
from .widgets.pane_grid import PaneGrid
from .widgets.prompt import PromptArea
from .widgets.stream_pane import StreamPane

Clock = Callable[[], int]

#: The events log is redrawn every this many painted frames while runs stream (see
#: EventsLog.show).
EVENTS_EVERY = 3
#: While runs stream, after a frame whose screen update took T to reach the terminal, the
#: panes rest PAINT_REST x T before the next: painting a firehose takes at most about a
#: third of the time and the streams the rest (see ``_paced_frame``).
PAINT_REST = 2.0
#: The longest rest (seconds): the panes of a firehose still move a few times a second.
PAINT_REST_MAX = 0.25


#: ``events_open = "auto"``: the events log is shown from this terminal width on.
EVENTS_AUTO_WIDTH = 120
#: Lines a row of panes keeps beside the compare summary: border, two text rows, two
#: metrics lines and the sparkline.
PANE_MIN_HEIGHT = 7


class LLMStreamApp(AppHost):
    """Watch several providers answer the same prompt, chunk by chunk."""

    CSS_PATH = "app.tcss"
    TITLE = "llmstream-tui"
    BINDINGS: ClassVar[list[BindingType]] = bindings("app")  # type: ignore[assignment]  # list of Binding
    COMMANDS = App.COMMANDS | {ProviderCommands}

    def __init__(
        self,
        settings: Settings,
        *,
        providers: Sequence[str] | None = None,
        prompt: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.ui = settings.ui
        self.refs = list(providers) if providers else list(settings.default_providers)
        self.initial_prompt = prompt
        self.clock: Clock = clock or time.perf_counter_ns
        data = locations.data_dir()
        self.prompt_recall = PromptRecall(data / RECALL_FILE)
        self.choices = Choices(data / "choices.json")
        self.events_version: Literal["v1", "v2"] = self.ui.events_version
        self._frames = 0
        #: the panes' next frame while streaming, not before (``_paced_frame``)
        self._rest_until = 0.0
        self._gc = GcPacer()
        self._grid = PaneGrid(
            delimiter=settings.delimiter,
            tints=self.ui.tints,
            whitespace=self.ui.show_whitespace,
            markdown=self.ui.markdown,
            max_rows=self.ui.max_rows,
            chunk_scope=self.ui.chunk_scope,
            id="panes",
        )
        self._events_log = EventsLog(
            max_lines=self.ui.events_max_lines, fold=self.ui.fold_stream_events, id="events"
        )
        #: saves the current conversation; opened at its first prompt
        self.saving = CurrentRecorder(history=settings.history, warn=self._warn)
        #: the events log follows the terminal's width (``events_open = "auto"``) until the
        #: user toggles it; then the user's choice holds
        self._events_follow_width = self.ui.events_open == "auto"
        #: the user hid the compare summary (Ctrl+S): it stays hidden until shown again
        self._summary_hidden = False
        #: an earlier prompt being edited (the edit key): the next send forks there
        self.editing: EditTarget | None = None
        #: what went wrong while starting, shown once the screen is up
        self._problems = install_themes(
            self,
            settings.theme,
            self.choices.get("theme"),
            explicit="theme" in settings.model_fields_set,
        )
        self._problems += keymap_problems(settings.keymap)
        self.set_keymap(dict(settings.keymap))

    # -- themes and keys ----------------------------------------------------------------------

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return app_variable_defaults(self.current_theme.dark)

    def _remember_theme(self, theme: Any) -> None:
        self.choices.set("theme", theme.name)

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="workspace"):
                yield self._grid
                yield CompareSummary(id="summary", chunk_scope=self.ui.chunk_scope)
                with Vertical(id="prompt-box"):
                    yield Static("", id="targets", markup=False)
                    yield PromptArea(
                        self.prompt_recall, cursor_blink=self.ui.cursor_blink, id="prompt"
                    )
            yield self._events_log
        yield FittedFooter()

    @property
    def panes(self) -> list[StreamPane]:
        """The panes, left to right."""
        return self._grid.panes

    @property
    def selected(self) -> StreamPane | None:
        """The pane the per-pane keys act on (None when there is no pane)."""
        return self._grid.selected

    @property
    def events_log(self) -> EventsLog:
        return self._events_log

    @property
    def prompt_area(self) -> PromptArea:
        return self.query_one("#prompt", PromptArea)

    async def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.hide_summary()
        open_events = self.ui.events_open
        self.query_one("#events").display = open_events == "yes" or (
            open_events == "auto" and self.size.width >= EVENTS_AUTO_WIDTH
        )
        self._update_events_title()
        for ref in self.refs:
            await self.mount_session(build_session(ref, self.settings, clock=self.clock))
        self._update_targets()
        self.prompt_area.focus()
        self.prompt_area.message_signal.subscribe(self, self._prompt_handled, immediate=True)
        self._gc.start()
        self.set_interval(1 / self.ui.fps, self._paced_frame, name="frame")
        for problem in self._problems:
            self.notify(problem, severity="error", timeout=8, markup=False)
        if self.prompt_recall.last_error:
            self.notify(
                f"prompt history: {self.prompt_recall.last_error}",
                severity="warning",
                markup=False,
            )
        if self.initial_prompt:
            # as if typed and sent: the box is left empty, the prompt is in the recall
            self.prompt_recall.add(self.initial_prompt)
            await self.send(self.initial_prompt)

    def on_resize(self, event: events.Resize) -> None:
        self._grid.fit_grid(event.size.width)
        if self._events_follow_width:
            self.events_log.display = event.size.width >= EVENTS_AUTO_WIDTH
        self._fit_summary(event.size.height)
        self.call_after_refresh(self._update_targets)

    def _fit_summary(self, height: int | None = None) -> None:
        """Size the compare summary to its rows, but leave every row of panes at least
        ``PANE_MIN_HEIGHT`` lines: on a short terminal it drops its border first, then
        scrolls."""
        summary = self.query_one("#summary", CompareSummary)
        if not summary.display:
            return
        height = height if height is not None else self.size.height
        prompt = self.query_one("#prompt-box").outer_size.height or 5
        room = height - 1 - prompt - self._grid.grid_rows * PANE_MIN_HEIGHT
        rows = len(summary.entries) + 1  # the header
        compact = room < rows + 2
        summary.set_class(compact, "-compact")
        summary.styles.max_height = max(3, room if compact else rows + 2)

    # -- panes --------------------------------------------------------------------------------

    async def mount_session(
        self, session: PaneSession, record_name: str | None = None
    ) -> StreamPane:
        """A new pane for ``session``, its runs saved under ``record_name`` (default: a
        unique form of the session's name)."""
        pane = await self._grid.add(session, record_name)
        self._update_targets()
        return pane

    async def add_pane(
        self, ref: str, table: dict[str, Any] | None = None, name: str | None = None
    ) -> StreamPane | None:
        """Add a pane for ``ref`` (a configured name or ``KIND:MODEL``); a reference that
        cannot be built is reported and adds nothing."""
        session = build_session(ref, self.settings, table=table, name=name, clock=self.clock)
        if session.llm is None:
            self.notify(f"cannot add {ref}: {session.error}", severity="error", markup=False)
            return None
        pane = await self.mount_session(session)
        self.notify(f"added {session.name}", markup=False)
        return pane

    async def remove_pane(self, pane: StreamPane) -> None:
        await self._grid.discard(pane)
        self._update_targets()

    def _update_targets(self) -> None:
        names = [p.session.name for p in self.panes if p.session.llm is not None]
        targets = self.query_one("#targets", Static)
        text = Text("→ ", style="bold")
        editing = self.editing
        if editing is not None:
            names = [n for n in names if n in editing.panes]
            text = Text(
                f"✎ editing prompt {editing.number} (Esc leaves); Enter resends to ", style="bold"
            )
        if names:
            room = (targets.content_region.width or self.size.width) - len(text)
            text.append(targets_line(names, max(8, room)))
        else:
            text.append("no provider: add one with ctrl+o", style="italic")
        targets.update(text)

    def show_recording(self) -> None:
        """The prompt box's title says when the conversation is being recorded (F2)."""
        recorder = self.saving.recorder
        recording = recorder.recording if recorder is not None else None
        box = self.query_one("#prompt-box")
        if recording is None:
            box.border_title = None
        else:
            box.border_title = Text(f"● REC {recording.path.name}", style="bold")
        box.set_class(recording is not None, "-recording")

    def action_providers(self) -> None:
        show_provider_commands(self)

    def action_next_pane(self) -> None:
        self._grid.select_next()

    async def action_next_source(self) -> None:
        """The selected pane of a LangChain application shows its next run (its output,
        then each chat model inside, then its output again)."""
        pane = self.selected
        label = await pane.next_source() if pane is not None else None
        if pane is None or label is None:
            self.notify("no other run to show (only applications with chat models inside)")
        else:
            shown = f"{escape_controls(pane.session.name)}: showing {escape_controls(label)}"
            self.notify(shown, markup=False)

    # -- runs ---------------------------------------------------------------------------------

    @on(PromptArea.Submitted)
    async def _on_submitted(self, message: PromptArea.Submitted) -> None:
        message.area.clear()
        editing, self.editing = self.editing, None
        if editing is not None:
            self._update_targets()
            await self.resend(message.text, editing)
        else:
            await self.send(message.text)

    async def send(self, prompt: str) -> None:
        """Send ``prompt`` to every pane, each with its own conversation (one saved turn)."""
        self.hide_summary()
        recorder = self.saving.get()
        recorder.begin_turn(prompt)
        self.events_log.begin_turn()
        await self._grid.start_runs(prompt, version=self.events_version, recorder=recorder)

    def action_send(self) -> None:
        self.prompt_area.action_send()

    def action_edit_prompt(self) -> None:
        pane = self.selected
        if pane is None or not pane.exchanges:
            self.notify("no prompt to edit yet", markup=False)
            return
        self.search_commands(
            edit_commands(self, pane, self.panes),
            placeholder=f"Edit which prompt of {pane.session.name}? (the last first)",
        )

    def begin_edit(self, target: EditTarget) -> None:
        """Put an earlier prompt in the prompt box to edit; Enter resends it (``resend``),
        Esc leaves it."""
        self.editing = target
        area = self.prompt_area
        area.load_text(target.prompt)
        area.move_cursor(area.document.end)
        area.focus()
        self._update_targets()

    def end_edit(self) -> bool:
        """Leave edit mode (Esc); the prompt box is emptied. False when not editing."""
        if self.editing is None:
            return False
        self.editing = None
        self.prompt_area.clear()
        self._update_targets()
        self.notify("edit abandoned: the conversation is as it was", markup=False)
        return True

    async def resend(self, prompt: str, target: EditTarget) -> None:
        """Send ``prompt`` in place of an earlier one: each chosen pane forgets that exchange
        and what came after it (screen and conversation) and streams the new prompt from
        there. The saved session is forked (``fork_session``): the original stays as it
        was, the fork holds the turns before the edited one, then this one."""
        panes = [p for p in self.panes if p.session.name in target.panes]
        for pane in panes:
            exchange = next((ex for ex in pane.exchanges if ex.turn == target.turn), None)
            if target.turn is None or exchange is None:
                exchange = next((ex for ex in pane.exchanges if ex.prompt == target.prompt), None)
            if exchange is not None:
                await pane.fork_at(exchange)
        self.hide_summary()
        await fork_saved(self.saving, target.turn, self.notify)
        recorder = self.saving.get()
        recorder.begin_turn(prompt)
        self.events_log.begin_turn()
        for pane in panes:
            await pane.start_run(prompt, version=self.events_version, recorder=recorder)

    def action_cancel_all(self) -> None:
        if not self._grid.running and self.end_edit():
            return
        cancelled = self._grid.cancel_runs()
        if cancelled:
            self.notify("cancelled " + ", ".join(cancelled), markup=False)

    def action_cancel_pane(self) -> None:
        if self.selected is not None:
            self.selected.cancel()

    async def action_retry(self) -> None:
        pane = self.selected
        if pane is None or pane.session.llm is None:
            return
        await pane.stop_run()
        prompt = pane.session.forget_last_exchange()
        if prompt is None:
            self.notify("nothing to retry yet", markup=False)
            return
        self.hide_summary()
        recorder = self.saving.get()
        recorder.begin_turn(prompt)  # a retry is saved as a new turn with the same prompt
        self.events_log.begin_turn()
        await pane.start_run(prompt, version=self.events_version, retry=True, recorder=recorder)

    async def action_new_conversation(self) -> None:
        await self._grid.new_conversations()
        recorder = self.saving.recorder
        recording = recorder.recording if recorder is not None else None
        self.saving.close()
        self.hide_summary()
        if recording is not None:
            self.notify(f"new conversation; recording ended: {recording.path}", markup=False)
        else:
            self.notify("new conversation")
        self.show_recording()

    async def settle(self) -> None:
        """Wait until no pane is running, then draw everything (tests, scripts, benchmarks:
        an event to await instead of a sleep)."""
        await self._grid.wait_for_runs()
        await self._frame()

    async def draw_now(self) -> None:
        """Draw what has arrived and every pane's metrics as of now, without waiting for
        the next frame or for the runs to end: a picture mid-stream (``render --at``)."""
        await self._frame()
        for pane in self.panes:
            pane._refresh_metrics()

    def _prompt_handled(self, message: Message) -> None:
        """The prompt handled ``message`` (its ``message_signal``, called at once): a key it
        took while streaming is written at once, by itself (a few cells), not with the
        panes' next frame, which repaints most of the screen."""
        if isinstance(message, events.Key) and self._grid.running:
            repaint_alone(self.prompt_area)

    async def _paced_frame(self) -> None:
        """The frame timer's tick. Every tick takes in what arrived; while runs stream, a
        tick within the rest after the last painted frame does not repaint the panes (the
        next painted one shows it): at 160x48 a painted frame of a firehose is a new
        screen, tens of ms to draw and write, and painting every tick left the streams a
        third of the time. A slow stream's paints cost little and rest little."""
        paint = not self._grid.running or time.perf_counter() >= self._rest_until
        await self._frame(paint)
        if paint and self._grid.running:
            self.call_after_refresh(self._painted, time.perf_counter())

    def _painted(self, started: float) -> None:
        """The frame painted at ``started`` is on the terminal: rest in proportion to the
        screen's update (not to the frame's own work, which grows with the chunks taken)."""
        now = time.perf_counter()
        self._rest_until = now + min((now - started) * PAINT_REST, PAINT_REST_MAX)

    async def _frame(self, paint: bool = True) -> None:
        """Once per frame: every pane draws its new chunks, the log takes its new events
        (``paint`` False: the panes and the log take them in without a repaint)."""
        self.saving.report_problems()
        log = self.events_log
        panes = self.panes
        batches: list[tuple[int, list[EventEntry]]] = []
        for pane in panes:
            await pane.flush(paint)
            events = pane.session.take_events()
            if events:
                timeline = pane.session.timeline
                start = timeline.start_ns if timeline is not None else None
                batches.append((start or 0, events))
        if batches:
            log.add_frame(batches)
        streaming = self._grid.running
        if paint:
            self._frames += 1
            if self._frames % EVENTS_EVERY == 0 or not streaming:
                log.show()
        self._gc.frame(streaming)

    @on(StreamPane.Finished)
    def _on_finished(self, message: StreamPane.Finished) -> None:
        if self._grid.running:
            return
        ran = self._ran()
        if len(ran) >= 2 and not self._summary_hidden:
            summary = next(iter(self.query("#summary").results(CompareSummary)), None)
            if summary is None:  # the app is closing: a run's end came after its screen
                return
            summary.show_runs(ran)
            self._fit_summary()

    def action_toggle_summary(self) -> None:
        summary = self.query_one("#summary", CompareSummary)
        if summary.display:
            summary.display = False
            self._summary_hidden = True
            return
        self._summary_hidden = False
        ran = self._ran()
        if ran:
            summary.show_runs(ran)
            self._fit_summary()

    def hide_summary(self) -> None:
        """The compare summary goes when anything new starts (it ranks the last runs)."""
        self.query_one("#summary").display = False

    # -- sessions: history and recordings -----------------------------------------------------

    @property
    def recorder(self) -> SessionRecorder | None:
        """What saves the current conversation (None before its first prompt)."""
        return self.saving.recorder

    def _warn(self, line: str) -> None:
        """A problem with saving, shown once (see ``CurrentRecorder``)."""
        self.notify(line, severity="warning", timeout=8, markup=False)

    def action_record(self) -> None:
        record_conversation(self)

    def action_history(self) -> None:
        browse_history(self)

    # -- copy, export, scroll (copy_export.py) ------------------------------------------------

    def action_copy_answer(self) -> None:
        copy_answer(self, self.selected)

    def action_copy_code(self) -> None:
        copy_code_block(self, self.selected)

    def action_copy_selection(self) -> None:
        copy_selection(self)

    def action_export(self, fmt: ExportFormat) -> None:
        """Export in a worker (reading the history and writing the file leave the UI free)."""
        self.run_worker(export_conversation(self, fmt), group="export", exit_on_error=False)

    def action_scroll_pane(self, move: ScrollMove) -> None:
        scroll_pane(self.selected, move)

    # -- views --------------------------------------------------------------------------------

    def action_toggle_events(self) -> None:
        log = self.events_log
        log.display = not log.display
        self._events_follow_width = False

    def action_events_filter(self) -> None:
        log = self.events_log
        seen = [p.session.name for p in self.panes] + [e[0] for e in log.entries]

        def chosen(flt: LogFilter | None) -> None:
            if flt is not None:
                log.set_filter(flt)
                log.display = True
                self._events_follow_width = False
                self._update_events_title()

        self.push_screen(EventsFilterScreen(log.filter, seen), chosen)

    def action_fold_events(self) -> None:
        self.events_log.toggle_fold()
        self._update_events_title()

    def _update_events_title(self) -> None:
        self.events_log.show_title(self.events_version)

    def action_events_version(self, version: Literal["v1", "v2"]) -> None:
        """Runs from the next one stream ``astream_events`` of schema ``version``."""
        self.events_version = version
        self._update_events_title()
        self.notify(f"astream_events {version} from the next run", markup=False)

    def action_params(self, all_panes: bool = False) -> None:
        """The selected pane's system prompt, parameters and model (or every pane's)."""
        pane = self.selected
        if pane is None or pane.session.llm is None:
            self.notify("no pane with a provider to set parameters for", markup=False)
            return
        values = current_values(pane.session.llm)

        def chosen(choice: ParamsChoice | None) -> None:
            if choice is not None:
                targets = self.panes if choice.all_panes else [pane]
                self.run_worker(self._apply_params(targets, choice), exit_on_error=False)

        llm = pane.session.llm
        models = llm.list_models if isinstance(llm, ModelLister) else None
        self.push_screen(
            ParamsScreen(pane.session.name, values, all_panes=all_panes, models=models), chosen
        )

    async def _apply_params(self, panes: list[StreamPane], choice: ParamsChoice) -> None:
        """Rebuild each pane's backend with the chosen values; a pane that is running, or
        whose kind refuses them, is one line and keeps its settings."""
        changed: list[str] = []
        for pane in panes:
            session, llm = pane.session, pane.session.llm
            if llm is None:
                continue
            if session.running:
                self.notify(f"{session.name}: running; set its parameters when it ends")
                continue
            try:
                new = rebuilt(llm, choice.params, choice.model, self.settings)
            except ParamsError as exc:
                self.notify(str(exc), severity="error", markup=False)
                continue
            old = session.reconfigure(new)
            pane.reconfigured()
            changed.append(session.name)
            if old is not None:
                with contextlib.suppress(Exception):  # closing the old one must not fail this
                    await old.aclose()
        if changed:
            self.notify("parameters set: " + ", ".join(changed), markup=False)

    def action_toggle_markdown(self) -> None:
        if self.selected is not None:
            self.selected.toggle_markdown()

    def action_search(self, events: bool) -> None:
        """Search the selected pane's answer, or the events log (its key, or F12 in it)."""
        log = self.events_log
        open_search(
            self,
            log,
            self.selected,
            events=events or log.has_focus,
            cursor_blink=self.ui.cursor_blink,
        )

    @on(EventsLog.Expanded)
    def _on_event_expanded(self, message: EventsLog.Expanded) -> None:
        self.push_screen(EventDetailScreen(message.entry))

    def action_toggle_reasoning(self) -> None:
        if self.selected is not None:
            self.selected.reasoning.toggle()

    def action_toggle_whitespace(self) -> None:
        shown = self._grid.toggle_whitespace()
        self.notify(f"whitespace {'shown' if shown else 'plain'}")

    def action_toggle_chunk_scope(self) -> None:
        scope = self._grid.toggle_chunk_scope()
        summary = self.query_one("#summary", CompareSummary)
        summary.chunk_scope = scope
        if summary.display:
            summary.show_runs(self._ran())
        which = (
            "all channels (answer, reasoning, tool calls, refusal)"
            if scope == "all"
            else "the answer only"
        )
        self.notify(f"chunk counts and gaps: {which}", markup=False)

    def action_compare_rank(self, column: str) -> None:
        """Order the compare summary by ``column`` (its rank), and show it."""
        summary = self.query_one("#summary", CompareSummary)
        summary.sort_by = column
        self._summary_hidden = False
        ran = self._ran()
        if ran:
            summary.show_runs(ran)
            self._fit_summary()

    def action_compare_prompt_set(self) -> None:
        """The palette's "Compare on a prompt set" (``screens/compare_setup.py``)."""
        from .screens.compare_setup import open_compare

        open_compare(self)

    def _ran(self) -> list[PaneSession]:
        """The sessions whose last run the compare summary ranks."""
        return [p.session for p in self.panes if p.session.timeline is not None]

    def action_toggle_tints(self) -> None:
        self._grid.toggle_tints()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(dict(self.settings.keymap)))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from system_commands(self, self.events_version)

    async def on_unmount(self) -> None:
        self._gc.stop()
        await self._grid.stop_runs()  # a run cut short by quitting is saved as cancelled
        with contextlib.suppress(Exception):  # saving on exit must not fail the exit
            self.saving.close()
        await self._grid.close_providers()


def make_app(
    settings: Settings,
    *,
    providers: list[str] | None = None,
    prompt: str | None = None,
    clock: Clock | None = None,
) -> LLMStreamApp:
    """The app the CLI runs. ``providers`` are references (``-p``; default: the settings'
    ``default_providers``); ``prompt`` is sent at once; ``clock`` (nanoseconds, default
    ``time.perf_counter_ns``) times every run, so tests can fix what is displayed."""
    return LLMStreamApp(settings, providers=providers, prompt=prompt, clock=clock)


def run_app(
    settings: Settings, providers: list[str] | None = None, prompt: str | None = None
) -> int:
    """Run the app in the terminal; returns the process exit code."""
    app = make_app(settings, providers=providers, prompt=prompt)
    result = app.run()
    return int(result or 0) if app.return_code in (None, 0) else int(app.return_code or 1)


__all__ = ["LLMStreamApp", "make_app", "run_app"]
