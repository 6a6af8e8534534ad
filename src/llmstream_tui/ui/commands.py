"""What the command palette offers: panes to add and remove, server models, system commands.

Names and help in the palette are read as markup, and provider names come from the config,
model names from a server: everything shown goes through :func:`palette_text`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.app import App, SystemCommand
from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, Provider, SimpleCommand
from textual.markup import escape as markup_escape

from ..core.capabilities import ModelLister
from ..core.inert import escape_controls
from ..providers.registry import KINDS, backend_class, build_llm
from .screens.ad_hoc import AdHocProviderScreen
from .session import error_summary
from .widgets.compare import RANKABLE

if TYPE_CHECKING:
    from .host import AppHost

#: A palette entry: (name, callback, help).
Command = tuple[str, Callable[[], Any], str]


def palette_text(text: str) -> str:
    """``text`` for the command palette, which reads names and help as markup: provider names
    come from the config and model names from a server, so both are escaped."""
    return markup_escape(escape_controls(text))


def lists_models(kind: str) -> bool:
    """Whether a provider of ``kind`` can ask its server for models (``ModelLister``)."""
    if kind not in KINDS:
        return False
    try:
        return issubclass(backend_class(kind), ModelLister)
    except Exception:  # noqa: BLE001  # a kind whose extra is missing cannot list anything
        return False


def spawn(app: App[Any], fn: Callable[..., Any], *args: Any) -> Callable[[], None]:
    """A no-argument palette callback that runs the coroutine ``fn(*args)`` as a worker."""

    def call() -> None:
        app.run_worker(fn(*args), exit_on_error=False)

    return call


def provider_commands(app: AppHost) -> list[Command]:
    """Palette entries: add configured providers, remove panes, ad hoc, server models."""
    out: list[Command] = []
    shown = {p.session.ref for p in app.panes}
    settings = app.settings
    for name in settings.provider_names():
        table = settings.provider_table(name) or {}
        what = f"{table.get('kind', '?')}:{table.get('model', '')}"
        shown_name = palette_text(name)
        if name not in shown:
            out.append(
                (f"Add pane: {shown_name}", spawn(app, app.add_pane, name), palette_text(what))
            )
        if lists_models(str(table.get("kind", ""))):
            out.append(
                (
                    f"Models of {shown_name}…",
                    partial(pick_model, app, name),
                    "ask the server which models it serves",
                )
            )
    for pane in app.panes:
        out.append(
            (
                f"Remove pane: {palette_text(pane.session.name)}",
                spawn(app, app.remove_pane, pane),
                palette_text(pane.session.describe),
            )
        )
    out.append(
        (
            "Add pane: KIND:MODEL…",
            partial(ask_ad_hoc_provider, app),
            "any provider reference, e.g. simulated:steady",
        )
    )
    return out


def show_provider_commands(app: AppHost) -> None:
    """The providers key: the palette with only the pane entries, the same provider as the
    full palette's, so a typed ``KIND:MODEL`` is offered here too."""
    app.push_screen(
        CommandPalette(
            providers=[ProviderCommands], placeholder="Add or remove panes, or type KIND:MODEL…"
        )
    )


def ask_ad_hoc_provider(app: AppHost) -> None:
    """Ask for any ``KIND:MODEL`` reference and add a pane for it."""

    def chosen(ref: str | None) -> None:
        if ref:
            app.run_worker(app.add_pane(ref), exit_on_error=False)

    app.push_screen(AdHocProviderScreen(sorted(KINDS)), chosen)


def pick_model(app: AppHost, name: str) -> None:
    """Ask ``name``'s server for its models, in a worker (one at a time), and offer each."""
    app.run_worker(
        offer_models(app, name), group="list-models", exclusive=True, exit_on_error=False
    )


async def offer_models(app: AppHost, name: str) -> None:
    """Ask ``name``'s server for its models and offer each in the palette as a new pane
    (a ``ModelLister`` backend; any other, or a failure, is one notification)."""
    try:
        llm = build_llm(name, settings=app.settings)
        if not isinstance(llm, ModelLister):
            app.notify(f"{name} cannot list models", markup=False)
            return
        try:
            models = list(await llm.list_models())
        finally:
            await llm.aclose()
    except Exception as exc:  # noqa: BLE001  # one line, never a traceback
        app.notify(f"{name}: {error_summary(exc)}", severity="error", markup=False)
        return
    if not models:
        app.notify(f"{name} lists no models", markup=False)
        return
    table = dict(app.settings.provider_table(name) or {})
    app.search_commands(
        model_commands(app, name, models, table),
        placeholder=f"Models of {escape_controls(name)}…",
    )


