"""``EventsFilterScreen``: pick which providers and event phases the events log shows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, SelectionList

from ..widgets.events_log import EVENT_PHASES, LogFilter


class EventsFilterScreen(ModalScreen[LogFilter | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="filter_cancel"),
        Binding("ctrl+s", "apply", "Apply", id="filter_apply"),
    ]

    DEFAULT_CSS = """
    EventsFilterScreen { align: center middle; }
    EventsFilterScreen > Vertical {
        width: 72; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    EventsFilterScreen SelectionList {
        height: auto; max-height: 12; width: 1fr; margin: 1 1 0 0;
        border: round $foreground 30%;
    }
    EventsFilterScreen SelectionList:focus { border: round $primary; }
    EventsFilterScreen Horizontal { height: auto; }
    EventsFilterScreen Checkbox { margin: 1 0 0 0; }
    EventsFilterScreen #buttons { margin-top: 1; align-horizontal: right; }
    EventsFilterScreen Button { margin-left: 1; }
    """

    def __init__(self, current: LogFilter, providers: Sequence[str]) -> None:
        super().__init__()
        self.current = current
        self.providers = list(dict.fromkeys(providers))

    def compose(self) -> ComposeResult:
        shown = self.current.providers
        with Vertical() as box:
            box.border_title = Text("Events log filter")
            with Horizontal():
                yield SelectionList[str](
                    *[(Text(p), p, shown is None or p in shown) for p in self.providers],
                    id="providers",
                )
                yield SelectionList[str](
                    *[(p, p, p in self.current.phases) for p in EVENT_PHASES],
                    id="phases",
                )
            yield Checkbox("Fold stream events into counts", self.current.fold, id="fold")
            yield Label("Space toggles · Enter on Apply · ctrl+s applies · Esc cancels")
            with Horizontal(id="buttons"):
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#providers", SelectionList).border_title = "providers"
        self.query_one("#phases", SelectionList).border_title = "events"

    def result(self) -> LogFilter:
        chosen = set(self.query_one("#providers", SelectionList).selected)
        providers = None if chosen >= set(self.providers) else frozenset(chosen)
        phases = frozenset(self.query_one("#phases", SelectionList).selected)
        fold = self.query_one("#fold", Checkbox).value
        return LogFilter(providers=providers, phases=phases, fold=fold)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self.dismiss(self.result())
        else:
            self.dismiss(None)

    def action_apply(self) -> None:
        self.dismiss(self.result())

    def action_cancel(self) -> None:
        self.dismiss(None)
