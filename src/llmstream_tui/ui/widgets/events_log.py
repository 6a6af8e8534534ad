"""``EventsLog``: the ``astream_events`` trace of every run, one line per event.

Memory is bounded (``max_lines`` entries, oldest dropped). Lines are formatted only when they
are drawn, so a run streaming 200,000 events a second costs the log one ``deque.extend`` per
frame when nothing filters it. A filter (providers, event phases) or folding keeps a second,
also bounded, view that is updated incrementally and rebuilt only when the filter changes.
The view follows the bottom unless the user has scrolled up.

A key (``toggle_tree``) switches to the tree view: the runs of every pane nested as they ran
(``run_tree.RunTreeView`` over ``core.run_tree``), live, foldable, the selected run's inputs,
outputs, tags and metadata in a side panel. Both views are fed from the same entries: every
event goes to its pane's run tree as it is added (a stream event: one lookup, one count), so
the tree is complete whichever view is open, and the filter's include/exclude names, types
and tags (``LogFilter.runs``, as ``astream_events`` takes them) apply to both.

A line can be selected (Up/Down while the log has focus, or a click) and expanded to its
full data (Enter, or a click on the selected line): ``EventDetailScreen``, untruncated and
still inert.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.selection import Selection
from textual.strip import Strip

from ...core.events import EventFilter
from ..format import event_data, event_phase, fit_name, quote, relative, short_id
from ..keys import bindings
from ..session import EventEntry
from ..text_search import fold_case, split_at_spans
from ._row_selection import DrawsWithoutOffsets, lines_selection_text
from ._styles import blended_style
from .run_tree import BOTTOM_PANEL_LINES, SIDE_PANEL_WIDTH, RunTreeView, TreeRow

#: The phases of a run's events (``on_*_start``, ``on_*_stream``, ``on_*_end``, an error),
#: as the log filters and colours them (see ``format.event_phase``).
EVENT_PHASES = ("start", "stream", "end", "error")


@dataclass(frozen=True)
class LogFilter:
    """Which lines the log shows. ``providers`` None means every provider. (Not
    ``core.events.EventFilter``, which decides which events a run emits at all.)"""

    providers: frozenset[str] | None = None
    phases: frozenset[str] = field(default_factory=lambda: frozenset(EVENT_PHASES))
    fold: bool = False
    #: which runs' events show, by name, run type and tag, as ``astream_events``'
    #: ``include_*``/``exclude_*`` arguments decide (None: every run)
    runs: EventFilter | None = None

    @property
    def is_open(self) -> bool:
        """True when every event is shown as is (no second view needed)."""
        return (
            self.providers is None
            and self.phases == frozenset(EVENT_PHASES)
            and not self.fold
            and self.runs is None
        )

    def describe(self) -> str:
        """The filter in a few words for the log's title ("" when it shows everything)."""
        bits = []
        if self.providers is not None:
            bits.append(",".join(sorted(self.providers)) or "no providers")
        if self.phases != frozenset(EVENT_PHASES):
            bits.append("+".join(p for p in EVENT_PHASES if p in self.phases) or "no events")
        if self.fold:
            bits.append("stream folded")
        if self.runs is not None:
            bits.append(describe_runs(self.runs))
        return "; ".join(bits)


def describe_runs(flt: EventFilter) -> str:
    """``+name:a,b -tag:x``: the runs filter in a few words (+ includes, - excludes)."""
    bits = []
    for sign, which in (("+", "include"), ("-", "exclude")):
        for kind in ("names", "types", "tags"):
            values = getattr(flt, f"{which}_{kind}")
            if values:
                bits.append(f"{sign}{kind[:-1]}:{','.join(values)}")
    return " ".join(bits) or "all runs"


class FoldRow:
    """Stream events of one run folded into a count; updated in place as more arrive."""

    __slots__ = (
        "count",
        "first_ns",
        "last_chunk",
        "last_ns",
        "name",
        "provider",
        "run_id",
        "serial",
    )

    def __init__(self, provider: str, rel: int, name: str, run_id: str, serial: int) -> None:
        self.provider = provider
        self.first_ns = rel
        self.last_ns = rel
        self.count = 0
        self.name = name
        self.run_id = run_id
        self.last_chunk: Any = None
        self.serial = serial


