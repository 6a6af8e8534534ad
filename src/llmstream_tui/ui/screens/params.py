"""``ParamsScreen``: the selected pane's (or every pane's) system prompt, parameters and model.

It edits text only and checks it with ``pane_params.parse_values`` before it closes, so a bad
value is one line under the fields and nothing is lost; the app applies the result
(``ParamsChoice``) by rebuilding each pane's backend. An empty field unsets a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, Static

from ..pane_params import FIELDS, ParamsError, parse_values


@dataclass(frozen=True)
class ParamsChoice:
    """What the dialog returns: checked parameters, the model ("" keeps it), the scope."""

    params: dict[str, Any]
    model: str
    all_panes: bool


class ParamsScreen(ModalScreen[ParamsChoice | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="params_cancel"),
        Binding("ctrl+s", "apply", "Apply", id="params_apply", priority=True),
    ]

    DEFAULT_CSS = """
    ParamsScreen { align: center middle; }
    ParamsScreen > VerticalScroll {
        width: 90%; max-width: 90; height: auto; max-height: 95%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    ParamsScreen Horizontal { height: 1; margin-top: 1; }
    ParamsScreen Horizontal > Label { width: 24; color: $text-muted; }
    ParamsScreen Horizontal > Input {
        width: 1fr; height: 1; border: none; padding: 0 1; background: $panel;
    }
    ParamsScreen Horizontal > Input:focus { border: none; background: $primary 25%; }
    ParamsScreen Checkbox { margin-top: 1; border: none; height: 1; padding: 0; }
    ParamsScreen #params-error { color: $state-error; height: auto; }
    ParamsScreen #params-hint { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, pane: str, values: dict[str, str], *, all_panes: bool = False) -> None:
        super().__init__()
        self.pane = pane
        self.values = values
        self.all_panes = all_panes

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = f"Parameters · {self.pane}"
            with Horizontal():
                yield Label("model")
                yield Input(self.values.get("model", ""), id="param-model")
            for name, label in FIELDS:
                with Horizontal():
                    yield Label(label)
                    yield Input(self.values.get(name, ""), id=f"param-{name}")
            yield Checkbox(f"every pane (else only {self.pane})", self.all_panes, id="params-all")
            yield Static("", id="params-error", markup=False)
            yield Static(
                "an empty field unsets it (the model: keeps it) · enter or ctrl+s apply · "
                "esc cancel",
                id="params-hint",
            )

    def on_mount(self) -> None:
        self.query_one("#param-system", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_apply()

    def action_apply(self) -> None:
        values = {name: self.query_one(f"#param-{name}", Input).value for name, _ in FIELDS}
        try:
            params = parse_values(values)
        except ParamsError as exc:
            self.query_one("#params-error", Static).update(str(exc))
            return
        model = self.query_one("#param-model", Input).value.strip()
        every = self.query_one("#params-all", Checkbox).value
        self.dismiss(ParamsChoice(params, model, every))

    def action_cancel(self) -> None:
        self.dismiss(None)
