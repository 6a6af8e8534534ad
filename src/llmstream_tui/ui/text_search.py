"""Plain-text search over a :class:`~.chunk_text.ChunkText`: matches in the answer's text, not
in the drawn rows, mapped back to rows only where they are drawn.

The rows show delimiters between chunks (``|Spark|ling|``); a user searching ``sparkling``
means the text, so the search runs over each line's *plain* text (every run but the
delimiters, whitespace glyphs read back as the whitespace they show) joined into one string,
once per query. ``str.find`` does the scanning in C, so a megabyte takes milliseconds.

A line's plain text and its offset map are built once and kept (keyed by the line object):
finished lines never change, and the last one only grows, so the cache stays valid while a
stream goes on; only the lines added since are indexed on the next query. Offsets go back to
rows lazily: :meth:`TextSearch.row_spans` for the rows being drawn, :meth:`TextSearch.row_of`
for the one match being scrolled to.

The query is matched as a literal, case-insensitively (no regular expression is ever built
from it or from the text).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right

from .chunk_text import ChunkText
from .line_runs import DELIM, GLYPH_A, GLYPH_B, NEWLINE_GLYPH, SPACE_GLYPH, TAB_GLYPH, Line

#: Whitespace glyphs read back as what they stand for (one character each, so offsets hold).
_GLYPHS = str.maketrans({SPACE_GLYPH: " ", TAB_GLYPH: "\t", NEWLINE_GLYPH: "\n"})


def fold_case(text: str) -> str:
    """``text`` lowercased with its length kept (a few characters, such as ``İ``, lowercase
    to two; those stay as they are, so match offsets are offsets in ``text``)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(lc := c.lower()) != 1 else lc for c in text)


def split_at_spans(
    text: str, pos: int, spans: list[tuple[int, int, bool]]
) -> list[tuple[str, bool | None]]:
    """``text`` (which starts at offset ``pos``) cut where the match ``spans`` begin and end:
    ``(piece, None)`` outside a match, ``(piece, is_current)`` inside one. The widgets draw
    each piece with its run's style plus the match style."""
    end = pos + len(text)
    out: list[tuple[str, bool | None]] = []
    cut = pos
    for a, b, current in spans:
        a, b = max(a, pos), min(b, end)
        if a >= b:
            continue
        if a > cut:
            out.append((text[cut - pos : a - pos], None))
        out.append((text[a - pos : b - pos], current))
        cut = b
    if cut < end:
        out.append((text[cut - pos :], None))
    return out


class LineIndex:
    """One line's plain text, and (built when first asked for, as only the lines drawn or
    scrolled to need it) where each plain piece sits in the displayed text.

    ``pstarts[i]``/``dstarts[i]``: where the i-th kept run starts in the plain text and in
    the display text (a kept run is the same length in both)."""

    __slots__ = ("_maps", "length", "line", "plain")

    def __init__(self, line: Line, delimiter: str) -> None:
        self.line = line
        text = line.text
        kinds = line.kinds
        #: the display length this index was built for (the last line may grow)
        self.length = len(text)
        self._maps: tuple[array[int], array[int]] | None = None
        glyphs = GLYPH_A in kinds or GLYPH_B in kinds
        delims = kinds.count(DELIM)
        if not delims and not glyphs:
            self.plain = text
            self._maps = (array("i", [0]), array("i", [0]))
        elif not glyphs and len(delimiter) == 1 and text.count(delimiter) == delims:
            # every delimiter character is a one-character delimiter run: drop them in C
            self.plain = text.replace(delimiter, "")
        else:
            self.plain = "".join(
                text[s:e].translate(_GLYPHS) if k in (GLYPH_A, GLYPH_B) else text[s:e]
                for s, e, k in zip(self._run_starts(), line.ends, kinds, strict=True)
                if k != DELIM
            )

    def _run_starts(self) -> list[int]:
        ends = self.line.ends
        return [0, *ends[:-1]] if len(ends) else []

    def maps(self) -> tuple[array[int], array[int]]:
        """(pstarts, dstarts), built once (one pass over the line's runs)."""
        if self._maps is None:
            pstarts = array("i")
            dstarts = array("i")
            p = 0
            line = self.line
            for s, e, k in zip(self._run_starts(), line.ends, line.kinds, strict=True):
                if k != DELIM and e > s:
                    pstarts.append(p)
                    dstarts.append(s)
                    p += e - s
            if not pstarts:
                pstarts.append(0)
                dstarts.append(0)
            self._maps = (pstarts, dstarts)
        return self._maps

    def to_plain(self, d: int) -> int:
        """The plain offset of display offset ``d`` (inside a delimiter: the next text)."""
        pstarts, dstarts = self.maps()
        i = bisect_right(dstarts, d) - 1
        if i < 0:
            return 0
        run_end = pstarts[i + 1] if i + 1 < len(pstarts) else len(self.plain)
        return pstarts[i] + min(d - dstarts[i], run_end - pstarts[i])

    def to_display(self, p: int) -> int:
        """The display offset of plain offset ``p``."""
        pstarts, dstarts = self.maps()
        i = bisect_right(pstarts, p) - 1
        if i < 0:
            return 0
        return dstarts[i] + (p - pstarts[i])