Row = Any  # EventEntry | FoldRow


#: The provider column's widest: a longer name is cut in its middle (``fit_name``), so
#: ``local-plain`` and ``local-plain:2`` stay apart.
NAME_WIDTH = 20


def on_one_clock(batches: list[tuple[int, list[EventEntry]]], origin: int) -> list[EventEntry]:
    """A frame's events of several panes in the order they arrived, each one's time moved
    from its run's start to ``origin`` (the first run of the prompt): the log's time
    column then reads as one clock, in order, whichever pane a line is from."""
    keyed = [_stamped(start - origin, n, events) for n, (start, events) in enumerate(batches)]
    return [(e[0], max(0, t), e[2], e[3], e[4]) for t, _, _, e in heapq.merge(*keyed)]


def _stamped(
    shift: int, pane: int, events: list[EventEntry]
) -> Iterator[tuple[int, int, int, EventEntry]]:
    """``(time on the log's clock, pane, order, event)``: ties keep the panes apart and
    each pane's events as they came, so ``heapq.merge`` never compares two events."""
    for i, e in enumerate(events):
        yield e[1] + shift, pane, i, e


class LogSearch:
    """The events log's matches of one query: ``(absolute view index, start, end)`` in each
    line's full text (in the tree view: ``(row, start, end)`` in each row's drawn text), in
    order, and which one is current. Rebuilt once per query (the log
    holds at most ``max_lines`` lines); lines added later are searched at the next step."""

    def __init__(self) -> None:
        self.query = ""
        self.matches: list[tuple[int, int, int]] = []
        #: absolute view index -> [(start, end, is_current)] for drawing
        self.by_line: dict[int, list[tuple[int, int, bool]]] = {}
        self.current = -1
        #: what the matches were found in: (tree view, the view's identity, its size)
        self.seen: tuple[bool, int, int] = (False, -1, -1)

    def run(self, query: str, lines: Iterable[tuple[int, str]]) -> None:
        """Find ``query`` (literal, case-insensitive) in ``lines`` (absolute index, text);
        the current match stays at or after the line of the previous one."""
        previous = self.matches[self.current][0] if self.current >= 0 else -1
        self.query = query
        self.matches = []
        self.current = -1
        if query:
            needle = fold_case(query)
            n = len(needle)
            for absolute, text in lines:
                hay = fold_case(text)
                at = hay.find(needle)
                while at >= 0:
                    self.matches.append((absolute, at, at + n))
                    at = hay.find(needle, at + n)
        if self.matches:
            self.current = next((i for i, m in enumerate(self.matches) if m[0] >= previous), 0)
        self._index()

    def step(self, delta: int) -> None:
        if self.matches:
            self.current = (self.current + delta) % len(self.matches)
            self._index()

    def clear(self) -> None:
        self.query = ""
        self.matches = []
        self.by_line = {}
        self.current = -1

    def _index(self) -> None:
        by_line: dict[int, list[tuple[int, int, bool]]] = {}
        for i, (absolute, start, end) in enumerate(self.matches):
            by_line.setdefault(absolute, []).append((start, end, i == self.current))
        self.by_line = by_line


