"""Mouse text selection for line-API widgets (the chunk view, the events log): what Textual
needs from them.

Textual selects text in any widget whose strips carry offsets (``Strip.apply_offsets``: the
content column and row under each cell) and which answers ``get_selection`` with the text
under a ``Selection``. ``ChunkView`` draws cached rows with ``render_line``, so it does both
here: :func:`offset_strip` marks a drawn row with its offsets and paints the selected cells
in the screen's selection style (after the row cache, so selecting never invalidates it),
and :func:`selection_text` reads the selection back from the rows.

What is copied is the text as shown, with two exceptions that make it useful elsewhere: the
chunk delimiters are left out (they are drawing, not text), and rows that are one line
wrapped by the view are joined without a line break.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

from ..line_runs import DELIM, cell_width

if TYPE_CHECKING:
    from textual.geometry import Region
    from textual.widget import Widget

    from ..chunk_text import ChunkText


class DrawsWithoutOffsets(ScrollView):
    """A line-API scroll view whose rows drawn by Textual (``render_lines``) carry no selection
    offsets unless a selection is shown; asked for directly they do.

    Offsets (the content cell each segment starts at, in its style's meta) are read only by
    Textual's lookup of the cell under the mouse (``Screen.get_widget_and_offset_at``), which
    calls ``render_line`` itself. Drawn, they made every segment of every new row a Style of
    its own (built, hashed and turned into escape codes once each: about three times the
    cost of building the row); without them a row's segments share the few run styles."""

    _drawing = False

    def render_lines(self, crop: Region) -> list[Strip]:
        self._drawing = True
        try:
            return super().render_lines(crop)
        finally:
            self._drawing = False

    def selectable(self, strip: Strip, row: int) -> Strip:
        """``strip`` (content row ``row``) as ``render_line`` returns it."""
        selection = self.text_selection
        if selection is None and self._drawing:
            return strip
        return offset_strip(strip, row, selection, selection_style(self))


def offset_strip(strip: Strip, row: int, selection: Selection | None, style: Style) -> Strip:
    """``strip`` (row ``row`` of the content) with its selection offsets, and the cells of
    ``selection`` on it painted in ``style`` (on top of the chunk tints)."""
    if selection is not None and (span := selection.get_span(row)) is not None:
        start, end = span
        length = strip.cell_length
        end = length if end == -1 else min(end, length)
        if start < end:
            left, middle, right = strip.divide([start, end, length])
            painted = Strip(
                list(Segment.apply_style(list(middle), post_style=style)), middle.cell_length
            )
            strip = Strip.join([left, painted, right])
    return strip.apply_offsets(0, row)


def selection_style(widget: Widget) -> Style:
    """The screen's selection background; the text keeps its own colour (the default
    selection foreground is transparent, which would paint the text away)."""
    return Style(bgcolor=widget.screen.get_component_rich_style("screen--selection").bgcolor)


def cells_to_chars(text: str, start: int, end: int) -> tuple[int, int]:
    """Character indices in ``text`` of the cells ``start`` to ``end`` (-1: to the end)."""
    if end == -1:
        end = cell_width(text)
    first = last = len(text)
    cells = 0
    for i, ch in enumerate(text):
        if cells >= start and first == len(text):
            first = i
        if cells >= end:
            last = i
            break
        cells += cell_width(ch)
    return first, max(first, last)


def selection_text(model: ChunkText, selection: Selection) -> str:
    """The text under ``selection`` (cell offsets of the rows shown), delimiters left out,
    wrapped rows of one line joined without a break."""
    count = model.row_count
    first = 0 if selection.start is None else selection.start.y
    last = count - 1 if selection.end is None else min(selection.end.y, count - 1)
    out: list[str] = []
    previous_line: object = None
    for row in range(max(0, first), last + 1):
        span = selection.get_span(row)
        if span is None:
            continue
        line = model.rows[row][0]
        if previous_line is not None and line is not previous_line:
            out.append("\n")
        previous_line = line
        row_start, row_end = span
        pos = 0
        pieces = model.row_runs(row)
        shown = "".join(text for text, _ in pieces)
        lo, hi = cells_to_chars(shown, row_start, row_end)
        for text, kind in pieces:
            a, b = max(lo, pos), min(hi, pos + len(text))
            if a < b and kind != DELIM:
                out.append(text[a - pos : b - pos])
            pos += len(text)
    return "".join(out)


def lines_selection_text(lines: list[str], selection: Selection, width: int) -> str:
    """The text under ``selection`` in a widget that shows one line per row, cut to
    ``width`` cells: a selection that reaches the row's last cell takes the rest of the
    line too (the part the row cut off)."""
    first = 0 if selection.start is None else selection.start.y
    last = len(lines) - 1 if selection.end is None else min(selection.end.y, len(lines) - 1)
    out: list[str] = []
    for row in range(max(0, first), last + 1):
        span = selection.get_span(row)
        if span is None:
            continue
        start, end = span
        text = lines[row]
        if end >= width - 1:
            end = -1
        lo, hi = cells_to_chars(text, start, end)
        out.append(text[lo:hi])
    return "\n".join(out)


__all__ = [
    "DrawsWithoutOffsets",
    "cells_to_chars",
    "lines_selection_text",
    "offset_strip",
    "selection_style",
    "selection_text",
]
