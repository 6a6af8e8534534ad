"""``EventDetailScreen``: one events-log line expanded to its full data (still inert)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..event_detail import event_sections
from ..session import EventEntry


class EventDetailScreen(ModalScreen[None]):
    """The selected event, every channel and field whole. Plain ``Text`` only: model text
    here went through ``escape_controls`` and never reaches a markup parser."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "dismiss", "Close", id="event_detail_close"),
    ]

    DEFAULT_CSS = """
    EventDetailScreen { align: center middle; }
    EventDetailScreen > VerticalScroll {
        width: 90%; max-width: 120; height: 80%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    EventDetailScreen .event-label { color: $text-muted; text-style: bold; margin-top: 1; }
    """

    def __init__(self, entry: EventEntry) -> None:
        super().__init__()
        self.title_text, self.sections = event_sections(entry)

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = Text(self.title_text)
            for label, text in self.sections:
                yield Static(Text(label), classes="event-label")
                yield Static(Text(text), classes="event-text")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)

    @property
    def plain(self) -> str:
        """Everything shown, as plain text (tests)."""
        return "\n".join(f"{label}\n{text}" for label, text in self.sections)
