"""``CompareSummary``: when every pane has finished, providers ranked on TTFT, chunks/s and
total time (and, when some model reasoned, time to first reasoning chunk, reasoning time and
reasoning tokens), the best of each column highlighted; the rows can be ordered by any of
them (the palette's "Compare: rank by ...")."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...core.inert import escape_controls
from ...core.metrics import MetricsSnapshot
from ..format import DASH, ChunkScope, counted_chunks, duration, rate
from ._styles import blended_style

if TYPE_CHECKING:
    from ..session import PaneSession


@dataclass(frozen=True)
class Entry:
    name: str
    state: str
    snapshot: MetricsSnapshot | None


def _ttft(s: MetricsSnapshot) -> float | None:
    return s.ttft_s


def _rate(s: MetricsSnapshot) -> float | None:
    return s.chunks_per_s


def _total(s: MetricsSnapshot) -> float | None:
    return s.total_s


def _ttfr(s: MetricsSnapshot) -> float | None:
    return s.ttfr_s


def _reasoning(s: MetricsSnapshot) -> float | None:
    return s.reasoning_s


def _reasoning_tokens(s: MetricsSnapshot) -> float | None:
    return s.reasoning_tokens


@dataclass(frozen=True)
class Column:
    label: str
    get: Callable[[MetricsSnapshot], float | None]
    #: whether a lower value ranks better
    lower: bool
    #: how a value is written
    shown: Callable[[float | None], str]
    #: shown only when some run has a value (reasoning figures: a table of models that do
    #: not reason keeps its width for the figures they have)
    optional: bool = False


def _count(value: float | None) -> str:
    return DASH if value is None else str(int(value))


#: The ranked figures, in table order.
COLUMNS: tuple[Column, ...] = (
    Column("TTFT", _ttft, True, duration),
    Column("TTFR", _ttfr, True, duration, optional=True),
    Column("reasoning", _reasoning, True, duration, optional=True),
    Column("reason tok", _reasoning_tokens, True, _count, optional=True),
    Column("chunks/s", _rate, False, rate),
    Column("total", _total, True, duration),
)
RANKABLE: tuple[str, ...] = tuple(c.label for c in COLUMNS)


def shown_columns(entries: Sequence[Entry]) -> list[Column]:
    """The columns worth a place: every figure, and a reasoning figure when some run has it."""
    snaps = [e.snapshot for e in entries if e.snapshot is not None]
    return [c for c in COLUMNS if not c.optional or any(c.get(s) is not None for s in snaps)]


def ranks(entries: Sequence[Entry], columns: Sequence[Column] = COLUMNS) -> list[dict[str, int]]:
    """Per entry, its rank (1 = best) in each column it has a value for. Only finished
    (``done``) runs are ranked: a cancelled run's total says nothing about the provider."""
    out: list[dict[str, int]] = [{} for _ in entries]
    for column in columns:
        valued: list[tuple[float, int]] = []
        for i, e in enumerate(entries):
            snap = e.snapshot
            value = column.get(snap) if e.state == "done" and snap is not None else None
            if value is not None:
                valued.append((value if column.lower else -value, i))
        valued.sort()
        rank = 0
        previous = None
        for position, (value, i) in enumerate(valued, start=1):
            if value != previous:
                rank = position
                previous = value
            out[i][column.label] = rank
    return out