class EventsLog(DrawsWithoutOffsets, can_focus=True):
    """A bounded, filterable, lazily formatted log of run events."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "events-log--time",
        "events-log--provider",
        "events-log--id",
        "events-log--start",
        "events-log--stream",
        "events-log--end",
        "events-log--error",
        "events-log--cursor",
        "events-log--match",
        "events-log--match-current",
    }

    class Expanded(Message):
        """The user asked for the selected line's full data (the app shows it)."""

        def __init__(self, entry: EventEntry) -> None:
            self.entry = entry
            super().__init__()

    BINDINGS: ClassVar[list[BindingType]] = bindings("events")  # type: ignore[assignment]  # list of Binding

    DEFAULT_CSS = """
    EventsLog {
        background: $surface;
        color: $text;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
    }
    EventsLog > .events-log--time { color: $text-muted; }
    EventsLog > .events-log--provider { color: $text; text-style: bold; }
    EventsLog > .events-log--id { color: $text-muted; }
    EventsLog > .events-log--start { color: $event-start; }
    EventsLog > .events-log--stream { color: $event-stream; }
    EventsLog > .events-log--end { color: $event-end; }
    EventsLog > .events-log--error { color: $event-error; text-style: bold; }
    EventsLog > .events-log--cursor { background: $accent 35%; }
    EventsLog > .events-log--match { background: $warning-muted; color: $text; }
    EventsLog > .events-log--match-current {
        background: $warning; color: auto 90%; text-style: bold;
    }
    """

    def __init__(
        self,
        *,
        max_lines: int = 5000,
        fold: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.max_lines = max_lines
        self.entries: deque[EventEntry] = deque(maxlen=max_lines)
        self.filter = LogFilter(fold=fold)
        self.view: deque[Row] = self.entries if self.filter.is_open else deque(maxlen=max_lines)
        #: rows ever appended to the view; absolute index = total - len(view) + i
        self._view_total = 0
        self._folds: dict[str, FoldRow] = {}
        self._cache: dict[int, Strip] = {}
        self._styles: dict[str, Style] | None = None
        self._base: Style | None = None
        self._name_width = 6
        #: the start (ns) of the first run of the prompt being answered: the log's times
        #: count from it, one clock for every pane (``begin_turn``)
        self._origin: int | None = None
        self._dirty = False
        #: the selected line, as an absolute view index (None: none selected)
        self.cursor: int | None = None
        #: every pane's runs as trees, fed whichever view is shown
        self.runs = RunTreeView()
        #: the tree view is shown instead of the flat log
        self.tree_mode = False
        self._version = "v2"
        self._details_cache: tuple[object, list[list[tuple[str, str]]]] | None = None
        self._search = LogSearch()

    # -- content ------------------------------------------------------------------------------

    def add(self, batch: list[EventEntry]) -> None:
        """Add a frame's events (of one provider)."""
        if batch:
            self.add_frame([(0, batch)])

    def add_frame(self, batches: list[tuple[int, list[EventEntry]]]) -> None:
        """Add a frame's events of several panes, each ``(its run's start in ns, its events
        in order)``: each pane's go to its run tree, and the log lists them all in the order
        they arrived, on one clock (``on_one_clock``), not pane after pane."""
        batches = [b for b in batches if b[1]]
        if not batches:
            return
        for _, pane_events in batches:
            width = len(pane_events[0][0])
            if width > self._name_width:
                self._name_width = min(width, NAME_WIDTH)
                self._cache.clear()
            self.runs.feed(pane_events)
        if self._origin is None:
            self._origin = min(start for start, _ in batches)
        origin = self._origin
        if len(batches) == 1 and batches[0][0] == origin:
            batch = batches[0][1]
        else:
            batch = on_one_clock(batches, origin)
        self.entries.extend(batch)
        if self.view is self.entries:
            self._view_total += len(batch)
        else:
            self._extend_view(batch)
        self._dirty = True

    def show(self) -> None:
        """Draw what :meth:`add` collected. The app calls this a few times a second, not per
        frame: nobody reads a firehose line by line, and each redraw costs every visible line."""
        if not self._dirty:
            return
        self._dirty = False
        if self.tree_mode:
            self.runs.layout(self.filter.providers, self.filter.runs)
        self.virtual_size = Size(self.size.width, self._height())
        self.refresh()

    def _height(self) -> int:
        """Lines of content: the view's, or the tree's rows (and the panel under them)."""
        if not self.tree_mode:
            return len(self.view)
        return len(self.runs.rows) + self._panel_lines()

    def begin_turn(self) -> None:
        """A prompt is sent: the times of the runs it starts count from the first of them."""
        self._origin = None

    def clear(self) -> None:
        self.cursor = None
        self._origin = None
        self.entries.clear()
        self.runs.clear()
        self._folds.clear()
        self._cache.clear()
        if self.view is not self.entries:
            self.view.clear()
        self.virtual_size = Size(self.size.width, 0)
        self.refresh()

    def set_filter(self, flt: LogFilter) -> None:
        self.filter = flt
        self.cursor = None
        self._cache.clear()
        self._folds.clear()
        self._view_total = 0
        if flt.is_open:
            self.view = self.entries
            self._view_total = len(self.entries)
        else:
            self.view = deque(maxlen=self.max_lines)
            self._extend_view(self.entries)
        if self.tree_mode:
            self.runs.layout(flt.providers, flt.runs)
        self.virtual_size = Size(self.size.width, self._height())
        self.anchor()
        self.refresh()

    def toggle_fold(self) -> None:
        """Fold stream events into one counting line per run, or list them again."""
        self.set_filter(replace(self.filter, fold=not self.filter.fold))

    def action_toggle_tree(self) -> None:
        """Show the runs as a tree, or the flat log again (the filter stays)."""
        self.tree_mode = not self.tree_mode
        self._cache.clear()
        if self.tree_mode:
            self.runs.layout(self.filter.providers, self.filter.runs)
        self.virtual_size = Size(self.size.width, self._height())
        self.show_title(self._version)
        self.anchor()
        self.refresh()

    def show_title(self, version: str) -> None:
        """The border title: the events schema ``version``, the view and the filter."""
        self._version = version
        described = self.filter.describe()
        title = f"events {version}" + (" · tree" if self.tree_mode else "")
        self.border_title = Text(f"{title} · {described}" if described else title)

    def _extend_view(self, batch: Iterable[EventEntry]) -> None:
        flt = self.filter
        providers = flt.providers
        phases = flt.phases
        fold = flt.fold
        show_stream = "stream" in phases
        view = self.view
        folds = self._folds
        runs = flt.runs
        trees = self.runs.trees
        for entry in batch:
            provider, rel, name, run_id, payload = entry
            if providers is not None and provider not in providers:
                continue
            if runs is not None:
                node = trees[provider].nodes.get(run_id) if provider in trees else None
                if node is not None and not node.admitted(runs):
                    continue
            if name.endswith("_stream"):
                if not show_stream:
                    continue
                if fold:
                    row = folds.get(run_id)
                    if row is None or (view and row.serial < self._view_total - len(view)):
                        row = FoldRow(provider, rel, name, run_id, self._view_total)
                        folds[run_id] = row
                        view.append(row)
                        self._view_total += 1
                    row.count += 1
                    row.last_ns = rel
                    row.last_chunk = payload
                    self._cache.pop(row.serial, None)
                    continue
            elif event_phase(name) not in phases:
                continue
            elif fold and name.endswith("_end"):
                folds.pop(run_id, None)
            view.append(entry)
            self._view_total += 1

    @property
    def shown_lines(self) -> list[str]:
        """Plain text of every line in the view (tests, and copy)."""
        return [self._line_text(row).plain for row in self.view]

    # -- selection ----------------------------------------------------------------------------

    def _first_index(self) -> int:
        return self._view_total - len(self.view)

    def select(self, absolute: int | None) -> None:
        """Select the line at absolute view index ``absolute`` (clamped), scrolled into view."""
        old = self.cursor
        if absolute is not None:
            if not self.view:
                absolute = None
            else:
                first = self._first_index()
                absolute = min(max(absolute, first), self._view_total - 1)
        self.cursor = absolute
        for key in (old, absolute):
            if key is not None:
                self._cache.pop(key, None)
        if absolute is not None:
            self.scroll_to_region_row(absolute - self._first_index())
        self.refresh()

    def scroll_to_region_row(self, index: int) -> None:
        top = int(self.scroll_offset.y)
        height = self.scrollable_content_region.height or 1
        if index < top:
            self.scroll_to(y=index, animate=False)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False)

    @property
    def selected_entry(self) -> EventEntry | None:
        """The selected line's entry (a folded line: its last chunk), or None."""
        cursor = self.cursor
        if cursor is None:
            return None
        index = cursor - self._first_index()
        if not 0 <= index < len(self.view):
            return None
        row = self.view[index]
        if isinstance(row, FoldRow):
            return (row.provider, row.last_ns, row.name, row.run_id, row.last_chunk)
        entry: EventEntry = row
        return entry

    def action_event_prev(self) -> None:
        if self.tree_mode:
            cursor = self.runs.cursor
            self.select_run(len(self.runs.rows) - 1 if cursor is None else cursor - 1)
            return
        self.select(self._view_total - 1 if self.cursor is None else self.cursor - 1)

    def action_event_next(self) -> None:
        if self.tree_mode:
            cursor = self.runs.cursor
            self.select_run(len(self.runs.rows) - 1 if cursor is None else cursor + 1)
            return
        self.select(self._view_total - 1 if self.cursor is None else self.cursor + 1)

    def action_expand_event(self) -> None:
        """Show the selected line's full data; in the tree, fold or unfold the selected run."""
        if self.tree_mode:
            node = self.runs.selected
            if node is not None:
                self.runs.toggle_fold(node)
                self.runs.layout(self.filter.providers, self.filter.runs)
                self.virtual_size = Size(self.size.width, self._height())
                self.refresh()
            return
        entry = self.selected_entry
        if entry is not None:
            self.post_message(self.Expanded(entry))

    def on_click(self, event: events.Click) -> None:
        """A click selects a line; a click on the selected line expands it (in the tree:
        folds or unfolds its run)."""
        if self.tree_mode:
            inside = event.get_content_offset(self)
            if inside is not None:
                self._click_tree(inside.x, inside.y)
            return
        index = int(self.scroll_offset.y) + event.y
        if not 0 <= index < len(self.view):
            return
        absolute = self._first_index() + index
        if absolute == self.cursor:
            self.action_expand_event()
        else:
            self.select(absolute)

    # -- the tree view ------------------------------------------------------------------------

    def _panel_width(self) -> int:
        """Columns of the side panel beside the tree (0: the panel goes under it)."""
        width = self.scrollable_content_region.width
        return width * 3 // 8 if width >= SIDE_PANEL_WIDTH else 0

    def _panel_lines(self) -> int:
        """Lines of the panel under the tree (0: it is beside it)."""
        if self._panel_width():
            return 0
        return min(BOTTOM_PANEL_LINES, max(3, self.size.height // 2))

    def select_run(self, index: int | None) -> None:
        """Select the tree's row ``index`` (clamped), scrolled into view; its run shows in
        the panel."""
        self.runs.select_row(index)
        cursor = self.runs.cursor
        if cursor is not None:
            top = int(self.scroll_offset.y)
            height = max(1, self.scrollable_content_region.height - self._panel_lines())
            if cursor < top:
                self.scroll_to(y=cursor, animate=False)
            elif cursor >= top + height:
                self.scroll_to(y=cursor - height + 1, animate=False)
        self.refresh()

    def _click_tree(self, x: int, y: int) -> None:
        panel_width = self._panel_width()
        tree_height = self.scrollable_content_region.height - self._panel_lines()
        if y >= tree_height or (
            panel_width and x >= self.scrollable_content_region.width - panel_width
        ):
            return  # a click in the panel
        index = int(self.scroll_offset.y) + y
        if not 0 <= index < len(self.runs.rows):
            return
        if index == self.runs.cursor:
            self.action_expand_event()
        else:
            self.select_run(index)

    @property
    def shown_tree(self) -> list[str]:
        """Plain text of every row of the tree view, 80 columns wide (tests, and copy)."""
        many = len(self.runs.trees) > 1
        return [
            "".join(t for t, _ in self.runs.row_pieces(row, 80, many=many)).rstrip()
            for row in self.runs.rows
        ]

    def _render_tree_line(self, y: int, width: int, base: Style) -> Strip:
        panel_width = self._panel_width()
        tree_height = self.scrollable_content_region.height - self._panel_lines()
        index = int(self.scroll_offset.y) + y
        if panel_width:  # beside: tree | panel
            tree_width = width - panel_width - 1
            details = self._details(panel_width)
            return Strip.join(
                [
                    self._tree_row(index, tree_width, base),
                    Strip([Segment("│", base + self._style("time"))]),
                    self._strip(details[y] if y < len(details) else [], panel_width, base),
                ]
            )
        if y < tree_height:
            return self._tree_row(index, width, base)
        line = y - tree_height
        if line == 0:
            return self._strip([("─" * width, "time")], width, base)
        details = self._details(width)
        return self._strip(details[line - 1] if line - 1 < len(details) else [], width, base)

    def _tree_row(self, index: int, width: int, base: Style) -> Strip:
        rows = self.runs.rows
        if not 0 <= index < len(rows):
            return Strip.blank(width, base)
        row: TreeRow = rows[index]
        pieces = self.runs.row_pieces(row, width, many=len(self.runs.trees) > 1)
        spans = self._search_spans(index, tree=True)
        selected = row[1] is self.runs.selected
        if spans:
            return self._matched_strip(pieces, spans, width, base, selected=selected)
        strip = self._strip(pieces, width, base)
        if selected:
            strip = self._highlight(strip)
        return strip

    def _details(self, width: int) -> list[list[tuple[str, str]]]:
        """The panel's lines for the selected run (built once per change, not per line)."""
        node = self.runs.selected
        key = (
            width,
            node,
            None if node is None else (node.state, node.streams, node.end_ns, node.last_ns),
        )
        cached = self._details_cache
        if cached is None or cached[0] != key:
            field_lines = 8 if self._panel_width() else 3  # beside the tree: its whole height
            cached = self._details_cache = (key, self.runs.detail_lines(width, field_lines))
        return cached[1]

    # -- search (the flat view) --------------------------------------------------------------

    def _search_lines(self) -> Iterable[tuple[int, str]]:
        if self.tree_mode:  # the rows as drawn (a name cut to fit is searched as shown)
            width = self.scrollable_content_region.width
            panel = self._panel_width()
            width = width - panel - 1 if panel else width
            many = len(self.runs.trees) > 1
            for i, tree_row in enumerate(self.runs.rows):
                yield (
                    i,
                    "".join(text for text, _ in self.runs.row_pieces(tree_row, width, many=many)),
                )
            return
        first = self._first_index()
        for i, row in enumerate(self.view):
            yield first + i, "".join(text for text, _ in self._line_pieces(row))

    def search(self, query: str) -> tuple[int, int]:
        """Highlight the lines' matches of ``query`` and scroll to the current one (the
        search bar's :class:`~.search_bar.Searchable`)."""
        found = self._search
        found.run(query, self._search_lines())
        found.seen = self._search_seen()
        return self._show_match()

    def search_step(self, delta: int) -> tuple[int, int]:
        found = self._search
        if found.seen != self._search_seen():
            found.run(found.query, self._search_lines())
            found.seen = self._search_seen()
        found.step(delta)
        return self._show_match()

    def clear_search(self) -> None:
        self._search.clear()
        self._cache.clear()
        self.refresh()

    def _search_seen(self) -> tuple[bool, int, int]:
        if self.tree_mode:
            return (True, id(self.runs.rows), len(self.runs.rows))
        return (False, id(self.view), self._view_total)

    def _show_match(self) -> tuple[int, int]:
        """Scroll to the current match; in the tree, select its run (the panel shows it)."""
        found = self._search
        self._cache.clear()
        if found.current >= 0:
            self.release_anchor()
            at = found.matches[found.current][0]
            if self.tree_mode:
                self.select_run(at)
            else:
                self.scroll_to_region_row(at - self._first_index())
        self.refresh()
        return found.current, len(found.matches)

    def _search_spans(self, key: int, tree: bool) -> list[tuple[int, int, bool]] | None:
        """The matches on line (or tree row) ``key``, if the search ran on that view."""
        found = self._search
        return found.by_line.get(key) if found.matches and found.seen[0] == tree else None

    def _matched_strip(
        self,
        pieces: list[tuple[str, str]],
        spans: list[tuple[int, int, bool]],
        width: int,
        base: Style,
        *,
        selected: bool = False,
    ) -> Strip:
        """A line with its matches highlighted: the pieces cut at the spans (offsets in the
        line's text), then drawn as :meth:`_strip` draws them, cut at ``width``. On the
        selected line the cursor's background goes under the text but not over a match
        (else the current match, which selects its run in the tree, would not show)."""
        match, current = self._style("match"), self._style("match-current")
        if selected:
            base = base + self._style("cursor")
        segments = []
        used = 0
        pos = 0
        for text, style_name in pieces:
            style = base + self._style(style_name) if style_name else base
            for piece, is_current in split_at_spans(text, pos, spans):
                if used >= width:
                    break
                if used + len(piece) > width:
                    piece = piece[: max(0, width - used - 1)] + "…"
                if is_current is None:
                    segments.append(Segment(piece, style))
                else:
                    segments.append(Segment(piece, style + (current if is_current else match)))
                used += len(piece)
            pos += len(text)
        return Strip(segments).crop_extend(0, width, base)

    # -- drawing ------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._base = None
        self._cache.clear()

    def _style(self, name: str) -> Style:
        styles = self._styles
        if styles is None:
            styles = self._styles = {
                cls.removeprefix("events-log--"): blended_style(self, cls)
                for cls in self.COMPONENT_CLASSES
            }
        return styles[name]

    def _line_pieces(self, row: Row) -> list[tuple[str, str]]:
        """One line as (text, style name) pieces: time, provider, event, short run id, data.
        Plain text only; styles are applied by name when drawn."""
        if isinstance(row, FoldRow):
            provider, rel, name, run_id = row.provider, row.first_ns, row.name, row.run_id
            chunk = row.last_chunk
            text = chunk if isinstance(chunk, str) else (getattr(chunk, "content", "") or "")
            data = f"×{row.count}  last {quote(text)}  until {relative(row.last_ns).strip()}"
        else:
            provider, rel, name, run_id, payload = row
            data = event_data(name, payload)
        pieces = [
            (relative(rel), "time"),
            (" ", ""),
            (fit_name(provider, self._name_width).ljust(self._name_width), "provider"),
            (" ", ""),
            (name, event_phase(name)),
        ]
        if self.size.width >= 64:
            pieces += [(" ", ""), (short_id(str(run_id)), "id")]
        pieces += [(" ", ""), (data, "")]
        return pieces

    def _line_text(self, row: Row) -> Text:
        return Text("".join(text for text, _ in self._line_pieces(row)))

    def render_line(self, y: int) -> Strip:
        _, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self._base
        if base is None:
            base = self._base = self.rich_style
        if self.tree_mode:
            return self._render_tree_line(y, width, base)
        view = self.view
        index = scroll_y + y
        if index >= len(view):
            return Strip.blank(width, base)
        key = self._view_total - len(view) + index
        strip = self._cache.get(key)
        if strip is None or strip.cell_length != width:
            pieces = self._line_pieces(view[index])
            spans = self._search_spans(key, tree=False)
            if spans:
                strip = self._matched_strip(pieces, spans, width, base, selected=key == self.cursor)
            else:
                strip = self._strip(pieces, width, base)
                if key == self.cursor:
                    strip = self._highlight(strip)
            if len(self._cache) > 512:
                self._cache.clear()
            self._cache[key] = strip
        return self.selectable(strip, index)

    # -- mouse selection (flat view; ``_row_selection.py``) -----------------------------------

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The lines under ``selection`` as the log holds them (a line cut with ``…`` on
        screen is copied whole when the selection reaches its end)."""
        if self.tree_mode:
            return None
        lines = [self._line_text(row).plain for row in self.view]
        width = self.scrollable_content_region.width
        return lines_selection_text(lines, selection, width), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    def _highlight(self, strip: Strip) -> Strip:
        """The selected line: the cursor's background over every segment's own (applied
        under them, as ``Strip.apply_style`` does, the line's base background hid it)."""
        cursor = self._style("cursor")
        return Strip(Segment.apply_style(list(strip), post_style=cursor), strip.cell_length)

    def _strip(self, pieces: Iterable[tuple[str, str]], width: int, base: Style) -> Strip:
        """(text, style name) pieces as one line ``width`` cells wide, cut with ``…``."""
        segments = []
        used = 0
        for text, style_name in pieces:
            if used >= width:
                break
            if used + len(text) > width:
                text = text[: max(0, width - used - 1)] + "…"
            style = base + self._style(style_name) if style_name else base
            segments.append(Segment(text, style))
            used += len(text)
        return Strip(segments).crop_extend(0, width, base)

    def on_mount(self) -> None:
        self.anchor()  # follow the bottom until the user scrolls up

    def on_resize(self) -> None:
        self._cache.clear()
        self.virtual_size = Size(self.size.width, self._height())
