"""The text model behind a stream pane: chunks in, wrapped styled rows out, constant cost per chunk.

A pane may receive a million chunks, so nothing here ever touches the whole answer again once
it is laid out:

* Text is kept as *logical lines* (split at newlines, and softly every few thousand
  characters so appending never copies an ever-growing string). Each line holds its display
  text and a run list: ``ends`` (cumulative character offsets) and ``kinds`` (what each run
  is: chunk text with tint A or B, a delimiter, a whitespace glyph, the echoed prompt...).
* *Rows* are the wrapped view: ``(line, start, end)`` slices. Appending rewraps only from the
  last row of the last line, so the cost of a chunk does not grow with the text before it.
* Rows beyond ``max_rows`` are dropped from the front in batches (the scrollback is bounded;
  the pane's conversation, kept elsewhere, still has every character).

The lines, run kinds and the wrap itself are in :mod:`.line_runs`; this module does the
chunk bookkeeping (delimiters, tint parity, soft splits, scrollback). Widgets turn a row into
styled segments with :meth:`ChunkText.row_runs`; nothing here imports Textual, so it is
tested and benchmarked on its own.

Untrusted text: every chunk goes through ``escape_controls`` before it is stored, so control,
escape and bidi characters are shown as visible escapes; markup is never parsed here or later.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import accumulate

from ..core.inert import escape_controls, has_controls
from .chunk_readback import BEGIN, Step, read_back
from .line_runs import (
    DELIM,
    GLYPH_A,
    NEWLINE_GLYPH,
    SPACE_GLYPH,
    TAB_GLYPH,
    TAB_SPACES,
    TEXT_A,
    TEXT_B,
    Line,
    Row,
    wrap_from,
)

#: A logical line longer than this (characters) continues on a fresh line object at the
#: next run boundary, so appending to a line without newlines stays O(chunk).
SOFT_SPLIT = 2048

#: A place in the text (:meth:`ChunkText.mark`): absolute line, text length, run count.
Mark = tuple[int, int, int]


class ChunkText:
    """Chunks and notes laid out as wrapped rows, appended in amortised O(new text).

    ``delimiter`` is drawn before the first chunk of an answer and after every chunk
    (``|Spark|ling| water|``); ``""`` switches it off. ``whitespace`` shows whitespace-only
    chunks as ``␣`` and newlines inside chunks as ``↵``. Tints are a rendering choice: the
    A/B kinds are always recorded, the widget decides whether they differ.
    """

    def __init__(
        self,
        width: int = 80,
        *,
        delimiter: str = "|",
        whitespace: bool = False,
        max_rows: int = 20_000,
    ) -> None:
        self.width = max(1, width)
        self.delimiter = escape_controls(delimiter.replace("\n", "").replace("\t", " "))
        self.whitespace = whitespace
        self.max_rows = max(10, max_rows)
        self.lines: list[Line] = [Line()]
        self.rows: list[Row] = [(self.lines[0], 0, 0)]
        #: rows dropped from the front so far: absolute row number = dropped_rows + index
        self.dropped_rows = 0
        self.dropped_lines = 0
        #: parity of the next chunk (0 = A, 1 = B)
        self.parity = 0
        #: an answer began and its opening delimiter waits for its first chunk
        self.opening = False
        #: total chunks and characters ever added (for tests and the bench)
        self.chunks = 0
        #: absolute numbers of the lines that continue the one before (a soft split, not a
        #: newline): search joins them without a break
        self.soft_lines: set[int] = set()
        #: the lines that begin after a newline inside a chunk (not one of ``newline`` or
        #: ``add_text``), by absolute number, with that chunk's tint parity: what
        #: :meth:`set_whitespace` needs to redraw them
        self.chunk_breaks: dict[int, int] = {}
        #: where each retained answer began (absolute line, offset): ``begin_answer`` calls
        self.answer_starts: list[tuple[int, int]] = []
        self._changed_from = 0

    # -- reading ------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def take_changed_from(self) -> int:
        """Index of the first row changed since the last call (``row_count`` if none)."""
        changed = self._changed_from
        self._changed_from = len(self.rows)
        return changed

    def row_runs(self, index: int) -> list[tuple[str, int]]:
        """``(text, kind)`` pieces of row ``index``, left to right."""
        line, s, e = self.rows[index]
        if s == e:
            return []
        ends = line.ends
        kinds = line.kinds
        text = line.text
        i = bisect_right(ends, s)
        out: list[tuple[str, int]] = []
        pos = s
        while pos < e:
            end = ends[i]
            end = min(end, e)
            out.append((text[pos:end], kinds[i]))
            pos = end
            i += 1
        return out

    def row_text(self, index: int) -> str:
        line, s, e = self.rows[index]
        return line.text[s:e]

    def plain_rows(self) -> list[str]:
        return [self.row_text(i) for i in range(len(self.rows))]

    # -- writing ------------------------------------------------------------------------------

    def mark(self) -> tuple[int, int, int]:
        """A position :meth:`truncate` can return to (absolute line, text length, run count)."""
        line = self.lines[-1]
        return (self.dropped_lines + len(self.lines) - 1, len(line.text), len(line.ends))

    def truncate(self, mark: tuple[int, int, int]) -> None:
        """Forget everything added after ``mark`` (used by retry)."""
        abs_line, text_len, runs = mark
        index = abs_line - self.dropped_lines
        if index < 0:
            self.clear()
            return
        del self.lines[index + 1 :]
        self.soft_lines = {n for n in self.soft_lines if n <= abs_line}
        self.chunk_breaks = {n: p for n, p in self.chunk_breaks.items() if n <= abs_line}
        self.answer_starts = [a for a in self.answer_starts if a <= (abs_line, text_len)]
        line = self.lines[index]
        line.text = line.text[:text_len]
        del line.ends[runs:]
        del line.kinds[runs:]
        if runs and line.ends[-1] > text_len:
            line.ends[-1] = text_len
        first = self._first_row_of(line)
        del self.rows[first:]
        self._changed_from = min(self._changed_from, first)
        self._rewrap_last(from_row=first)

    def clear(self) -> None:
        self.dropped_rows += len(self.rows)
        self.dropped_lines += len(self.lines)
        self.lines = [Line()]
        self.rows = [(self.lines[0], 0, 0)]
        self.soft_lines.clear()
        self.chunk_breaks.clear()
        self.answer_starts.clear()
        self.parity = 0
        self.opening = False
        self._changed_from = 0

    def set_width(self, width: int) -> None:
        """Rewrap every retained line (a resize: O(retained text), once)."""
        width = max(1, width)
        if width == self.width:
            return
        self.width = width
        rows: list[Row] = []
        for line in self.lines:
            rows.extend((line, s, e) for s, e in wrap_from(line.text, 0, width))
        self.rows = rows
        self._changed_from = 0
        self._trim()

    def set_whitespace(self, on: bool, marks: Sequence[Mark] = ()) -> list[Mark]:
        """Redraw what is retained with whitespace shown (``on``) or plain, as if it had
        arrived that way: every chunk, its boundaries and tints, the notes and prompts
        between them. O(retained text), once, like a resize. ``marks`` (from :meth:`mark`)
        are returned as the same places in the redrawn text.

        The chunks are read back from the runs: each chunk is one run of its tint (tints
        alternate, delimiters or not), glyph runs say which characters were whitespace, and
        ``chunk_breaks`` which line ends were newlines inside a chunk."""
        if on == self.whitespace:
            return list(marks)
        ops = self._read_back(marks)
        parity, opening, chunks = self.parity, self.opening, self.chunks
        self.clear()
        self.whitespace = on
        new_marks = list(marks)
        pending: list[str] = []
        for op in ops:
            if isinstance(op, str):
                pending.append(op)
                continue
            if pending:
                self.add_chunks(pending)
                pending = []
            tag, text, number = op
            if tag == "text":
                self.add_text(text, number)
            elif tag == "newline":
                self.newline()
            elif tag == "begin":
                self.begin_answer()
            else:
                new_marks[number] = self.mark()
        if pending:
            self.add_chunks(pending)
        self.parity, self.opening, self.chunks = parity, opening, chunks
        return new_marks

    def _read_back(self, marks: Sequence[Mark]) -> list[Step]:
        """What :meth:`set_whitespace` replays (``chunk_readback.read_back``)."""
        places: dict[int, list[tuple[int, int]]] = {}
        for i, (line_no, offset, _runs) in enumerate(marks):
            places.setdefault(line_no, []).append((offset, i))
        for line_no, offset in self.answer_starts:
            places.setdefault(line_no, []).append((offset, BEGIN))
        return read_back(
            self.lines,
            self.dropped_lines,
            whitespace=self.whitespace,
            chunk_breaks=self.chunk_breaks,
            soft_lines=self.soft_lines,
            places=places,
        )

    def set_delimiter(self, delimiter: str) -> None:
        """Applies to chunks added from now on."""
        self.delimiter = escape_controls(delimiter.replace("\n", "").replace("\t", " "))

    def begin_answer(self) -> None:
        """Start an answer: tints restart at A, and the opening delimiter comes with the
        first chunk (an answer that never gets one shows nothing, not a lone ``|``)."""
        self.parity = 0
        self.opening = bool(self.delimiter)
        line = self.lines[-1]
        self.answer_starts.append((self.dropped_lines + len(self.lines) - 1, len(line.text)))

    def add_text(self, text: str, kind: int) -> None:
        """Plain text (the echoed prompt, a note), escaped, newlines honoured."""
        text = escape_controls(text).replace("\t", TAB_SPACES)
        first = True
        for piece in text.split("\n"):
            if not first:
                self._break_line()
            first = False
            self._current().add(piece, kind)
        self._rewrap_last()

    def newline(self) -> None:
        self._break_line()
        self._rewrap_last()

    def add_chunks(self, texts: Sequence[str]) -> None:
        """Append chunks (in order). Empty chunks are skipped: they carry no text to show."""
        if not texts:
            return
        joined = "".join(texts)
        if has_controls(joined):
            texts = [escape_controls(t) for t in texts]
            joined = "".join(texts)
        if self.whitespace or "\t" in joined:
            # the chunks that need glyphs (whitespace mode: blank ones and newlines; tabs,
            # as runs of their own so that ``set_whitespace`` tells them from spaces) one
            # at a time, the others in batches between them
            ws = self.whitespace
            plain: list[str] = []
            for t in texts:
                if not t:
                    continue
                if "\t" in t or (ws and ("\n" in t or t.isspace())):
                    if plain:
                        self._add_batch(plain)
                        plain = []
                    self._add_one(t)
                else:
                    plain.append(t)
            if plain:
                self._add_batch(plain)
        else:
            self._add_batch([t for t in texts if t])
        self._rewrap_last()

    def _add_batch(self, texts: list[str]) -> None:
        """A frame's chunks (non-empty, no tab, not in whitespace mode) in a handful of C-level
        operations, whatever their number: the display text is joined once with its
        delimiters, run ends come from ``accumulate``, and only newlines cost a step each
        (a newline ends the line; the runs around it are cut there)."""
        n = len(texts)
        if not n:
            return
        if self.opening:
            self._open()
        d = self.delimiter
        a = TEXT_A if self.parity == 0 else TEXT_B
        b = TEXT_B if a == TEXT_A else TEXT_A
        if d:
            display = d.join(texts) + d
            lens = [len(d)] * (2 * n)
            lens[0::2] = map(len, texts)
            kinds = (bytes((a, DELIM, b, DELIM)) * ((n + 1) // 2))[: 2 * n]
        else:
            display = "".join(texts)
            lens = list(map(len, texts))
            kinds = (bytes((a, b)) * ((n + 1) // 2))[:n]
        ends = array("i", accumulate(lens))
        self.parity ^= n & 1
        self.chunks += n
        pos = 0
        cut = display.find("\n")
        while cut >= 0:
            self._add_slice(display, lens, ends, kinds, pos, cut)
            self._chunk_break(kinds[bisect_right(ends, cut)] - TEXT_A)
            pos = cut + 1
            cut = display.find("\n", pos)
        self._add_slice(display, lens, ends, kinds, pos, len(display))

    def _add_slice(
        self, display: str, lens: list[int], ends: array[int], kinds: bytes, pos: int, stop: int
    ) -> None:
        """Append ``display[pos:stop]`` (no newline in it) to the last line, with the runs
        that cover it (``lens``: run lengths, ``ends``: run ends as offsets in ``display``)."""
        if pos >= stop:
            return
        first = bisect_right(ends, pos)
        last = bisect_left(ends, stop, first)
        line = self._current()
        if len(line.text) + stop - pos > SOFT_SPLIT * 4 and last > first:
            # keep lines short enough that appending stays cheap: split between two chunks
            # (a chunk keeps its delimiter: the seam is a row end)
            k = (first + last) // 2
            if self.delimiter and kinds[k] != DELIM:
                k += 1
            if k < last:
                mid = ends[k]
                self._add_slice(display, lens, ends, kinds, pos, mid)
                self._add_slice(display, lens, ends, kinds, mid, stop)
                return
        if last > first:
            cut = [ends[first] - pos, *lens[first + 1 : last], stop - ends[last - 1]]
        else:
            cut = [stop - pos]
        new_ends = array("i", accumulate(cut, initial=len(line.text)))
        del new_ends[0]
        new_kinds = kinds[first : last + 1]
        if line.kinds and line.kinds[-1] == new_kinds[0]:
            line.ends[-1] = new_ends[0]
            del new_ends[0]
            new_kinds = new_kinds[1:]
        line.text += display[pos:stop]
        line.ends.extend(new_ends)
        line.kinds.extend(new_kinds)

    def _open(self) -> None:
        """The answer's opening delimiter, drawn with its first chunk."""
        self.opening = False
        self._current().add(self.delimiter, DELIM)

    def _add_one(self, t: str) -> None:
        if self.opening:
            self._open()
        kind = TEXT_A + self.parity
        glyph = GLYPH_A + self.parity
        ws = self.whitespace
        if ws and not t.strip():
            shown = t.replace(" ", SPACE_GLYPH).replace("\t", TAB_GLYPH)
            pieces = shown.split("\n")
            for i, piece in enumerate(pieces):
                if i:
                    self._current().add(NEWLINE_GLYPH, glyph)
                    self._chunk_break(self.parity)
                self._current().add(piece, glyph)
        else:
            tab = TAB_GLYPH if ws else TAB_SPACES
            pieces = t.split("\n")
            for i, piece in enumerate(pieces):
                if i:
                    if ws:
                        self._current().add(NEWLINE_GLYPH, glyph)
                    self._chunk_break(self.parity)
                if "\t" in piece:
                    for j, part in enumerate(piece.split("\t")):
                        if j:
                            self._current().add(tab, glyph)
                        self._current().add(part, kind)
                else:
                    self._current().add(piece, kind)
        if self.delimiter:
            self._current().add(self.delimiter, DELIM)
        self.parity ^= 1
        self.chunks += 1

    # -- internals ----------------------------------------------------------------------------

    def _current(self) -> Line:
        line = self.lines[-1]
        text = line.text
        if len(text) < SOFT_SPLIT:
            return line
        # Continue on a new line object at a chunk or word boundary so later appends stay
        # cheap; the wrap treats the seam like a row end, which is where a break falls anyway.
        d = self.delimiter
        at_boundary = text[-1] == " " or (bool(d) and text.endswith(d))
        if not at_boundary and len(text) < SOFT_SPLIT * 4:
            return line
        line = self._start_line()
        self.soft_lines.add(self.dropped_lines + len(self.lines) - 1)
        return line

    def _start_line(self) -> Line:
        """A new last line. The previous one is wrapped first, which keeps the invariant
        that only the last line can hold text not yet wrapped into rows."""
        self._rewrap_last()
        done = self.lines[-1]
        # the finished line will not grow again: give back the arrays' spare capacity
        done.ends = array("i", done.ends)
        done.kinds = bytearray(done.kinds)
        line = Line()
        self.lines.append(line)
        self.rows.append((line, 0, 0))
        return line

    def _break_line(self) -> None:
        self._start_line()

    def _chunk_break(self, parity: int) -> None:
        """A newline inside a chunk of tint ``parity``."""
        self._start_line()
        self.chunk_breaks[self.dropped_lines + len(self.lines) - 1] = parity

    def _first_row_of(self, line: Line) -> int:
        rows = self.rows
        i = len(rows) - 1
        while i >= 0 and rows[i][0] is not line:
            i -= 1
        while i > 0 and rows[i - 1][0] is line:
            i -= 1
        return max(i, 0)

    def _rewrap_last(self, from_row: int | None = None) -> None:
        """Rewrap the last line from its open row (or from ``from_row``, whose rows must
        all belong to the last line or be already deleted)."""
        rows = self.rows
        line = self.lines[-1]
        if from_row is None or from_row >= len(rows):
            if rows and rows[-1][0] is line:
                from_row = len(rows) - 1
                start = rows[-1][1]
                del rows[-1]
            else:
                from_row = len(rows)
                start = 0
        else:
            start = rows[from_row][1] if rows[from_row][0] is line else 0
            del rows[from_row:]
        rows.extend([(line, s, e) for s, e in wrap_from(line.text, start, self.width)])
        self._changed_from = min(self._changed_from, from_row)
        self._trim()

    def _trim(self) -> None:
        excess = len(self.rows) - self.max_rows
        if excess <= self.max_rows // 4:
            return
        del self.rows[:excess]
        self.dropped_rows += excess
        first_line = self.rows[0][0]
        li = 0
        while self.lines[li] is not first_line:
            li += 1
        if li:
            del self.lines[:li]
            self.dropped_lines += li
            self.soft_lines = {n for n in self.soft_lines if n >= self.dropped_lines}
            first = self.dropped_lines
            self.chunk_breaks = {n: p for n, p in self.chunk_breaks.items() if n >= first}
            self.answer_starts = [a for a in self.answer_starts if a[0] >= self.dropped_lines]
        self._changed_from = 0
