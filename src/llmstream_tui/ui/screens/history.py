"""``HistoryScreen``: browse, search, reopen and delete saved sessions.

It is given a ``History`` (the caller opens the database: nothing global) and renders what
``sessions.history`` returns; it never writes except ``delete``. The list is keyset-paged
(``PAGE_SIZE`` rows at a time, the next page fetched when the cursor nears the end), so a
history of 10,000 sessions opens as fast as one of 100. Typing filters (case-insensitive
substring of titles, prompts and answers) after a short pause. Text from the database is
untrusted model output: it is shown as ``rich.text.Text`` with control characters escaped,
never through markup.

Typing goes to the search box wherever the focus is; ``enter`` there runs the search at once
and moves to the list, its first match selected. Keys: ``enter`` reopens the highlighted
session (the screen is dismissed with its ``SessionRecord``), ``delete`` twice deletes it,
``escape`` closes (dismissed with ``None``).
"""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static

from ...core.inert import escape_controls
from ...errors import RecordingError
from ...sessions.history import History, SessionRecord, SessionSummary

#: Rows fetched per page.
PAGE_SIZE = 100
#: Seconds of typing pause before the search runs.
SEARCH_DELAY_S = 0.15
#: Characters of each answer shown in the preview.
PREVIEW_CHARS = 300

_STATUS_STYLE = {
    "done": "green",
    "error": "red",
    "interrupted": "yellow",
    "cancelled": "yellow",
    "streaming": "cyan",
    "empty": "dim",
}


def _one_line(text: str, width: int) -> str:
    line = escape_controls(" ".join(text.split()))
    return line if len(line) <= width else line[: width - 1] + "…"


