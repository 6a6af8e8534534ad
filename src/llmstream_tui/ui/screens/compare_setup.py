"""The palette's "Compare on a prompt set": a small dialog (prompt file, repeat,
concurrency), then the live comparison screen over the app's current providers.

The dialog only parses what was typed (:func:`parse_choice`, tested without an app); the
prompt set is read by ``sessions.compare_run`` and a bad file is one notification naming
it and its line, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ...errors import ConfigError

if TYPE_CHECKING:
    from ..host import AppHost

__all__ = ["CompareChoice", "CompareSetupScreen", "open_compare", "parse_choice", "targets_of"]


@dataclass(frozen=True, slots=True)
class CompareChoice:
    """What the dialog asks: the prompt file (None: the built-in set), the times the set
    is sent, and the requests in flight per provider."""

    path: str | None
    repeat: int
    concurrency: int


def parse_choice(path: str, repeat: str, concurrency: str) -> CompareChoice:
    """The dialog's fields as a choice; ``ConfigError`` (one line naming the field) for a
    count that is not a whole number of 1 or more."""

    def count(value: str, field: str) -> int:
        try:
            number = int(value.strip() or "1")
        except ValueError:
            raise ConfigError(f"{field}: a whole number, not {value!r}") from None
        if number < 1:
            raise ConfigError(f"{field}: 1 or more, not {number}")
        return number

    return CompareChoice(
        path.strip() or None, count(repeat, "repeat"), count(concurrency, "concurrency")
    )


class CompareSetupScreen(ModalScreen[CompareChoice | None]):
    """Ask for the prompt set, repeat and concurrency; ``enter`` in any field starts."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="compare_setup_cancel"),
    ]

    DEFAULT_CSS = """
    CompareSetupScreen { align: center middle; }
    CompareSetupScreen > Vertical {
        width: 90%; max-width: 80; height: auto;
        border: round $primary; background: $surface; padding: 0 1;
    }
    CompareSetupScreen .hint { color: $text-muted; }
    """

    def __init__(self, providers: list[str]) -> None:
        super().__init__()
        self.providers = providers

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Compare on a prompt set"
            yield Static("providers: " + ", ".join(self.providers), markup=False, classes="hint")
            yield Input(placeholder="prompt file (empty: the built-in set)", id="compare-path")
            yield Input("5", placeholder="repeat", id="compare-repeat", type="integer")
            yield Input("2", placeholder="concurrency", id="compare-concurrency", type="integer")
            yield Static("enter starts · esc cancels", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        fields = [self.query_one(f"#compare-{n}", Input).value for n in ("path", "repeat")]
        fields.append(self.query_one("#compare-concurrency", Input).value)
        try:
            choice = parse_choice(*fields)
        except ConfigError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.dismiss(choice)

    def action_cancel(self) -> None:
        self.dismiss(None)


def targets_of(app: AppHost) -> list[tuple[str, dict[str, Any]]]:
    """(unique display name, provider table) of every pane whose provider was built, as the
    configuration resolves its reference (a pane's parameters edited in the app are not
    carried over)."""
    from ...providers.registry import resolve

    out: list[tuple[str, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for pane in app.panes:
        session = pane.session
        if session.llm is None:
            continue
        _, table = resolve(session.ref, app.settings)
        seen[session.name] = seen.get(session.name, 0) + 1
        n = seen[session.name]
        out.append((session.name if n == 1 else f"{session.name}#{n}", table))
    return out


def open_compare(app: AppHost) -> None:
    """The palette entry: the dialog, then the live screen over the panes' providers."""
    from ...sessions.compare_run import LoadShape, builtin_prompts, load_prompts
    from ..compare_live import CompareLive, runner
    from .compare import CompareScreen

    targets = targets_of(app)
    if not targets:
        app.notify("Compare: no provider to compare (add a pane first).", markup=False)
        return

    def chosen(choice: CompareChoice | None) -> None:
        if choice is None:
            return
        try:
            prompts = builtin_prompts() if choice.path is None else load_prompts(choice.path)
            shape = LoadShape(repeat=choice.repeat, concurrency=choice.concurrency)
        except ConfigError as exc:
            app.notify(f"compare: {exc}", severity="error", markup=False)
            return
        live = CompareLive()
        ui = app.settings.ui
        where = "built-in set" if choice.path is None else choice.path
        app.push_screen(
            CompareScreen(
                live,
                runner(live, targets, prompts, shape),
                title=f"compare on {where} · {', '.join(shape.levels())}",
                delimiter=app.settings.delimiter,
                tints=ui.tints,
            )
        )

    app.push_screen(CompareSetupScreen([name for name, _ in targets]), chosen)