class CompareSummary(VerticalScroll, can_focus=False):
    """The table in a scrolling box: on a short terminal the app caps its height (the panes
    keep their rows) and the rest of the table scrolls, with a scrollbar showing it."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"compare--best", "compare--muted"}

    DEFAULT_CSS = """
    CompareSummary > .compare--best { color: $best; text-style: bold; }
    CompareSummary > .compare--muted { color: $text-muted; }
    CompareSummary > Static { width: auto; height: auto; }
    """

    def __init__(self, *, id: str | None = None, chunk_scope: ChunkScope = "answer") -> None:
        super().__init__(id=id)
        self.table = Static("", markup=False)
        self.entries: list[Entry] = []
        #: the style of the best figures, as last resolved from the theme
        self.best_style = Style()
        #: the figure the rows are ordered by (its rank); None keeps the panes' order
        self.sort_by: str | None = None
        #: what the chunks column counts (F10): the answer's chunks, or every channel's
        self.chunk_scope: ChunkScope = chunk_scope

    def compose(self) -> ComposeResult:
        yield self.table

    def notify_style_update(self) -> None:
        """A new theme: the table's colours are resolved when it is built, so build it again
        (the best figures in a dark theme's green are unreadable on a light one)."""
        super().notify_style_update()
        if self.entries and self.is_attached:
            # component styles are read again after this hook: build once they are
            self.call_later(self.show_entries, self.entries)

    def on_resize(self) -> None:
        if self.entries and self.display:
            self.show_entries(self.entries)  # the columns that fit the new width

    def show_entries(self, entries: Sequence[Entry]) -> None:
        self.entries = list(entries)
        best = self.best_style = blended_style(self, "compare--best")
        muted = blended_style(self, "compare--muted")
        width = self.scrollable_content_region.width or self.app.size.width - 4
        table = build_table(entries, best, muted, self.sort_by, self.chunk_scope, width)
        self.table.update(table)
        title = "compare" if self.sort_by is None else f"compare · ranked by {self.sort_by}"
        self.border_title = Text(title)

    def show_runs(self, sessions: Iterable[PaneSession]) -> None:
        """Rank the last run of each of ``sessions`` and show the table."""
        self.show_entries(
            [
                Entry(s.name, s.state, s.timeline.snapshot() if s.timeline else None)
                for s in sessions
            ]
        )
        self.display = True


#: Columns left out first when the table is wider than its box (the ranked figures that
#: matter most stay: TTFT, chunks/s, total, and the one the rows are ordered by).
DROP_ORDER: tuple[str, ...] = ("tokens", "state", "reason tok", "chunks", "reasoning", "TTFR")


def build_table(
    entries: Sequence[Entry],
    best: Style,
    muted: Style,
    sort_by: str | None = None,
    chunk_scope: ChunkScope = "answer",
    width: int | None = None,
) -> Table:
    """The ranked table; with ``width``, columns are left out (``DROP_ORDER``) until it fits,
    rather than cutting a header or a rank at the box's edge."""
    figures = shown_columns(entries)
    all_ranks = ranks(entries, figures)
    order = list(range(len(entries)))
    if sort_by is not None:
        order.sort(key=lambda i: all_ranks[i].get(sort_by, len(entries) + 1))
    chunks_head = "all chunks" if chunk_scope == "all" else "chunks"
    # (header, justify, cells in row order)
    cols: list[tuple[str, str, list[Text]]] = [
        ("provider", "left", [Text(escape_controls(entries[i].name)) for i in order])
    ]
    for column in figures:
        cells = []
        for i in order:
            snap = entries[i].snapshot
            r = all_ranks[i].get(column.label)
            shown = column.shown(column.get(snap) if snap is not None else None)
            cell = Text(shown if r is None else f"{shown} #{r}")
            if r == 1:
                cell.stylize(best)
            elif r is None:
                cell.stylize(muted)
            cells.append(cell)
        cols.append((column.label, "right", cells))
    snaps = [entries[i].snapshot for i in order]
    cols.append(
        (
            chunks_head,
            "right",
            [Text(str(counted_chunks(s, chunk_scope)) if s else DASH) for s in snaps],
        )
    )
    tokens = [s.tokens if s is not None and s.token_source == "usage" else None for s in snaps]
    cols.append(("tokens", "right", [Text(DASH if t is None else str(t)) for t in tokens]))
    states = [entries[i].state for i in order]
    cols.append(
        ("state", "left", [Text(st, style=muted if st != "done" else Style()) for st in states])
    )
    if width is not None:
        cols = _fit(cols, width, keep=sort_by, chunks_head=chunks_head)
    table = Table(
        box=None,
        padding=(0, 1),
        pad_edge=False,
        expand=False,
        show_edge=False,
        header_style="bold",
        title=None,
    )
    for head, justify, _ in cols:
        table.add_column(head, justify="right" if justify == "right" else "left", no_wrap=True)
    for row in range(len(order)):
        table.add_row(*(cells[row] for _, _, cells in cols))
    return table


def _fit(
    cols: list[tuple[str, str, list[Text]]], width: int, *, keep: str | None, chunks_head: str
) -> list[tuple[str, str, list[Text]]]:
    """``cols`` less the first of ``DROP_ORDER`` while they are wider than ``width``."""

    def total(cs: list[tuple[str, str, list[Text]]]) -> int:
        widths = [max([len(h), *(c.cell_len for c in cells)]) for h, _, cells in cs]
        return sum(widths) + 2 * (len(cs) - 1)

    for name in DROP_ORDER:
        if total(cols) <= width:
            break
        head = chunks_head if name == "chunks" else name
        if head != keep:
            cols = [c for c in cols if c[0] != head]
    return cols
