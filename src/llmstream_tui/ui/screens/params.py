"""``ParamsScreen``: the selected pane's (or every pane's) system prompt, parameters and model.

It edits text only and checks it with ``pane_params.parse_values`` before it closes, so a bad
value is one line under the fields and nothing is lost; the app applies the result
(``ParamsChoice``) by rebuilding each pane's backend. An empty field unsets a parameter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Checkbox, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ...core.inert import escape_controls
from ..pane_params import FIELDS, ParamsError, parse_values

#: Asks the pane's server which models it serves (``ModelLister.list_models``).
ModelSource = Callable[[], Awaitable[list[str]]]


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
    ParamsScreen #params-models-note { color: $text-muted; height: auto; margin-left: 24; }
    ParamsScreen #params-models {
        height: auto; max-height: 4; border: none; background: $panel; display: none;
        margin-left: 24;
    }
    ParamsScreen #params-models.-listed { display: block; }
    """

    def __init__(
        self,
        pane: str,
        values: dict[str, str],
        *,
        all_panes: bool = False,
        models: ModelSource | None = None,
    ) -> None:
        super().__init__()
        self.pane = pane
        self.values = values
        self.all_panes = all_panes
        self._source = models
        #: the models the server listed (empty until it answers, or when it cannot)
        self.models: list[str] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = f"Parameters · {self.pane}"
            with Horizontal():
                yield Label("model")
                yield Input(self.values.get("model", ""), id="param-model")
            if self._source is not None:
                yield Static(
                    "asking the server for its models…", id="params-models-note", markup=False
                )
                yield OptionList(id="params-models")
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
        if self._source is not None:
            self.run_worker(self._list_models(self._source), exit_on_error=False)

    async def _list_models(self, source: ModelSource) -> None:
        """The server's models under the model field (filtered as it is typed, picked with
        enter or a click) and as its completion; a failure is one muted line."""
        note = self.query_one("#params-models-note", Static)
        try:
            models = sorted(await source())
        except Exception as exc:  # noqa: BLE001  # the dialog goes on without the list
            note.update("the server's models: " + " ".join(escape_controls(str(exc)).split()))
            return
        self.models = [escape_controls(m) for m in models]
        field = self.query_one("#param-model", Input)
        field.suggester = SuggestFromList(self.models, case_sensitive=False)
        note.update(
            f"{len(models)} models on the server; → completes"
            if models
            else "the server lists no models"
        )
        self._show_models(field.value if field.has_focus else "")

    def _show_models(self, typed: str) -> None:
        listing = self.query_one("#params-models", OptionList)
        needle = typed.strip().lower()
        shown = [m for m in self.models if needle in m.lower()] or self.models
        listing.clear_options()
        listing.add_options([Option(Text(m), id=f"m{i}") for i, m in enumerate(shown)])
        listing.set_class(bool(shown), "-listed")

    @on(Input.Changed, "#param-model")
    def _typed_model(self, event: Input.Changed) -> None:
        if self.models:
            self._show_models(event.value)

    @on(OptionList.OptionSelected, "#params-models")
    def _picked_model(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        field = self.query_one("#param-model", Input)
        prompt = event.option.prompt
        field.value = prompt.plain if isinstance(prompt, Text) else str(prompt)
        field.focus()

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
