"""A logical line's runs, cell widths and the greedy wrap, without Textual."""

from __future__ import annotations

from llmstream_tui.ui.line_runs import DELIM, TEXT_A, Line, cell_width, wrap_from


def test_a_long_word_is_cut_at_the_width() -> None:
    assert wrap_from("abcdefghij", 0, 4) == [(0, 4), (4, 8), (8, 10)]


def test_a_wrap_breaks_after_a_space_and_keeps_every_character() -> None:
    rows = wrap_from("one two three", 0, 8)
    assert rows == [(0, 8), (8, 13)]
    assert "".join("one two three"[s:e] for s, e in rows) == "one two three"


def test_a_character_wider_than_the_row_gets_a_row_of_its_own() -> None:
    assert wrap_from("日本", 0, 1) == [(0, 1), (1, 2)]


def test_text_ending_at_a_row_boundary_leaves_an_open_empty_row() -> None:
    assert wrap_from("abcd ", 0, 4) == [(0, 5), (5, 5)]


def test_wide_characters_take_two_cells() -> None:
    assert cell_width("abc") == 3
    assert cell_width("日本語") == 6


def test_a_line_merges_neighbouring_runs_of_one_kind() -> None:
    line = Line()
    line.add("Spark", TEXT_A)
    line.add("ling", TEXT_A)
    line.add("|", DELIM)
    line.add("", TEXT_A)
    assert line.text == "Sparkling|"
    assert list(line.ends) == [9, 10]
    assert list(line.kinds) == [TEXT_A, DELIM]