def index_line(line: Line, delimiter: str = "|") -> LineIndex:
    """``line``'s plain text and offset map."""
    return LineIndex(line, delimiter)


class TextSearch:
    """The matches of one query in one :class:`ChunkText`, and which of them is current.

    ``starts``/``ends`` are the matches' plain offsets in the joined text (sorted, not
    overlapping); ``current`` is the index of the current match (-1: no match)."""

    def __init__(self, model: ChunkText) -> None:
        self.model = model
        self.query = ""
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.current = -1
        #: where each line's plain text starts in the joined text (for this search)
        self._line_start: dict[Line, int] = {}
        #: the same, in line order (to find a match's line by bisection)
        self._starts: list[int] = []
        self._lines: list[Line] = []
        self._index: dict[Line, LineIndex] = {}
        #: :meth:`_signature` of the text the joined haystack was built from
        self._seen: tuple[int, int, int, int] = (-1, -1, -1, -1)
        #: the joined plain text, case-folded (None: not built yet)
        self._haystack: str | None = None

    def _line_index(self, line: Line) -> LineIndex:
        index = self._index.get(line)
        if index is None or index.length != len(line.text):
            index = self._index[line] = LineIndex(line, self.model.delimiter)
        return index

    @property
    def stale(self) -> bool:
        """Whether text was added or dropped since the search ran."""
        return self._seen != self._signature()

    def _signature(self) -> tuple[int, int, int, int]:
        """What changes when text is added or dropped (only the last line grows)."""
        model = self.model
        return (model.chunks, model.dropped_lines, len(model.lines), len(model.lines[-1].text))

    def run(self, query: str) -> int:
        """Search for ``query`` (literal, case-insensitive); return the number of matches.
        The current match is the first one at or after the previous current one's start.
        The joined, case-folded text is kept until text is added or dropped, so typing a
        query costs one ``str.find`` scan per keystroke."""
        previous = self.starts[self.current] if self.current >= 0 else 0
        self.query = query
        if self.stale or self._haystack is None:
            self._build()
        self.starts = []
        self.ends = []
        self.current = -1
        if not query or self._haystack is None:
            return 0
        needle = fold_case(query)
        n = len(needle)
        find = self._haystack.find
        at = find(needle)
        starts = self.starts
        while at >= 0:
            starts.append(at)
            at = find(needle, at + n)
        self.ends = [s + n for s in starts]
        if starts:
            self.current = min(bisect_left(starts, previous), len(starts) - 1)
        return len(starts)

    def _build(self) -> None:
        """Join every retained line's plain text (indexing lines not seen before)."""
        model = self.model
        self._seen = self._signature()
        live = set(model.lines)
        for line in [k for k in self._index if k not in live]:
            del self._index[line]
        self._line_start = {}
        self._starts = []
        self._lines = []
        parts: list[str] = []
        pos = 0
        soft = model.soft_lines
        first = model.dropped_lines
        for i, line in enumerate(model.lines):
            if i and first + i not in soft:  # a newline; a soft split joins without one
                parts.append("\n")
                pos += 1
            self._line_start[line] = pos
            self._starts.append(pos)
            self._lines.append(line)
            plain = self._line_index(line).plain
            parts.append(plain)
            pos += len(plain)
        self._haystack = fold_case("".join(parts))

    def step(self, delta: int) -> int:
        """Move the current match by ``delta`` (wrapping); return its index (-1: none)."""
        if not self.starts:
            return -1
        self.current = (self.current + delta) % len(self.starts)
        return self.current

    def row_spans(self, row: int) -> list[tuple[int, int, bool]]:
        """The matches on row ``row`` as ``(start, end, is_current)`` display offsets within
        the row's line, clipped to the row (a match spanning a delimiter is one span; the
        widget styles only its text pieces)."""
        if not self.starts:
            return []
        line, s, e = self.model.rows[row]
        base = self._line_start.get(line)
        if base is None or s == e:
            return []
        index = self._line_index(line)
        ps = base + index.to_plain(s)
        pe = base + index.to_plain(e)
        lo = bisect_right(self.ends, ps)
        hi = bisect_left(self.starts, pe)
        out = []
        for m in range(lo, hi):
            a = max(self.starts[m], ps) - base
            b = min(self.ends[m], pe) - base
            out.append((index.to_display(a), index.to_display(b - 1) + 1, m == self.current))
        return out

    def row_of(self, match: int) -> int | None:
        """The row that holds the start of match ``match`` (None: its line is gone)."""
        start = self.starts[match]
        k = bisect_right(self._starts, start) - 1
        if k < 0:
            return None
        line = self._lines[k]
        d = self._line_index(line).to_display(start - self._starts[k])
        for r, (row_line, s, e) in enumerate(self.model.rows):
            if row_line is line and (s <= d < e or (d == e and s == e)):
                return r
        return None