def model_commands(
    app: AppHost, name: str, models: Sequence[object], table: dict[str, Any]
) -> list[SimpleCommand]:
    """One palette entry per model ``name``'s server offers: each adds a pane of that model
    (``table`` is ``name``'s provider table)."""
    commands = []
    for listed in models:
        model = str(listed)
        pane_name = f"{name}:{model}"
        commands.append(
            SimpleCommand(
                palette_text(model),
                spawn(app, app.add_pane, pane_name, {**table, "model": model}, pane_name),
                f"new pane from {palette_text(name)}",
            )
        )
    return commands


class ProviderCommands(Provider):
    """Command palette entries to add and remove panes (and ad hoc ``KIND:MODEL``)."""

    @property
    def _app(self) -> AppHost:
        return cast("AppHost", self.app)  # the only app whose COMMANDS name this

    async def discover(self) -> Hits:
        for name, callback, help_text in provider_commands(self._app):
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in provider_commands(self._app):
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
        ref = query.strip()
        kind, sep, model = ref.partition(":")
        if sep and kind in KINDS and model:
            yield Hit(
                1.0,
                Text(f"Add pane: {escape_controls(ref)}"),
                spawn(self._app, self._app.add_pane, ref),
                help="an ad hoc provider reference",
            )


#: The app's own entries among the palette's system commands: (title, help, action).
SYSTEM_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Events log", "Show or hide the astream_events trace", "toggle_events"),
    ("Events filter", "Choose providers and event kinds shown", "events_filter"),
    ("Fold stream events", "Count stream events instead of listing", "fold_events"),
    ("Events schema {other}", "Use astream_events {other}", "events_version('{other}')"),
    ("Markdown view", "Toggle Markdown for the selected pane", "toggle_markdown"),
    ("Whitespace", "Show whitespace chunks and newlines", "toggle_whitespace"),
    ("Tints", "Alternate chunk tints on or off", "toggle_tints"),
    (
        "Parameters",
        "System prompt, temperature, max tokens, top_p, seed, model: selected pane",
        "params",
    ),
    ("Parameters for every pane", "The same, for every pane at once", "params(True)"),
    ("Edit an earlier prompt", "Edit and resend it: the conversation forks there", "edit_prompt"),
    ("Compare summary", "Rank the finished providers", "toggle_summary"),
    (
        "Compare on a prompt set",
        "The panes' providers on the built-in set or a prompt file, many times: live",
        "compare_prompt_set",
    ),
    *(
        (
            f"Compare: rank by {label}",
            f"Order the compare summary by {label}",
            f"compare_rank({label!r})",
        )
        for label in RANKABLE
    ),
    (
        "Chunk scope",
        "Chunk counts and gaps: answer only or all channels (F10)",
        "toggle_chunk_scope",
    ),
    ("Providers", "Add or remove panes", "providers"),
    ("New conversation", "Forget every pane's history", "new_conversation"),
    ("History", "Browse saved sessions, reopen one to continue it", "history"),
    ("Record", "Record the conversation to a file from the next prompt", "record"),
    ("Copy answer", "Copy the selected pane's last answer (alt+a)", "copy_answer"),
    ("Copy code block", "Copy a code block of the selected pane's answer (alt+c)", "copy_code"),
    ("Copy selection", "Copy the text selected with the mouse (alt+s)", "copy_selection"),
    (
        "Export as Markdown",
        "The conversation to a file in exports/ and the clipboard (alt+e)",
        "export('markdown')",
    ),
    ("Export as recording", "The conversation as JSON lines to exports/", "export('jsonl')"),
    ("Help", "Every key binding", "help"),
)


def system_commands(app: App[Any], events_version: str) -> Iterable[SystemCommand]:
    """The entries of :data:`SYSTEM_COMMANDS`, each running its action on ``app``; the
    events schema entry offers the schema not in use (``events_version``)."""
    other = "v1" if events_version == "v2" else "v2"
    for title, help_text, action in SYSTEM_COMMANDS:
        yield SystemCommand(
            title.format(other=other),
            help_text.format(other=other),
            partial(app.run_action, action.format(other=other)),
        )
