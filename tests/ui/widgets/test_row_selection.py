"""What a mouse selection in the chunk view copies (``widgets/_row_selection.py``), without an
app: selection offsets are cells of the rows shown."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Offset
from textual.selection import Selection
from textual.strip import Strip

from llmstream_tui.ui.chunk_text import ChunkText
from llmstream_tui.ui.widgets._row_selection import offset_strip, selection_text


def model(chunks: list[str], width: int = 80) -> ChunkText:
    text = ChunkText(width)
    text.begin_answer()
    text.add_chunks(chunks)
    return text


def test_the_delimiters_are_left_out_of_the_copy() -> None:
    text = model(["Spark", "ling", " water"])
    assert text.row_text(0) == "|Spark|ling| water|"
    assert selection_text(text, Selection(Offset(0, 0), Offset(19, 0))) == "Sparkling water"


def test_a_selection_inside_one_chunk_copies_that_part() -> None:
    text = model(["Spark", "ling"])
    assert selection_text(text, Selection(Offset(2, 0), Offset(4, 0))) == "pa"


def test_wide_characters_are_counted_in_cells() -> None:
    text = model(["日本", "語です"])
    assert text.row_text(0) == "|日本|語です|"
    # cells: | 0, 日 1-2, 本 3-4, | 5, 語 6-7, で 8-9, す 10-11
    assert selection_text(text, Selection(Offset(3, 0), Offset(10, 0))) == "本語で"


def test_rows_wrapped_from_one_line_join_without_a_break_and_lines_keep_theirs() -> None:
    text = model(["abcdefgh", "ij\nkl"], width=6)
    rows = text.plain_rows()
    assert len(rows) >= 3
    assert selection_text(text, Selection(None, None)) == "abcdefghij\nkl"


def test_offset_strip_paints_only_the_selected_cells_and_marks_offsets() -> None:
    strip = Strip([Segment("abcdef", Style(color="red"))], 6)
    painted = offset_strip(strip, 3, Selection(Offset(1, 3), Offset(4, 3)), Style(bgcolor="blue"))
    pieces = [
        (s.text, s.style.bgcolor.name if s.style and s.style.bgcolor else None) for s in painted
    ]
    assert pieces == [("a", None), ("bcd", "blue"), ("ef", None)]
    assert all(s.style is not None and s.style.color == Style(color="red").color for s in painted)
    first = list(painted)[0]
    assert first.style is not None and first.style.meta["offset"] == (0, 3)
    untouched = offset_strip(strip, 2, Selection(Offset(1, 3), Offset(4, 3)), Style(bgcolor="blue"))
    assert [s.text for s in untouched] == ["abcdef"]
