"""``AdHocProviderScreen``: type a provider reference (``KIND:MODEL[@BASE_URL]`` or a name)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class AdHocProviderScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="adhoc_cancel"),
    ]

    DEFAULT_CSS = """
    AdHocProviderScreen { align: center middle; }
    AdHocProviderScreen > Vertical {
        width: 90%; max-width: 80; height: auto;
        border: round $primary; background: $surface; padding: 0 1;
    }
    AdHocProviderScreen .kinds { color: $text-muted; width: 100%; height: auto; }
    """

    def __init__(self, kinds: list[str]) -> None:
        super().__init__()
        self.kinds = kinds

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Add a pane"
            yield Input(placeholder="KIND:MODEL[@BASE_URL], e.g. simulated:steady", id="ref")
            # wrapped, every kind shown: a label of one line cut the list at the box's edge
            yield Static("kinds: " + ", ".join(self.kinds), markup=False, classes="kinds")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        self.dismiss(value or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
