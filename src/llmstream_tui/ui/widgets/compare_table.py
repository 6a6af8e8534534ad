"""``CompareStats``: the comparison's running statistics table, one row per provider and
level, the best value of each column highlighted among the providers at the same level.

The cells and the highlighting are ``sessions.compare_table``'s, the ones ``compare``
prints, so the live table and the final one never disagree. Provider names come from the
config: they are set as ``rich.text.Text`` with control characters escaped, never markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from rich import box
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from ...core.compare_stats import GroupSummary
from ...core.inert import escape_controls
from ...sessions.compare_table import best_cells, table_rows

__all__ = ["BEST_STYLE", "NARROW", "NARROW_HEADS", "NARROW_HIDDEN", "CompareStats"]

#: How a best cell is drawn (the printed table's style).
BEST_STYLE = Style(bold=True, color="green")
#: Below this many columns of terminal the table leaves out :data:`NARROW_HIDDEN`, so
#: what stays is readable at 80 columns (the printed table and the report have them all).
NARROW: Final = 120
NARROW_HIDDEN: Final = frozenset({"TTFT p90 ms", "latency p99 s", "tokens avg"})
#: Shorter headers for a narrow table (the words a header wraps at must fit its figures).
NARROW_HEADS: Final = {
    "errors": "err",
    "latency p50 s": "lat p50 s",
    "tok/s/user p50": "tok/s/u p50",
}


class CompareStats(Static):
    """The statistics table, redrawn by :meth:`show`."""

    DEFAULT_CSS = """
    CompareStats { height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        #: what the last :meth:`show` drew (tests read them)
        self.head: list[str] = []
        self.rows: list[list[str]] = []
        self.best: set[tuple[int, int]] = set()
        self.table: Table | None = None

    def show(
        self,
        summaries: Sequence[GroupSummary],
        colours: Mapping[str, tuple[int, int, int]],
        *,
        title: str = "",
        width: int | None = None,
    ) -> None:
        """Draw ``summaries``; ``width`` (the terminal's) below :data:`NARROW` leaves out
        :data:`NARROW_HIDDEN` (``head``/``rows``/``best`` keep every column)."""
        self.head, self.rows = table_rows(summaries)
        self.best = best_cells(summaries)
        narrow = width is not None and width < NARROW
        shown = [c for c, h in enumerate(self.head) if not (narrow and h in NARROW_HIDDEN)]
        table = Table(
            title=title or None,
            expand=True,
            padding=(0, 1) if not narrow else (0, 1, 0, 0),
            box=box.SIMPLE_HEAD,
            show_edge=False,
        )
        for c in shown:
            if not narrow:
                table.add_column(self.head[c])
                continue
            # narrow: each column as wide as its widest figure (a name is never cut), the
            # header wrapping between its words
            head = NARROW_HEADS.get(self.head[c], self.head[c])
            widths = [len(escape_controls(row[c])) for row in self.rows]
            table.add_column(head, width=max([*widths, *(len(w) for w in head.split())]))
        for r, row in enumerate(self.rows):
            cells: list[Text] = []
            for c in shown:
                value = row[c]
                style = BEST_STYLE if (r, c) in self.best else Style()
                if c == 0 and row[0] in colours:
                    style = Style(color=f"rgb{colours[row[0]]}", bold=True)
                cells.append(Text(escape_controls(value), style=style))
            table.add_row(*cells)
        if not self.rows:
            table.add_row(Text("no request has finished yet", style="dim"))
        self.table = table
        self.update(table)
