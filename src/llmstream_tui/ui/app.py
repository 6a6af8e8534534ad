"""The Textual app: one prompt streamed into several providers side by side.

``make_app(settings)`` builds it (the CLI, the tests and the benchmark all use it);
``run_app`` runs it and returns the exit code. The app never speaks HTTP or builds a request:
each pane calls ``build_llm(ref, settings=settings)`` and consumes ``astream_events`` in its
own worker (see ``session.py``); a frame timer draws what arrived, once per frame per pane.

Sessions: a conversation is saved as it happens (``settings.history``) by one
``SessionRecorder``, opened at its first prompt and closed by a new conversation; every send
(and every retry) is a turn, every pane's answer a run. The history key reopens a saved
session: its panes come back with their conversations and further turns are saved into the
same session. The record key adds a recording file. Nothing about saving may stop the app: a
history that cannot be opened or written costs the history, with one notification.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from functools import partial
from typing import Any, ClassVar, Literal

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider, SimpleCommand
from textual.containers import Container, Horizontal, Vertical
from textual.markup import escape as markup_escape
from textual.screen import Screen
from textual.widgets import Footer, Static

from .. import locations
from ..config import Settings
from ..core.inert import escape_controls
from ..core.messages import AIMessage, BaseMessage, HumanMessage
from ..errors import RecordingError
from ..providers.registry import KINDS, backend_class, build_llm
from ..sessions.history import History, SessionRecord
from ..sessions.recorder import SessionRecorder
from .gcpace import GcPacer
from .keys import KEY_IDS, bindings
from .screens.ad_hoc import AdHocProviderScreen
from .screens.events_filter import EventsFilterScreen
from .screens.help import HelpScreen
from .screens.history import HistoryScreen
from .session import (
    RUNNING,
    PaneSession,
    error_line,
    kept_in_conversation,
    reopened_exchanges,
)
from .state import Choices, PromptHistory
from .themes import DEFAULT_THEME, app_variable_defaults, load_themes
from .widgets.compare import CompareSummary, Entry
from .widgets.events_log import EventFilter, EventsLog
from .widgets.prompt import PromptArea
from .widgets.stream_pane import StreamPane

Clock = Callable[[], int]

#: The events log is redrawn every this many frames while runs stream (see EventsLog.show).
EVENTS_EVERY = 3
#: Where the record key writes, under the data dir.
RECORDINGS_DIR = "recordings"
#: How a reopened run that did not finish is marked below its answer.
_ENDED_NOTE = {
    "error": "(error)",
    "cancelled": "(cancelled)",
    "interrupted": "(interrupted)",
    "streaming": "(still streaming elsewhere)",
}


def grid_columns(panes: int, width: int) -> int:
    """Columns for ``panes`` panes: side by side up to three, then a grid (wider terminals
    get more columns)."""
    if panes <= 3:
        return max(1, panes)
    if panes == 4:
        return 2
    return 4 if width >= 200 and panes >= 7 else 3


def palette_text(text: str) -> str:
    """``text`` for the command palette, which reads names and help as markup: provider names
    come from the config and model names from a server, so both are escaped."""
    return markup_escape(escape_controls(text))


class ProviderCommands(Provider):
    """Command palette entries to add and remove panes (and ad hoc ``KIND:MODEL``)."""

    @property
    def _app(self) -> LLMStreamApp:
        app = self.app
        assert isinstance(app, LLMStreamApp)
        return app

    def _commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        return self._app.provider_commands()

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
        ref = query.strip()
        kind, sep, model = ref.partition(":")
        if sep and kind in KINDS and model:
            yield Hit(
                1.0,
                Text(f"Add pane: {escape_controls(ref)}"),
                self._app.spawn(self._app.add_pane, ref),
                help="an ad hoc provider reference",
            )


class LLMStreamApp(App[int]):
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
        self.history = PromptHistory(data / "prompt_history")
        self.choices = Choices(data / "choices.json")
        self.events_version: Literal["v1", "v2"] = self.ui.events_version
        self.delimiter = settings.delimiter
        self.whitespace = self.ui.show_whitespace
        self.tints = self.ui.tints
        self.selected: StreamPane | None = None
        self._pane_serial = 0
        self._frames = 0
        self._gc = GcPacer()
        self._panes: list[StreamPane] = []
        self._events_log = EventsLog(
            max_lines=self.ui.events_max_lines, fold=self.ui.fold_stream_events, id="events"
        )
        self._problems: list[str] = []
        #: saves the current conversation; opened at its first prompt (see _session_recorder)
        self._recorder: SessionRecorder | None = None
        self._recorder_problems = 0
        self._problems_shown: set[str] = set()
        self._register_themes()
        self.set_keymap(dict(settings.keymap))

    # -- themes and keys ----------------------------------------------------------------------

    def _register_themes(self) -> None:
        themes, problems = load_themes(
            [locations.bundled_themes_dir(), locations.user_themes_dir()]
        )
        for theme in themes:
            self.register_theme(theme)
        self._problems.extend(f"theme file skipped: {p}" for p in problems)
        wanted = self.settings.theme
        remembered = self.choices.get("theme")
        if "theme" not in self.settings.model_fields_set and isinstance(remembered, str):
            wanted = remembered
        if wanted not in self.available_themes:
            self._problems.append(f"theme {wanted!r} not found; using {DEFAULT_THEME}")
            wanted = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self.theme = wanted
        unknown = sorted(set(self.settings.keymap) - KEY_IDS)
        if unknown:
            self._problems.append(
                f"keymap: unknown binding id {unknown[0]!r} (see F1 for the list)"
            )

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return app_variable_defaults(self.current_theme.dark)

    def _remember_theme(self, theme: Any) -> None:
        self.choices.set("theme", theme.name)

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="workspace"):
                yield Container(id="panes")
                yield CompareSummary(id="summary")
                with Vertical(id="prompt-box"):
                    yield Static("", id="targets", markup=False)
                    yield PromptArea(self.history, cursor_blink=self.ui.cursor_blink, id="prompt")
            yield self._events_log
        yield Footer()

    @property
    def panes(self) -> list[StreamPane]:
        """The panes, left to right."""
        return list(self._panes)

    @property
    def events_log(self) -> EventsLog:
        return self._events_log

    @property
    def prompt_area(self) -> PromptArea:
        return self.query_one("#prompt", PromptArea)

    async def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.query_one("#summary").display = False
        open_events = self.ui.events_open
        self.query_one("#events").display = open_events == "yes" or (
            open_events == "auto" and self.size.width >= 120
        )
        self._update_events_title()
        for ref in self.refs:
            await self._mount_pane(self._make_session(ref))
        self._update_targets()
        self.prompt_area.focus()
        self._gc.start()
        self.set_interval(1 / self.ui.fps, self._frame, name="frame")
        for problem in self._problems:
            self.notify(problem, severity="error", timeout=8, markup=False)
        if self.history.last_error:
            self.notify(
                f"prompt history: {self.history.last_error}", severity="warning", markup=False
            )
        if self.initial_prompt:
            self.prompt_area.load_text(self.initial_prompt)
            await self.send(self.initial_prompt)

    def on_resize(self) -> None:
        self._layout_panes()

    def _layout_panes(self) -> None:
        container = self.query_one("#panes")
        n = len(self.panes)
        cols = grid_columns(n, self.size.width)
        container.styles.grid_size_columns = cols
        container.styles.grid_size_rows = max(1, -(-n // cols))

    # -- panes --------------------------------------------------------------------------------

    def _make_session(
        self, ref: str, table: dict[str, Any] | None = None, name: str | None = None
    ) -> PaneSession:
        display = name or ref
        try:
            llm = build_llm(table if table is not None else ref, name=name, settings=self.settings)
        except Exception as exc:  # noqa: BLE001  # shown in the pane, never a traceback
            return PaneSession(display, ref, None, build_error=error_line(exc), clock=self.clock)
        return PaneSession(llm.name or display, ref, llm, clock=self.clock)

    def _unique_record_name(self, name: str) -> str:
        """``name``, or ``name#2``, ``name#3``...: the first not used by another pane."""
        taken = {p.session.record_name for p in self._panes}
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name}#{n}"
        return candidate

    async def _mount_pane(self, session: PaneSession, record_name: str | None = None) -> StreamPane:
        session.record_name = record_name or self._unique_record_name(session.name)
        self._pane_serial += 1
        pane = StreamPane(
            session,
            delimiter=self.delimiter,
            tints=self.tints,
            whitespace=self.whitespace,
            markdown=self.ui.markdown,
            max_rows=self.ui.max_rows,
            id=f"pane-{self._pane_serial}",
        )
        self._panes.append(pane)
        await self.query_one("#panes").mount(pane)
        if self.selected is None:
            self._select(pane)
        self._layout_panes()
        self._update_targets()
        return pane

    async def add_pane(
        self, ref: str, table: dict[str, Any] | None = None, name: str | None = None
    ) -> StreamPane | None:
        """Add a pane for ``ref`` (a configured name or ``KIND:MODEL``); a reference that
        cannot be built is reported and adds nothing."""
        session = self._make_session(ref, table, name)
        if session.llm is None:
            self.notify(f"cannot add {ref}: {session.error}", severity="error", markup=False)
            return None
        pane = await self._mount_pane(session)
        self.notify(f"added {session.name}", markup=False)
        return pane

    async def remove_pane(self, pane: StreamPane) -> None:
        await pane.stop_run()
        if self.selected is pane:
            self.selected = None
        if pane in self._panes:
            self._panes.remove(pane)
        await pane.remove()
        llm = pane.session.llm
        if llm is not None:
            await llm.aclose()
        remaining = self.panes
        if self.selected is None and remaining:
            self._select(remaining[0])
        self._layout_panes()
        self._update_targets()

    def _select(self, pane: StreamPane) -> None:
        if self.selected is not None and self.selected is not pane:
            self.selected.remove_class("-selected")
        self.selected = pane
        pane.add_class("-selected")

    @on(StreamPane.Selected)
    def _on_pane_selected(self, message: StreamPane.Selected) -> None:
        self._select(message.pane)

    def _update_targets(self) -> None:
        names = [p.session.name for p in self.panes if p.session.llm is not None]
        text = Text("→ ", style="bold")
        if names:
            text.append(", ".join(escape_controls(n) for n in names))
        else:
            text.append("no provider: add one with ctrl+o", style="italic")
        self.query_one("#targets", Static).update(text)

    def provider_commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        """Palette entries: add configured providers, remove panes, ad hoc, server models."""
        out: list[tuple[str, Callable[[], Any], str]] = []
        shown = {p.session.ref for p in self.panes}
        for name in self.settings.provider_names():
            table = self.settings.provider_table(name) or {}
            what = f"{table.get('kind', '?')}:{table.get('model', '')}"
            shown_name = palette_text(name)
            if name not in shown:
                out.append(
                    (f"Add pane: {shown_name}", self.spawn(self.add_pane, name), palette_text(what))
                )
            if _lists_models(str(table.get("kind", ""))):
                out.append(
                    (
                        f"Models of {shown_name}…",
                        partial(self.pick_model, name),
                        "ask the server which models it serves",
                    )
                )
        for pane in self.panes:
            out.append(
                (
                    f"Remove pane: {palette_text(pane.session.name)}",
                    self.spawn(self.remove_pane, pane),
                    palette_text(pane.session.describe),
                )
            )
        out.append(
            (
                "Add pane: KIND:MODEL…",
                self.action_add_ad_hoc,
                "any provider reference, e.g. simulated:steady",
            )
        )
        return out

    def spawn(self, fn: Callable[..., Any], *args: Any) -> Callable[[], None]:
        """A no-argument palette callback that runs the coroutine ``fn(*args)`` as a worker."""

        def call() -> None:
            self.run_worker(fn(*args), exit_on_error=False)

        return call

    def action_providers(self) -> None:
        commands = [
            SimpleCommand(name, cb, help_text) for name, cb, help_text in self.provider_commands()
        ]
        self.search_commands(commands, placeholder="Add or remove panes…")

    def action_add_ad_hoc(self) -> None:
        def chosen(ref: str | None) -> None:
            if ref:
                self.run_worker(self.add_pane(ref), exit_on_error=False)

        self.push_screen(AdHocProviderScreen(sorted(KINDS)), chosen)

    @work(exclusive=True, group="list-models", exit_on_error=False)
    async def pick_model(self, name: str) -> None:
        """Ask ``name``'s server for its models and offer each as a new pane."""
        try:
            llm = build_llm(name, settings=self.settings)
            lister = getattr(llm, "list_models", None)
            if lister is None:
                self.notify(f"{name} cannot list models", markup=False)
                return
            try:
                models = list(await lister())
            finally:
                await llm.aclose()
        except Exception as exc:  # noqa: BLE001  # one line, never a traceback
            self.notify(f"{name}: {error_line(exc)}", severity="error", markup=False)
            return
        if not models:
            self.notify(f"{name} lists no models", markup=False)
            return
        table = dict(self.settings.provider_table(name) or {})
        commands = []
        for model in models:
            model = str(model)
            pane_name = f"{name}:{model}"
            commands.append(
                SimpleCommand(
                    palette_text(model),
                    self.spawn(self.add_pane, pane_name, {**table, "model": model}, pane_name),
                    f"new pane from {palette_text(name)}",
                )
            )
        self.search_commands(commands, placeholder=f"Models of {escape_controls(name)}…")

    # -- runs ---------------------------------------------------------------------------------

    @on(PromptArea.Submitted)
    async def _on_submitted(self, message: PromptArea.Submitted) -> None:
        message.area.clear()
        await self.send(message.text)

    async def send(self, prompt: str) -> None:
        """Send ``prompt`` to every pane, each with its own conversation (one saved turn)."""
        self.query_one("#summary").display = False
        recorder = self._session_recorder()
        recorder.begin_turn(prompt)
        for pane in self.panes:
            await pane.start_run(prompt, version=self.events_version, recorder=recorder)

    def action_send(self) -> None:
        self.prompt_area.action_send()

    def action_cancel_all(self) -> None:
        cancelled = [p.session.name for p in self.panes if p.cancel()]
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
        self.query_one("#summary").display = False
        recorder = self._session_recorder()
        recorder.begin_turn(prompt)  # a retry is saved as a new turn with the same prompt
        await pane.start_run(prompt, version=self.events_version, retry=True, recorder=recorder)

    async def action_new_conversation(self) -> None:
        for pane in self.panes:
            await pane.stop_run()
            pane.new_conversation()
        recording = self._recorder.recording if self._recorder is not None else None
        self._close_recorder()
        self.query_one("#summary").display = False
        if recording is not None:
            self.notify(f"new conversation; recording ended: {recording.path}", markup=False)
        else:
            self.notify("new conversation")

    # -- sessions: history and recordings -----------------------------------------------------

    @property
    def recorder(self) -> SessionRecorder | None:
        """What saves the current conversation (None before its first prompt)."""
        return self._recorder

    def _session_recorder(self) -> SessionRecorder:
        """The current conversation's recorder, opened at its first use. Saving is never
        worth a crash: a history that cannot be opened leaves a recorder saving nothing."""
        recorder = self._recorder
        if recorder is None:
            try:
                recorder = SessionRecorder.open(history=self.settings.history)
            except Exception as exc:  # noqa: BLE001  # the app goes on without a history
                recorder = SessionRecorder()
                recorder.problems.append(f"history not saved: {error_line(exc)}")
            self._use_recorder(recorder)
        return recorder

    def _use_recorder(self, recorder: SessionRecorder) -> None:
        self._recorder = recorder
        self._recorder_problems = 0
        self._report_recorder_problems()

    def _close_recorder(self) -> None:
        recorder = self._recorder
        if recorder is None:
            return
        self._recorder = None
        recorder.close()
        self._report_recorder_problems(recorder)

    def _report_recorder_problems(self, recorder: SessionRecorder | None = None) -> None:
        """One notification per new problem of the recorder (a sink that failed); the same
        message is shown once per app, however many conversations meet it."""
        recorder = recorder or self._recorder
        if recorder is None:
            return
        problems = recorder.problems
        for problem in problems[self._recorder_problems :]:
            line = " ".join(escape_controls(problem).split())
            if line not in self._problems_shown:
                self._problems_shown.add(line)
                self.notify(line, severity="warning", timeout=8, markup=False)
        self._recorder_problems = len(problems)

    def action_record(self) -> None:
        """Start recording the conversation to ``<data dir>/recordings/<timestamp>.jsonl``
        (from the next prompt on, see ``SessionRecorder.start_recording``)."""
        recorder = self._session_recorder()
        if recorder.recording is not None:
            self.notify(f"already recording to {recorder.recording.path}", markup=False)
            return
        folder = locations.data_dir() / RECORDINGS_DIR
        stamp = time.strftime("%Y%m%d-%H%M%S")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{stamp}.jsonl"
            n = 1
            while path.exists():
                n += 1
                path = folder / f"{stamp}-{n}.jsonl"
            recorder.start_recording(path)
        except (OSError, RecordingError) as exc:
            message = exc.strerror if isinstance(exc, OSError) else str(exc)
            self.notify(
                f"cannot record: {escape_controls(str(message))}", severity="error", markup=False
            )
            return
        self.notify(f"recording to {path} (from the next prompt)", markup=False)

    def action_history(self) -> None:
        """Browse the saved sessions; the one chosen is reopened (see ``reopen``)."""
        try:
            history = History()
        except Exception as exc:  # noqa: BLE001  # one line, the app goes on
            self.notify(f"history: {error_line(exc)}", severity="error", markup=False)
            return

        def chosen(record: SessionRecord | None) -> None:
            if record is None:
                history.close()
                return

            async def reopen_then_close() -> None:
                try:
                    await self.reopen(record, history)
                finally:
                    history.close()

            self.run_worker(reopen_then_close(), group="reopen", exit_on_error=False)

        self.push_screen(HistoryScreen(history), chosen)

    async def reopen(self, record: SessionRecord, history: History) -> None:
        """Replace the panes by ``record``'s, each with its own conversation (shown with its
        chunk boundaries) and ready to continue; later turns are saved into the same
        session. A provider configured under the saved name is built from the config, any
        other from the settings the session saved."""
        for pane in self.panes:
            await self.remove_pane(pane)
        self._close_recorder()
        self.query_one("#summary").display = False
        if self.settings.history:
            try:
                self._use_recorder(SessionRecorder.open(session=record.uid))
            except Exception as exc:  # noqa: BLE001  # reopen anyway; a new session saves on
                self.notify(
                    f"the reopened session will not be continued in the history: {error_line(exc)}",
                    severity="warning",
                    markup=False,
                )
        configured = set(self.settings.provider_names())
        for provider in record.providers:
            name = provider.name
            if name in configured:
                session = self._make_session(name)
            else:
                session = self._make_session(name, provider.table(), name)
            exchanges = reopened_exchanges(record, name)
            messages: list[BaseMessage] = []
            shown: list[tuple[str, list[str], str | None]] = []
            kept = False
            for prompt, run in exchanges:
                kept = kept_in_conversation(run.status, run.text)
                if kept:
                    messages += [HumanMessage(prompt), AIMessage(run.text)]
                shown.append((prompt, _answer_chunks(history, run.id), _ENDED_NOTE.get(run.status)))
                await asyncio.sleep(0)  # a long session must not hold the keys up
            session.restore(messages, exchanges[-1][0] if exchanges else None, kept)
            pane = await self._mount_pane(session, record_name=name)
            pane.restore(shown)
        self._update_targets()
        title = escape_controls(record.title) or "(untitled)"
        self.notify(f"reopened session {record.id}: {title}", markup=False)

    def action_next_pane(self) -> None:
        panes = self.panes
        if not panes:
            return
        i = panes.index(self.selected) if self.selected in panes else -1
        self._select(panes[(i + 1) % len(panes)])

    async def settle(self) -> None:
        """Wait until no pane is running, then draw everything (tests, scripts, benchmarks:
        an event to await instead of a sleep)."""
        for pane in self.panes:
            worker = pane.worker
            if worker is not None:
                with suppress(Exception):
                    await worker.wait()
        await self._frame()

    async def _frame(self) -> None:
        """Once per frame: every pane draws its new chunks, the log takes its new events."""
        recorder = self._recorder
        if recorder is not None and len(recorder.problems) > self._recorder_problems:
            self._report_recorder_problems()
        log = self.events_log
        for pane in self.panes:
            await pane.flush()
            events = pane.session.take_events()
            if events:
                log.add(events)
        self._frames += 1
        streaming = any(p.session.running for p in self._panes)
        if self._frames % EVENTS_EVERY == 0 or not streaming:
            log.show()
        self._gc.frame(streaming)

    @on(StreamPane.Finished)
    def _on_finished(self, message: StreamPane.Finished) -> None:
        panes = self.panes
        if any(p.session.state in RUNNING for p in panes):
            return
        ran = [p for p in panes if p.session.timeline is not None]
        if len(ran) < 2:
            return
        self._show_summary(ran)

    def _show_summary(self, panes: Iterable[StreamPane]) -> None:
        entries = [
            Entry(
                p.session.name,
                p.session.state,
                p.session.timeline.snapshot() if p.session.timeline else None,
            )
            for p in panes
        ]
        summary = self.query_one("#summary", CompareSummary)
        summary.show_entries(entries)
        summary.border_title = Text("compare")
        summary.display = True

    def action_toggle_summary(self) -> None:
        summary = self.query_one("#summary", CompareSummary)
        if summary.display:
            summary.display = False
            return
        ran = [p for p in self.panes if p.session.timeline is not None]
        if ran:
            self._show_summary(ran)

    # -- views --------------------------------------------------------------------------------

    def action_toggle_events(self) -> None:
        log = self.events_log
        log.display = not log.display

    def action_events_filter(self) -> None:
        log = self.events_log
        seen = [p.session.name for p in self.panes] + [e[0] for e in log.entries]

        def chosen(flt: EventFilter | None) -> None:
            if flt is not None:
                log.set_filter(flt)
                log.display = True
                self._update_events_title()

        self.push_screen(EventsFilterScreen(log.filter, seen), chosen)

    def action_fold_events(self) -> None:
        log = self.events_log
        f = log.filter
        log.set_filter(EventFilter(providers=f.providers, kinds=f.kinds, fold=not f.fold))
        self._update_events_title()

    def _update_events_title(self) -> None:
        log = self.events_log
        described = log.filter.describe()
        title = f"events {self.events_version}"
        log.border_title = Text(f"{title} · {described}" if described else title)

    def set_events_version(self, version: Literal["v1", "v2"]) -> None:
        self.events_version = version
        self._update_events_title()
        self.notify(f"astream_events {version} from the next run", markup=False)

    def action_toggle_markdown(self) -> None:
        if self.selected is not None:
            self.selected.toggle_markdown()

    def action_toggle_whitespace(self) -> None:
        self.whitespace = not self.whitespace
        for pane in self.panes:
            pane.body.set_whitespace(self.whitespace)
        self.notify(
            "whitespace shown (from new chunks on)"
            if self.whitespace
            else "whitespace plain (from new chunks on)"
        )

    def action_toggle_tints(self) -> None:
        self.tints = not self.tints
        for pane in self.panes:
            pane.body.set_tints(self.tints)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(dict(self.settings.keymap)))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Events log", "Show or hide the astream_events trace", self.action_toggle_events
        )
        yield SystemCommand(
            "Events filter", "Choose providers and event kinds shown", self.action_events_filter
        )
        yield SystemCommand(
            "Fold stream events", "Count stream events instead of listing", self.action_fold_events
        )
        other: Literal["v1", "v2"] = "v1" if self.events_version == "v2" else "v2"
        yield SystemCommand(
            f"Events schema {other}",
            f"Use astream_events {other}",
            lambda: self.set_events_version(other),
        )
        yield SystemCommand(
            "Markdown view", "Toggle Markdown for the selected pane", self.action_toggle_markdown
        )
        yield SystemCommand(
            "Whitespace", "Show whitespace chunks and newlines", self.action_toggle_whitespace
        )
        yield SystemCommand("Tints", "Alternate chunk tints on or off", self.action_toggle_tints)
        yield SystemCommand(
            "Compare summary", "Rank the finished providers", self.action_toggle_summary
        )
        yield SystemCommand("Providers", "Add or remove panes", self.action_providers)
        yield SystemCommand(
            "New conversation", "Forget every pane's history", self.action_new_conversation
        )
        yield SystemCommand(
            "History", "Browse saved sessions, reopen one to continue it", self.action_history
        )
        yield SystemCommand(
            "Record", "Record the conversation to a file from the next prompt", self.action_record
        )
        yield SystemCommand("Help", "Every key binding", self.action_help)

    async def on_unmount(self) -> None:
        self._gc.stop()
        for pane in self.panes:
            with suppress(Exception):
                await pane.stop_run()  # a run cut short by quitting is saved as cancelled
        try:
            self._close_recorder()
        except Exception:  # noqa: BLE001, S110  # saving on exit must not fail the exit
            pass
        for pane in self.panes:
            llm = pane.session.llm
            if llm is not None:
                try:
                    await llm.aclose()
                except Exception:  # noqa: BLE001, S110  # closing on exit must not fail the exit
                    pass


def _answer_chunks(history: History, run_id: int) -> list[str]:
    """A saved run's answer as it arrived: the texts of its answer chunks, in order."""
    return [
        c["text"]
        for c in history.iter_chunks(run_id)
        if c["text"] and c.get("channel") in (None, "refusal")
    ]


def _lists_models(kind: str) -> bool:
    if kind not in KINDS:
        return False
    try:
        return hasattr(backend_class(kind), "list_models")
    except Exception:  # noqa: BLE001  # a kind whose extra is missing cannot list anything
        return False


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
