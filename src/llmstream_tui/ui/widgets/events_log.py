"""``EventsLog``: the ``astream_events`` trace of every run, one line per event.

Memory is bounded (``max_lines`` entries, oldest dropped). Lines are formatted only when they
are drawn, so a run streaming 200,000 events a second costs the log one ``deque.extend`` per
frame when nothing filters it. A filter (providers, event phases) or folding keeps a second,
also bounded, view that is updated incrementally and rebuilt only when the filter changes.
The view follows the bottom unless the user has scrolled up.

A line can be selected (Up/Down while the log has focus, or a click) and expanded to its
full data (Enter, or a click on the selected line): ``EventDetailScreen``, untruncated and
still inert.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..format import event_data, event_phase, quote, relative, short_id
from ..keys import bindings
from ..session import EventEntry
from ._styles import blended_style

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

    @property
    def is_open(self) -> bool:
        """True when every event is shown as is (no second view needed)."""
        return self.providers is None and self.phases == frozenset(EVENT_PHASES) and not self.fold

    def describe(self) -> str:
        """The filter in a few words for the log's title ("" when it shows everything)."""
        bits = []
        if self.providers is not None:
            bits.append(",".join(sorted(self.providers)) or "no providers")
        if self.phases != frozenset(EVENT_PHASES):
            bits.append("+".join(p for p in EVENT_PHASES if p in self.phases) or "no events")
        if self.fold:
            bits.append("stream folded")
        return "; ".join(bits)


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


class EventsLog(ScrollView, can_focus=True):
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
        self._dirty = False
        #: the selected line, as an absolute view index (None: none selected)
        self.cursor: int | None = None

    # -- content ------------------------------------------------------------------------------

    def add(self, batch: list[EventEntry]) -> None:
        """Add a frame's events (of one provider)."""
        if not batch:
            return
        width = len(batch[0][0])
        if width > self._name_width:
            self._name_width = min(width, 12)
            self._cache.clear()
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
        self.virtual_size = Size(self.size.width, len(self.view))
        self.refresh()

    def clear(self) -> None:
        self.cursor = None
        self.entries.clear()
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
        self.virtual_size = Size(self.size.width, len(self.view))
        self.anchor()
        self.refresh()

    def toggle_fold(self) -> None:
        """Fold stream events into one counting line per run, or list them again."""
        f = self.filter
        self.set_filter(LogFilter(providers=f.providers, phases=f.phases, fold=not f.fold))

    def show_title(self, version: str) -> None:
        """The border title: the events schema ``version`` and the filter, if any."""
        described = self.filter.describe()
        title = f"events {version}"
        self.border_title = Text(f"{title} · {described}" if described else title)

    def _extend_view(self, batch: Iterable[EventEntry]) -> None:
        flt = self.filter
        providers = flt.providers
        phases = flt.phases
        fold = flt.fold
        show_stream = "stream" in phases
        view = self.view
        folds = self._folds
        for entry in batch:
            provider, rel, name, run_id, payload = entry
            if providers is not None and provider not in providers:
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
        self.select(self._view_total - 1 if self.cursor is None else self.cursor - 1)

    def action_event_next(self) -> None:
        self.select(self._view_total - 1 if self.cursor is None else self.cursor + 1)

    def action_expand_event(self) -> None:
        """Show the selected line's full data."""
        entry = self.selected_entry
        if entry is not None:
            self.post_message(self.Expanded(entry))

    def on_click(self, event: events.Click) -> None:
        """A click selects a line; a click on the selected line expands it."""
        index = int(self.scroll_offset.y) + event.y
        if not 0 <= index < len(self.view):
            return
        absolute = self._first_index() + index
        if absolute == self.cursor:
            self.action_expand_event()
        else:
            self.select(absolute)

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
            (provider[: self._name_width].ljust(self._name_width), "provider"),
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
        view = self.view
        index = scroll_y + y
        if index >= len(view):
            return Strip.blank(width, base)
        key = self._view_total - len(view) + index
        strip = self._cache.get(key)
        if strip is None or strip.cell_length != width:
            segments = []
            used = 0
            for text, style_name in self._line_pieces(view[index]):
                if used >= width:
                    break
                if used + len(text) > width:
                    text = text[: max(0, width - used - 1)] + "…"
                style = base + self._style(style_name) if style_name else base
                segments.append(Segment(text, style))
                used += len(text)
            strip = Strip(segments).crop_extend(0, width, base)
            if key == self.cursor:
                strip = strip.apply_style(self._style("cursor"))
            if len(self._cache) > 512:
                self._cache.clear()
            self._cache[key] = strip
        return strip

    def on_mount(self) -> None:
        self.anchor()  # follow the bottom until the user scrolls up

    def on_resize(self) -> None:
        self._cache.clear()
        self.virtual_size = Size(self.size.width, len(self.view))
