"""``EventsFilterScreen``: pick which providers, event phases and runs the events log shows.

Runs are picked as ``astream_events`` picks them: include and exclude lists of names, run
types and tags (comma separated). An event passes when any include matches (or none is
given) and no exclude does; the flat log and the tree view both apply it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, SelectionList

from ...core.events import EventFilter
from ...core.run_tree import RUN_TYPES
from ..widgets.events_log import EVENT_PHASES, LogFilter

#: The include/exclude fields: (EventFilter attribute suffix, label, placeholder).
RUN_FIELDS = (
    ("names", "names", "e.g. agent, ChatOpenAI"),
    ("types", "types", ", ".join(RUN_TYPES[:4]) + ", …"),
    ("tags", "tags", "e.g. graph:step:2"),
)


def comma_list(text: str) -> tuple[str, ...] | None:
    """``a, b`` -> ``("a", "b")``; nothing -> None (no such filter)."""
    values = tuple(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))
    return values or None


def runs_filter(values: dict[str, str]) -> EventFilter | None:
    """The runs filter the fields say (keys ``include_names``...), None when all are empty."""
    lists = {key: comma_list(text) for key, text in values.items()}
    if not any(lists.values()):
        return None
    return EventFilter(**lists)


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
    EventsFilterScreen #runs-head { margin-top: 1; color: $text-muted; }
    EventsFilterScreen .runs { height: 1; margin-top: 1; }
    EventsFilterScreen .runs Label { width: 7; }
    EventsFilterScreen .runs Input {
        width: 1fr; height: 1; border: none; padding: 0 1; margin-right: 1;
        background: $boost;
    }
    EventsFilterScreen .runs Input:focus { background: $primary 30%; }
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
            runs = self.current.runs
            yield Label("runs   include (any)                 exclude (all)", id="runs-head")
            for kind, label, hint in RUN_FIELDS:
                with Horizontal(classes="runs"):
                    yield Label(label)
                    for which in ("include", "exclude"):
                        key = f"{which}_{kind}"
                        now = getattr(runs, key) if runs is not None else None
                        yield Input(", ".join(now or ()), placeholder=hint, id=key)
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
        fields = [
            f"{which}_{kind}" for kind, _, _ in RUN_FIELDS for which in ("include", "exclude")
        ]
        runs = runs_filter({key: self.query_one(f"#{key}", Input).value for key in fields})
        return LogFilter(providers=providers, phases=phases, fold=fold, runs=runs)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self.dismiss(self.result())
        else:
            self.dismiss(None)

    def action_apply(self) -> None:
        self.dismiss(self.result())

    def action_cancel(self) -> None:
        self.dismiss(None)
