"""A logical line of a pane's text as styled runs, and how it wraps into rows of cells.

The vocabulary :class:`~llmstream_tui.ui.chunk_text.ChunkText` is built from, kept apart
from the chunk bookkeeping (delimiters, tint parity, scrollback) so the widgets that draw
runs and the help screen that shows the glyphs need only this. No Textual here either.
"""

from __future__ import annotations

from array import array

from rich.cells import get_character_cell_size

#: Run kinds. Chunk text alternates A/B so neighbouring chunks get different tints.
TEXT_A = 0
TEXT_B = 1
DELIM = 2
GLYPH_A = 3
GLYPH_B = 4
PROMPT = 5
NOTE = 6
#: A refusal: its label, then its text (never shown as answer text).
REFUSAL_LABEL = 7
REFUSAL = 8
#: The name of each kind, by kind (the widgets' component classes end with these).
KIND_NAMES = (
    "text-a",
    "text-b",
    "delimiter",
    "glyph-a",
    "glyph-b",
    "prompt",
    "note",
    "refusal-label",
    "refusal",
)

#: Whitespace made visible in whitespace mode.
SPACE_GLYPH = "\u2423"  # ␣
NEWLINE_GLYPH = "\u21b5"  # ↵
TAB_GLYPH = "\u21e5"  # ⇥
TAB_SPACES = "    "


class Line:
    """One logical line: display text plus its styled runs (``ends``: cumulative character
    offsets, ``kinds``: the kind of each run). Compact arrays, because a pane keeps
    thousands of them."""

    __slots__ = ("ends", "kinds", "text")

    def __init__(self) -> None:
        self.text = ""
        self.ends = array("i")
        self.kinds = bytearray()

    def add(self, text: str, kind: int) -> None:
        """Append ``text`` as kind ``kind`` (merged into the last run when it has that kind)."""
        if not text:
            return
        self.text += text
        if self.kinds and self.kinds[-1] == kind:
            self.ends[-1] = len(self.text)
        else:
            self.ends.append(len(self.text))
            self.kinds.append(kind)


#: A wrapped row: the line it belongs to and its ``[start, end)`` character slice.
Row = tuple[Line, int, int]


def cell_width(text: str) -> int:
    """Terminal cells ``text`` takes (ASCII, the usual case, without a per-character loop)."""
    if text.isascii():
        return len(text)
    return sum(get_character_cell_size(c) for c in text)


def wrap_from(text: str, start: int, width: int) -> list[tuple[int, int]]:
    """Greedy word wrap of ``text[start:]`` into ``(start, end)`` slices of at most ``width``
    cells (a space that ends a full row may hang one cell past it; it is cropped when drawn).

    Rows partition the text: no character is dropped, so offsets map straight back to runs.
    The last slice is the open row, which later text may still extend.
    """
    width = max(1, width)
    n = len(text)
    out: list[tuple[int, int]] = []
    s = start
    if n == s:
        return [(s, s)]
    ascii_text = text.isascii()
    while s < n:
        if ascii_text:
            limit = s + width
        else:
            limit, used = s, 0
            while limit < n:
                w = get_character_cell_size(text[limit])
                if used + w > width:
                    break
                used += w
                limit += 1
            if limit == s:  # a character wider than the row: give it a row of its own
                limit = s + 1
        if limit >= n:
            out.append((s, n))
            break
        if text[limit] == " ":
            out.append((s, limit + 1))
            s = limit + 1
            continue
        cut = text.rfind(" ", s, limit)
        if cut < 0:
            out.append((s, limit))
            s = limit
        else:
            out.append((s, cut + 1))
            s = cut + 1
    else:
        # the text ended exactly at a row boundary: the next row is open and empty
        out.append((n, n))
    return out
