"""``SearchBar``: a one-line find bar under the panes, for one searchable view at a time.

The bar knows nothing of what it searches: the target (a pane's ``ChunkView`` or the
``EventsLog``) implements :class:`Searchable`, searching its own text and drawing its own
highlights. Typing searches incrementally; next/previous wrap; escape closes the bar and the
target's highlights go with it. The query is shown as typed, in an ``Input`` (never markup).
"""

from __future__ import annotations

from typing import ClassVar, Protocol, runtime_checkable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Static

from ..keys import bindings


@runtime_checkable
class Searchable(Protocol):
    """A view the bar can search. Each call returns ``(current match index, matches)``,
    ``(-1, 0)`` when nothing matches."""

    def search(self, query: str) -> tuple[int, int]: ...

    def search_step(self, delta: int) -> tuple[int, int]: ...

    def clear_search(self) -> None: ...


def count_label(current: int, found: int, query: str) -> str:
    """What the bar shows beside the query: ``3/17``, ``no match``, or nothing yet."""
    if not query:
        return ""
    if found == 0 or current < 0:
        return "no match"
    return f"{current + 1}/{found}"


class SearchInput(Input, inherit_bindings=False):
    """The query box: an ``Input`` with its own editing keys only. Input is a scroll view,
    whose up/down/page keys would shadow the bar's next/previous (and hide them from the
    footer) though a one-line box has nothing to scroll."""

    BINDINGS: ClassVar[list[BindingType]] = list(Input.BINDINGS)


class SearchBar(Horizontal):
    """Find in ``target``: an input, the match count, and the keys in the footer."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("search")  # type: ignore[assignment]  # list of Binding

    DEFAULT_CSS = """
    SearchBar {
        height: 1;
        background: $panel;
    }
    SearchBar > .search-bar-label {
        width: auto;
        padding: 0 1;
        color: $text;
        background: $panel;
        text-style: bold;
    }
    SearchBar > Input, SearchBar > Input:focus {
        width: 1fr;
        height: 1;
        border: none;
        padding: 0 1;
        background: $surface;
        color: $text;
    }
    SearchBar > .search-bar-count {
        width: auto;
        min-width: 10;
        padding: 0 1;
        color: $text;
        background: $panel;
    }
    """

    class Closed(Message):
        """The bar closed (escape); the app gives the focus back."""

    def __init__(
        self,
        target: Searchable,
        label: str,
        *,
        return_focus: Widget | None = None,
        cursor_blink: bool = True,
        id: str | None = None,  # Textual's name
    ) -> None:
        super().__init__(id=id)
        self.cursor_blink = cursor_blink
        self.target = target
        #: what had the focus before the bar opened (it gets it back on close)
        self.return_focus = return_focus
        self.label = label
        self.current = -1
        self.found = 0
        #: the count as shown (``3/17``)
        self.count_text = ""

    def compose(self) -> ComposeResult:
        yield Static(Text(self.label), classes="search-bar-label")
        yield SearchInput(placeholder="type to search (plain text, any case)", id="search-input")
        yield Static("", classes="search-bar-count", id="search-count")

    @property
    def input(self) -> Input:
        return self.query_one("#search-input", Input)

    def on_mount(self) -> None:
        # the app's ``ui.cursor_blink`` (off in snapshots: a still cursor)
        self.input.cursor_blink = self.cursor_blink
        self.input.focus()

    def retarget(self, target: Searchable, label: str) -> None:
        """Search another view with the same query (the old one's highlights go)."""
        if target is not self.target:
            self.target.clear_search()
            self.target = target
        self.label = label
        self.query_one(".search-bar-label", Static).update(Text(label))
        self._show(*target.search(self.input.value))
        self.input.focus()

    @on(Input.Changed, "#search-input")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self._show(*self.target.search(event.value))

    @on(Input.Submitted, "#search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_search_next()

    def action_search_next(self) -> None:
        self._show(*self.target.search_step(1))

    def action_search_prev(self) -> None:
        self._show(*self.target.search_step(-1))

    def action_search_close(self) -> None:
        self.target.clear_search()
        back = self.return_focus
        if back is not None and back.is_attached and back.focusable:
            back.focus()
        else:
            self.screen.set_focus(None)
        self.post_message(self.Closed())
        self.remove()

    def _show(self, current: int, found: int) -> None:
        self.current, self.found = current, found
        self.count_text = count_label(current, found, self.input.value)
        self.query_one("#search-count", Static).update(Text(self.count_text))
