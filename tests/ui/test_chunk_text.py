"""ChunkText: chunks to wrapped, styled rows, without Textual."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from llmstream_tui.providers.scripted import DEFAULT_CHUNKS
from llmstream_tui.ui.chunk_text import SOFT_SPLIT, ChunkText
from llmstream_tui.ui.line_runs import DELIM, NOTE, TEXT_A, TEXT_B


def laid_out(chunks: list[str], width: int = 80, **kw: object) -> ChunkText:
    layout = ChunkText(width, **kw)  # type: ignore[arg-type]
    layout.begin_answer()
    layout.add_chunks(chunks)
    return layout


def test_origin_example_reads_like_the_langchain_docs() -> None:
    rows = laid_out(DEFAULT_CHUNKS[:6]).plain_rows()
    assert rows == ["|Spark|ling| water|,| oh| so clear|"]


def test_runs_alternate_tints_between_delimiters() -> None:
    layout = laid_out(["Spark", "ling", " water"])
    assert layout.row_runs(0) == [
        ("|", DELIM),
        ("Spark", TEXT_A),
        ("|", DELIM),
        ("ling", TEXT_B),
        ("|", DELIM),
        (" water", TEXT_A),
        ("|", DELIM),
    ]


def test_tint_parity_continues_across_batches() -> None:
    layout = laid_out(["a"])
    layout.add_chunks(["b", "c"])
    kinds = [k for _, k in layout.row_runs(0) if k != DELIM]
    assert kinds == [TEXT_A, TEXT_B, TEXT_A]


def test_newline_chunk_starts_the_next_row_with_a_delimiter() -> None:
    rows = laid_out(["clear", "\n", "Bubbles"]).plain_rows()
    assert rows == ["|clear|", "|Bubbles|"]


def test_newline_inside_a_chunk_splits_it_across_rows() -> None:
    assert laid_out(["a\nb"]).plain_rows() == ["|a", "b|"]


def test_no_delimiter_still_marks_chunks_by_tint() -> None:
    layout = laid_out(["Spark", "ling"], delimiter="")
    assert layout.plain_rows() == ["Sparkling"]
    assert layout.row_runs(0) == [("Spark", TEXT_A), ("ling", TEXT_B)]


def test_custom_delimiter_glyph() -> None:
    assert laid_out(["a", "b"], delimiter="¦").plain_rows() == ["¦a¦b¦"]


def test_whitespace_mode_makes_blank_chunks_and_newlines_visible() -> None:
    rows = laid_out([" ", "x\ny", "\t"], whitespace=True, delimiter="").plain_rows()
    assert rows == ["␣x↵", "y⇥"]


def test_control_characters_are_escaped_and_markup_is_kept_literally() -> None:
    rows = laid_out(["\x1b[31mred", "[bold]b[/bold]", "\u202e"]).plain_rows()
    assert rows == ["|\\x1b[31mred|[bold]b[/bold]|\\u202e|"]
    assert "\x1b" not in "".join(rows)


def test_tabs_become_spaces_outside_whitespace_mode() -> None:
    assert laid_out(["a\tb"]).plain_rows() == ["|a    b|"]


def test_word_wrap_breaks_after_spaces_and_keeps_every_character() -> None:
    layout = laid_out(["one two three four"], width=9, delimiter="")
    assert layout.plain_rows() == ["one two ", "three ", "four"]
    assert "".join(layout.plain_rows()) == "one two three four"


def test_wide_characters_count_two_cells() -> None:
    layout = laid_out(["日本語テキスト"], width=6, delimiter="")
    assert layout.plain_rows() == ["日本語", "テキス", "ト"]


def test_appending_rewraps_only_the_open_row() -> None:
    layout = laid_out(["Spark"], width=8, delimiter="")
    layout.add_chunks(["ling water"])
    assert layout.plain_rows() == ["Sparklin", "g water"]
    layout.take_changed_from()
    layout.add_chunks([" is"])
    assert layout.take_changed_from() == 1  # row 0 untouched


def test_resize_rewraps_everything() -> None:
    layout = laid_out(DEFAULT_CHUNKS, width=80)
    text = "".join(layout.plain_rows())
    layout.set_width(20)
    assert all(len(r.rstrip()) <= 20 for r in layout.plain_rows())
    assert "".join(layout.plain_rows()) == text


def test_truncate_returns_to_a_mark() -> None:
    layout = laid_out(["a", "b"])
    mark = layout.mark()
    layout.add_chunks(["c", "\n", "d"])
    layout.add_text("note", NOTE)
    layout.truncate(mark)
    assert layout.plain_rows() == ["|a|b|"]
    layout.add_chunks(["e"])
    assert layout.plain_rows() == ["|a|b|e|"]


def test_scrollback_is_bounded_and_drops_whole_old_lines() -> None:
    layout = ChunkText(20, max_rows=100)
    layout.begin_answer()
    for _ in range(50):
        layout.add_chunks(["row\n"] * 20)
    assert layout.row_count <= 125
    assert layout.dropped_rows > 0
    assert layout.plain_rows()[-1] == "|"


def test_a_line_without_newlines_is_split_softly_so_appends_stay_cheap() -> None:
    layout = laid_out([], width=50)
    for _ in range(20):
        layout.add_chunks(["word "] * 100)
    assert len(layout.lines) > 1
    assert all(len(line.text) < SOFT_SPLIT * 5 for line in layout.lines)


def test_a_soft_split_never_parts_a_chunk_from_its_delimiter() -> None:
    huge = "0123456789" * (SOFT_SPLIT // 2)  # longer than a line may grow in one step
    layout = laid_out([huge, "x", huge, "y"], width=64)
    rows = layout.plain_rows()
    assert all(not row.startswith("|") for row in rows[1:])
    assert "".join(rows) == f"|{huge}|x|{huge}|y|"


# -- one batch or one chunk at a time: the same rows ------------------------------------------

_CHUNK = st.text(alphabet=st.sampled_from("ab \n\t\u00e9\u4e2d"), min_size=0, max_size=8)


def _rows(layout: ChunkText) -> list[list[tuple[str, int]]]:
    return [layout.row_runs(i) for i in range(layout.row_count)]


@settings(max_examples=300, deadline=None)
@given(
    chunks=st.lists(_CHUNK, max_size=60),
    cuts=st.lists(st.integers(0, 60), max_size=6),
    width=st.integers(1, 30),
    delimiter=st.sampled_from(["|", "", "\u00a6", "<>"]),
)
def test_batches_lay_out_exactly_as_single_chunks(
    chunks: list[str], cuts: list[int], width: int, delimiter: str
) -> None:
    """The batch path (one join per frame, runs cut at newlines) against the chunk-at-a-time
    path whitespace mode uses, for any split of the stream into frames."""
    batched = ChunkText(width, delimiter=delimiter)
    batched.begin_answer()
    bounds = sorted({0, len(chunks), *(c for c in cuts if c <= len(chunks))})
    for start, end in itertools.pairwise(bounds):
        batched.add_chunks(chunks[start:end])

    single = ChunkText(width, delimiter=delimiter)
    single.begin_answer()
    for t in chunks:
        if t:
            single._add_one(t)
            single._rewrap_last()

    assert _rows(batched) == _rows(single)
    assert batched.parity == single.parity
    assert batched.chunks == single.chunks


def test_an_answer_without_a_chunk_draws_no_lone_delimiter() -> None:
    text = ChunkText(40)
    text.begin_answer()
    text.add_chunks(["", ""])  # empty chunks carry nothing to show
    assert text.plain_rows() == [""]
    text.add_chunks(["a"])
    assert text.plain_rows() == ["|a|"]


# -- F4 on what is already shown ---------------------------------------------------------------

_CHUNK = st.text(alphabet=st.sampled_from(["a", "b", " ", "\n", "\t", "é", "漢"]), max_size=6)
_STEP = st.one_of(
    st.lists(_CHUNK, min_size=1, max_size=5).map(lambda c: ("chunks", c)),
    st.sampled_from([("exchange", "a prompt"), ("note", "a note"), ("newline", "")]),
)


def _build(
    steps: list[tuple[str, object]], whitespace: bool, delimiter: str, marks: list
) -> ChunkText:
    from llmstream_tui.ui.line_runs import PROMPT

    layout = ChunkText(17, delimiter=delimiter, whitespace=whitespace)
    for tag, value in steps:
        if tag == "chunks":
            layout.add_chunks(value)  # type: ignore[arg-type]
        elif tag == "exchange":
            if layout.row_count > 1 or layout.rows[0][2] > 0:
                layout.newline()
            marks.append(layout.mark())
            layout.add_text(str(value), PROMPT)
            layout.newline()
            marks.append(layout.mark())
            layout.begin_answer()
        elif tag == "note":
            layout.newline()
            layout.add_text(str(value), NOTE)
        else:
            layout.newline()
    return layout


def _picture(layout: ChunkText) -> list[list[tuple[str, int]]]:
    return [layout.row_runs(i) for i in range(layout.row_count)]


@settings(max_examples=300, deadline=None)
@given(st.lists(_STEP, max_size=8), st.booleans(), st.sampled_from(["|", ""]))
def test_toggling_whitespace_redraws_what_is_shown_as_if_it_had_arrived_so(
    steps: list[tuple[str, object]], start_on: bool, delimiter: str
) -> None:
    """F4 applies to the text already shown: after the toggle the pane is exactly what it
    would be had every chunk arrived in the new mode (rows, runs, tints), the places a
    retry returns to still truncate to the same text, and the next chunk continues the
    tints."""
    marks: list = []
    toggled = _build(steps, start_on, delimiter, marks)
    moved = toggled.set_whitespace(not start_on, marks)
    expected_marks: list = []
    direct = _build(steps, not start_on, delimiter, expected_marks)
    assert _picture(toggled) == _picture(direct)
    assert [m[1:] for m in moved] == [m[1:] for m in expected_marks]
    toggled.add_chunks(["x", "y"])
    direct.add_chunks(["x", "y"])
    assert _picture(toggled) == _picture(direct)
    if moved:
        toggled.truncate(moved[-1])
        direct.truncate(expected_marks[-1])
        assert _picture(toggled) == _picture(direct)


def test_toggling_back_and_forth_gives_the_first_picture_again() -> None:
    layout = laid_out(["def f():\n", "\tif x:", " ", "\n", "\t\treturn  1", "\n\n", "done"])
    before = _picture(layout)
    layout.set_whitespace(True)
    shown = layout.plain_rows()
    assert any("⇥" in row for row in shown) and any("↵" in row for row in shown)
    assert "␣" in "".join(shown)
    layout.set_whitespace(False)
    assert _picture(layout) == before


def test_toggling_whitespace_keeps_long_lines_split_where_they_were() -> None:
    """Lines longer than ``SOFT_SPLIT`` continue on new line objects (seams, where a row
    ends): the redraw joins them back into one chunk stream, and lays it out as that stream
    arriving at once in the new mode."""
    chunks = [("word " if i % 7 else " ") + ("\n" if i % 2500 == 0 else "") for i in range(9000)]

    def frames(whitespace: bool) -> ChunkText:
        layout = ChunkText(61, whitespace=whitespace)
        layout.begin_answer()
        for at in range(0, len(chunks), 100):
            layout.add_chunks(chunks[at : at + 100])
        return layout

    for start_on in (False, True):
        toggled = frames(start_on)
        assert len(toggled.soft_lines) > 2
        toggled.set_whitespace(not start_on)
        # the redraw adds the chunks in one batch, so its seams fall where one batch's do
        direct = laid_out(chunks, 61, whitespace=not start_on)
        assert toggled.plain_rows() == direct.plain_rows()
        assert _picture(toggled) == _picture(direct)
