"""``HelpScreen``: every key binding with the key in effect (after ``[keymap]``)."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..keys import effective_keys
from ..line_runs import NEWLINE_GLYPH, SPACE_GLYPH, TAB_GLYPH

LEGEND = (
    "Chunks: each provider chunk is drawn between delimiters (|Spark|ling| water|) on an "
    "alternating tint. Whitespace mode shows whitespace-only chunks as "
    f"{SPACE_GLYPH} (space) and {TAB_GLYPH} (tab), and newlines inside chunks as "
    f"{NEWLINE_GLYPH}. Control characters in model text are shown escaped (\\x1b).\n"
    "Other channels: a reasoning model's reasoning streams above the answer, muted, with "
    "its own delimiters; it collapses when the answer starts (toggle_reasoning or a click "
    "on its header opens it, and the pane keeps that choice). Tool calls are cards below "
    "the answer, their arguments streaming, pretty-printed at the end (flagged when not "
    "valid JSON). A refusal is labelled as one, never shown as the answer. In the events "
    "log, select a line and expand it to see all of it."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "dismiss", "Close", id="help_close"),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen .legend { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, keymap: dict[str, str]) -> None:
        super().__init__()
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("binding id", style="dim", no_wrap=True)
        table.add_column("what it does")
        for spec, keys in effective_keys(self.keymap):
            # one key per line: a binding with alternatives must not widen the column
            table.add_row(Text(keys.replace(",", "\n")), Text(spec.id), Text(spec.description))
        with VerticalScroll() as scroll:
            scroll.border_title = Text("Keys (remap any binding id under [keymap] in the config)")
            yield Static(table)
            yield Static(Text(LEGEND), classes="legend")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
