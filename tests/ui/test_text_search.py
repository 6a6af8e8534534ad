"""Search in a pane's text: matches are found in the answer's text (never in the drawn
delimiters), and their plain offsets map back to the right rows and display columns."""

from __future__ import annotations

import time

from llmstream_tui.ui.chunk_text import SOFT_SPLIT, ChunkText
from llmstream_tui.ui.line_runs import DELIM
from llmstream_tui.ui.text_search import TextSearch, fold_case, index_line


def answer(chunks: list[str], width: int = 80, **kw: object) -> ChunkText:
    model = ChunkText(width, **kw)  # type: ignore[arg-type]  # test helper: keyword options
    model.begin_answer()
    model.add_chunks(chunks)
    return model


def test_a_match_across_a_chunk_boundary_is_found_in_the_text() -> None:
    model = answer(["Spark", "ling", " water"])
    assert model.row_text(0) == "|Spark|ling| water|"
    search = TextSearch(model)
    assert search.run("sparkling") == 1
    # the span covers both pieces and the delimiter between them (the widget styles only
    # the text runs inside it)
    [(a, b, current)] = search.row_spans(0)
    assert model.row_text(0)[a:b] == "Spark|ling"
    assert current


def test_the_delimiter_itself_is_never_matched() -> None:
    model = answer(["a", "b"])
    assert TextSearch(model).run("|") == 0
    assert TextSearch(model).run("ab") == 1


def test_search_is_case_insensitive_and_literal() -> None:
    model = answer(["Hello (wor", "ld) .* HELLO"])
    search = TextSearch(model)
    assert search.run("hello") == 2
    assert search.run(".*") == 1  # a literal, not a pattern
    assert search.run("(world)") == 1


def test_case_folding_keeps_offsets_for_characters_that_lowercase_to_two() -> None:
    text = "İstanbul istanbul"
    assert len(fold_case(text)) == len(text)
    model = answer(["İstanbul ", "istanbul"])
    search = TextSearch(model)
    assert search.run("stanbul") == 2
    spans = [span for r in range(model.row_count) for span in search.row_spans(r)]
    assert [model.row_text(0)[a:b] for a, b, _ in spans] == ["stanbul", "stanbul"]


def test_next_and_previous_wrap_around() -> None:
    model = answer(["ab ab ab"])
    search = TextSearch(model)
    assert search.run("ab") == 3
    assert search.current == 0
    assert [search.step(1), search.step(1), search.step(1)] == [1, 2, 0]
    assert search.step(-1) == 2


def test_a_match_wrapped_over_two_rows_is_highlighted_on_both() -> None:
    model = answer(["aaaa ", "needle", "haystack"], width=8)
    rows = model.plain_rows()
    search = TextSearch(model)
    assert search.run("needlehay") == 1
    pieces = []
    for r in range(model.row_count):
        line, _s, _e = model.rows[r]
        pieces += [line.text[a:b] for a, b, _ in search.row_spans(r)]
    assert "".join(p.replace("|", "") for p in pieces) == "needlehay", rows
    assert len(pieces) == 2


def test_row_of_finds_the_row_of_a_match_start() -> None:
    model = answer([f"word{i} " for i in range(200)], width=20)
    search = TextSearch(model)
    assert search.run("word150 ") == 1
    row = search.row_of(0)
    assert row is not None
    assert "word150" in model.row_text(row)


def test_newlines_separate_lines_but_a_soft_split_does_not() -> None:
    model = answer(["end", "\n", "start"])
    assert TextSearch(model).run("endstart") == 0
    # a long run without newlines is split into line objects softly: still one text
    model = answer([])
    for _ in range(SOFT_SPLIT // 100 * 2):
        model.add_chunks(["x" * 100])
    model.add_chunks(["needle", "tail"])
    assert len(model.lines) > 1 and model.soft_lines
    search = TextSearch(model)
    assert search.run("x" * 150) > 0  # across chunks and across the soft seams
    assert search.run("needletail") == 1


def test_whitespace_glyphs_read_back_as_whitespace() -> None:
    model = answer(["a", " ", "b"], whitespace=True)
    assert "␣" in model.row_text(0)
    assert TextSearch(model).run("a b") == 1


def test_index_line_maps_offsets_both_ways_around_delimiters() -> None:
    model = answer(["ab", "cd"])
    line = model.lines[0]
    assert line.text == "|ab|cd|" and DELIM in line.kinds
    index = index_line(line, "|")
    assert index.plain == "abcd"
    assert [index.to_display(p) for p in range(4)] == [1, 2, 4, 5]
    assert [index.to_plain(d) for d in range(7)] == [0, 0, 1, 2, 2, 3, 4]


def test_text_added_after_the_search_makes_it_stale_and_a_rerun_finds_it() -> None:
    model = answer(["one needle"])
    search = TextSearch(model)
    assert search.run("needle") == 1
    model.add_chunks([" another needle"])
    assert search.stale
    assert search.run("needle") == 2
    assert not search.stale


def test_a_megabyte_answer_is_searched_in_well_under_a_frame_budget() -> None:
    """200,000 chunks of 5 characters (1 MB): the first search indexes the lines, later
    queries reuse the index. Generous bounds (a loaded CI core), printed for the report."""
    model = ChunkText(80, max_rows=40_000)
    model.begin_answer()
    words = ["spark", "ling ", "water", " and ", "fizz "]
    for _ in range(200):
        model.add_chunks(words * 200)
    search = TextSearch(model)
    t0 = time.perf_counter()
    first = search.run("sparkling")
    t1 = time.perf_counter()
    again = search.run("water and")
    t2 = time.perf_counter()
    print(f"1 MB: first search {1000 * (t1 - t0):.1f} ms, next {1000 * (t2 - t1):.1f} ms")
    assert first == again == 40_000
    assert t1 - t0 < 2.0 and t2 - t1 < 0.5


def test_a_delimiter_character_inside_the_text_is_kept() -> None:
    """The quick path drops delimiter characters in C; a chunk holding one must not lose it
    (the counts differ, so the runs are walked)."""
    model = answer(["a|b", "c"])
    assert model.row_text(0) == "|a|b|c|"
    index = index_line(model.lines[0], "|")
    assert index.plain == "a|bc"
    assert TextSearch(model).run("b|c") == 0 and TextSearch(model).run("a|bc") == 1


def test_a_multi_character_delimiter_is_left_out_too() -> None:
    model = answer(["ab", "cd"], delimiter=" / ")
    assert TextSearch(model).run("abcd") == 1