class HistoryScreen(ModalScreen[SessionRecord | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="history_close"),
        Binding("enter", "reopen", "Reopen", id="history_reopen", priority=True),
        Binding("delete", "delete", "Delete", id="history_delete"),
    ]

    DEFAULT_CSS = """
    HistoryScreen { align: center middle; }
    HistoryScreen > Vertical {
        width: 95%; height: 90%; border: round $primary; background: $surface; padding: 0 1;
    }
    HistoryScreen #history-table { height: 1fr; }
    HistoryScreen #history-preview { height: 10; border-top: solid $primary-darken-2; }
    HistoryScreen #history-hint { color: $text-muted; }
    """

    def __init__(self, history: History, *, page_size: int = PAGE_SIZE) -> None:
        super().__init__()
        self.history = history
        self.page_size = page_size
        self.search = ""
        #: The rows shown, in order; their ids are the table's row keys.
        self.rows: list[SessionSummary] = []
        self.exhausted = False
        self._pending_delete: int | None = None
        self._search_timer: Timer | None = None
        #: why the list could not be read (a damaged database), shown in the preview
        self.problem: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "History"
            yield Input(
                placeholder="Search prompts and answers…",
                id="history-search",
                select_on_focus=False,  # a key typed in the list lands here: keep it
            )
            table: DataTable[Text] = DataTable(
                id="history-table", cursor_type="row", zebra_stripes=True
            )
            yield table
            yield Static(id="history-preview")
            yield Static(
                Text(
                    "type to search · ↑↓ choose · enter reopen · delete (twice) delete · esc close"
                ),
                id="history-hint",
            )

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#history-table", DataTable)

    def on_mount(self) -> None:
        table = self.table
        for label, key in (
            ("ID", "id"),
            ("updated", "updated"),
            ("status", "status"),
            ("providers", "providers"),
            ("title", "title"),
        ):
            table.add_column(label, key=key)
        self.reload()
        table.focus()

    # -- loading ---------------------------------------------------------------------------

    def reload(self) -> None:
        """Show the first page for the current search."""
        self.rows = []
        self.exhausted = False
        self._pending_delete = None
        table = self.table
        table.clear()
        self.load_more()
        if self.rows:
            table.move_cursor(row=0)  # the selection follows the list shown
        self._show_preview()

    def load_more(self) -> None:
        """Append the next page, if there is one."""
        if self.exhausted:
            return
        before = self.rows[-1].page_key if self.rows else None
        try:
            page = self.history.list_sessions(
                limit=self.page_size, before=before, search=self.search or None
            )
        except RecordingError as exc:  # a damaged file: say so here (once), the app goes on
            self.exhausted = True
            if self.problem != str(exc):
                self.notify(f"history: {exc}", severity="error", markup=False)
            self.problem = str(exc)
            return
        self.problem = None
        self.exhausted = len(page) < self.page_size
        table = self.table
        for row in page:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(row.updated))
            table.add_row(
                Text(str(row.id)),
                Text(when),
                Text(row.status, style=_STATUS_STYLE.get(row.status, "")),
                Text(_one_line(", ".join(row.providers), 30)),
                Text(_one_line(row.title, 80) or "(untitled)"),
                key=str(row.id),
            )
        self.rows += page

    @property
    def highlighted(self) -> SessionSummary | None:
        index = self.table.cursor_row
        return self.rows[index] if 0 <= index < len(self.rows) else None

    # -- events ----------------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        """Typing anywhere in the screen types into the search box (the table has the focus
        for the arrow keys, but it has no use for letters)."""
        search = self.query_one("#history-search", Input)
        if self.focused is search or not event.is_printable or not event.character:
            return
        event.stop()
        event.prevent_default()
        search.focus()
        search.insert_text_at_cursor(event.character)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
        value = event.value.strip()
        self._search_timer = self.set_timer(SEARCH_DELAY_S, lambda: self._apply_search(value))

    def _apply_search(self, value: str) -> None:
        if value != self.search:
            self.search = value
            self.reload()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.cursor_row >= len(self.rows) - 5:
            self.load_more()
        if self._pending_delete is not None and (
            self.highlighted is None or self.highlighted.id != self._pending_delete
        ):
            self._pending_delete = None
        self._show_preview()

    def _show_preview(self) -> None:
        preview = self.query_one("#history-preview", Static)
        row = self.highlighted
        if row is None and self.problem is not None:
            preview.update(Text(self.problem, style="red"))
            return
        if row is None:
            preview.update(
                Text(
                    "No saved sessions."
                    if not self.search
                    else f"No session contains {self.search!r}.",
                    style="dim",
                )
            )
            return
        try:
            record = self.history.load(row.id)
        except RecordingError as exc:
            preview.update(Text(str(exc), style="red"))
            return
        out = Text()
        for turn, prompt in enumerate(record.prompts):
            out.append("› ", style="bold")
            out.append(_one_line(prompt, 200) + "\n")
            for run in record.runs:
                if run.turn != turn:
                    continue
                out.append(f"  {escape_controls(run.provider)}", style="bold")
                out.append(f" [{run.status}] ", style=_STATUS_STYLE.get(run.status, ""))
                out.append(_one_line(run.text, PREVIEW_CHARS) + "\n")
        preview.update(out)

    # -- actions ---------------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss(None)

    def action_reopen(self) -> None:
        if isinstance(self.focused, Input):
            if self._search_timer is not None:
                self._search_timer.stop()
            self._apply_search(self.focused.value.strip())
            self.table.focus()
            return
        row = self.highlighted
        if row is None:
            return
        try:
            record = self.history.load(row.id)
        except RecordingError as exc:
            self.notify(str(exc), severity="error")
            return
        self.dismiss(record)

    def action_delete(self) -> None:
        row = self.highlighted
        if row is None:
            return
        if self._pending_delete != row.id:
            self._pending_delete = row.id
            self.notify(f"Press delete again to delete session {row.id}.", timeout=3)
            return
        self._pending_delete = None
        try:
            self.history.delete(row.id)
        except RecordingError as exc:  # read-only or damaged: nothing deleted
            self.notify(f"history: {exc}", severity="error", markup=False)
            return
        index = self.rows.index(row)
        del self.rows[index]
        self.table.remove_row(str(row.id))
        self._show_preview()


__all__ = ["PAGE_SIZE", "HistoryScreen"]
