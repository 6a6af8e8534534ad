"""Reading a pane's laid-out text back into the chunks and steps that made it.

F4 (whitespace shown or plain) redraws what is already shown, as if it had arrived in the
new mode. The pane does not keep its chunks (a million of them would cost more than the
view), so they are read back from the runs: each chunk is one run of its tint (tints
alternate whether delimiters are drawn or not), glyph runs say which characters were
whitespace, ``chunk_breaks`` which line ends were newlines inside a chunk (and that chunk's
tint), ``soft_lines`` which were only seams. O(retained text), once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .line_runs import (
    DELIM,
    GLYPH_A,
    GLYPH_B,
    NEWLINE_GLYPH,
    NOTE,
    PROMPT,
    REFUSAL,
    REFUSAL_LABEL,
    SPACE_GLYPH,
    TAB_GLYPH,
    TAB_SPACES,
    TEXT_A,
    Line,
)

#: A step of the replay: a chunk's text (str), or ``(tag, text, number)``: ``("text",
#: text, kind)``, ``("newline", "", 0)``, ``("begin", "", 0)`` (an answer begins) or
#: ``("mark", "", index)`` (the mark of that index is here).
Step = str | tuple[str, str, int]

#: In ``places``: an answer began here (other values are mark indexes).
BEGIN = -1

_TEXT_KINDS = frozenset((PROMPT, NOTE, REFUSAL_LABEL, REFUSAL))


class _Reader:
    def __init__(self, whitespace: bool) -> None:
        self.whitespace = whitespace
        self.steps: list[Step] = []
        self.chunk: list[str] = []
        self.parity = -1

    def flush(self) -> None:
        if self.chunk:
            self.steps.append("".join(self.chunk))
            self.chunk.clear()
        self.parity = -1

    def place(self, index: int) -> None:
        self.flush()
        self.steps.append(("begin", "", 0) if index == BEGIN else ("mark", "", index))

    def chunk_break(self, parity: int) -> None:
        if self.chunk and parity != self.parity:
            self.flush()
        self.chunk.append("\n")
        self.parity = parity

    def newline(self) -> None:
        self.flush()
        self.steps.append(("newline", "", 0))

    def piece(self, text: str, kind: int) -> None:
        if kind in _TEXT_KINDS:
            self.flush()
            self.steps.append(("text", text, kind))
            return
        if kind == DELIM:
            self.flush()
            return
        parity = 0 if kind in (TEXT_A, GLYPH_A) else 1
        if self.chunk and parity != self.parity:
            self.flush()
        self.parity = parity
        if kind in (GLYPH_A, GLYPH_B):
            text = _unglyph(text, self.whitespace)
        self.chunk.append(text)


def _unglyph(text: str, whitespace: bool) -> str:
    """A glyph run's characters as they arrived: ``␣`` a space, ``⇥`` (or, in plain mode,
    four spaces) a tab, ``↵`` nothing (the chunk break after it is the newline)."""
    if not whitespace:
        return text.replace(TAB_SPACES, "\t")
    text = text.replace(SPACE_GLYPH, " ").replace(TAB_GLYPH, "\t")
    return text.replace(NEWLINE_GLYPH, "")


def read_back(
    lines: Sequence[Line],
    first_line: int,
    *,
    whitespace: bool,
    chunk_breaks: Mapping[int, int],
    soft_lines: set[int],
    places: Mapping[int, list[tuple[int, int]]],
) -> list[Step]:
    """The steps that lay ``lines`` out again (``first_line``: the absolute number of the
    first). ``places``: by absolute line, ``(offset, index)`` of each mark, or of an
    answer's beginning (``BEGIN``)."""
    reader = _Reader(whitespace)
    for li, line in enumerate(lines):
        n = first_line + li
        if li:
            if n in chunk_breaks:
                reader.chunk_break(chunk_breaks[n])
            elif n not in soft_lines:
                reader.newline()
        cuts = sorted(places.get(n, ()))
        start = 0
        for end, kind in zip(line.ends, line.kinds, strict=True):
            while cuts and cuts[0][0] <= end:
                offset, index = cuts.pop(0)
                if offset > start:
                    reader.piece(line.text[start:offset], kind)
                    start = offset
                reader.place(index)
            if end > start:
                reader.piece(line.text[start:end], kind)
            start = end
        for _offset, index in cuts:
            reader.place(index)
    reader.flush()
    return reader.steps
