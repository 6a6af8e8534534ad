"""Opening the search bar: which view a search key searches, and where the bar goes.

Plain functions of the app (as ``copy_export`` is), so ``app.py`` keeps one line per action.
The bar goes under the panes and the log, above the footer; one bar at a time: a second
search key moves it to the other view, keeping the query.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.widgets import Footer

from ..core.inert import escape_controls
from .widgets.events_log import EventsLog
from .widgets.search_bar import Searchable, SearchBar
from .widgets.stream_pane import StreamPane


def search_target(
    log: EventsLog, pane: StreamPane | None, *, events: bool
) -> tuple[Searchable, str] | None:
    """The view to search and the bar's label: the events log (its lines, or its tree's
    rows as drawn) or the selected pane's answer; None when there is none."""
    if events:
        log.display = True
        return log, "find in events"
    if pane is None:
        return None
    return pane.body, f"find in {escape_controls(pane.session.name)}"


def open_search(
    app: App[Any],
    log: EventsLog,
    pane: StreamPane | None,
    *,
    events: bool,
    cursor_blink: bool = True,
) -> None:
    """Open the bar on the chosen view (or move the open bar to it) and focus its input."""
    chosen = search_target(log, pane, events=events)
    if chosen is None:
        app.notify("no pane to search", markup=False)
        return
    target, label = chosen
    screen = app.screen
    bars = screen.query(SearchBar)
    if bars:
        bars.first().retarget(target, label)
        return
    bar = SearchBar(
        target, label, return_focus=app.focused, cursor_blink=cursor_blink, id="search-bar"
    )
    footers = screen.query(Footer)
    if footers:
        screen.mount(bar, before=footers.first())
    else:
        screen.mount(bar)
