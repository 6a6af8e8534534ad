"""HistoryWriter: recording lines into the database, one transaction per batch."""

from __future__ import annotations

import itertools
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from llmstream_tui.errors import RecordingError
from llmstream_tui.sessions.history import History
from llmstream_tui.sessions.writer import TITLE_CHARS, HistoryWriter

START: list[dict[str, Any]] = [
    {"type": "prompt", "turn": 0, "text": "q"},
    {"type": "provider", "provider": "p", "kind": "scripted"},
    {"type": "run", "provider": "p", "turn": 0},
]


def test_running_a_turn_again_replaces_its_run() -> None:
    writer = HistoryWriter()
    lines: list[dict[str, Any]] = [
        {"type": "prompt", "turn": 0, "text": "q"},
        {"type": "run", "provider": "p", "turn": 0},
        {"type": "chunk", "provider": "p", "index": 0, "t": 0.1, "text": "old"},
        {"type": "end", "provider": "p", "t": 0.2, "text": "old"},
    ]
    writer.apply(lines)
    writer.apply([lines[1], {**lines[2], "text": "new"}, {**lines[3], "text": "new"}])
    writer.close()
    with History() as history:
        record = history.load(writer.uid)
        (run,) = record.runs
        assert run.text == "new" and [c["text"] for c in history.iter_chunks(run.id)] == ["new"]


def test_a_batch_that_fails_half_way_saves_none_of_it() -> None:
    writer = HistoryWriter()
    writer.apply(START)
    broken = {"type": "chunk", "provider": "p", "index": 1, "t": 0.2}  # no text: KeyError
    with pytest.raises(KeyError):
        writer.apply([{"type": "prompt", "turn": 1, "text": "second"}, broken])
    writer.close()
    with History() as history:
        record = history.load(writer.uid)
        assert record.prompts == ["q"]
        assert list(history.iter_chunks(record.runs[0].id)) == []


def test_a_batch_of_text_chunks_is_one_statement_in_one_transaction() -> None:
    """The streaming path's SQL: the app's batch of a frame's text costs one INSERT however
    many chunks it holds, between one BEGIN IMMEDIATE and one COMMIT."""
    writer = HistoryWriter()
    writer.apply(START)
    statements: list[str] = []
    writer._conn.set_trace_callback(statements.append)
    texts = [f"t{i}" for i in range(500)]
    writer.apply(
        [
            {
                "type": "chunks",
                "provider": "p",
                "index": 0,
                "start_ns": 0,
                "texts": texts,
                "stamps": list(range(500)),
            }
        ]
    )
    writer._conn.set_trace_callback(None)
    writer.close()
    assert statements[0] == "BEGIN IMMEDIATE" and statements[-1] == "COMMIT"
    assert [s for s in statements if s.startswith("INSERT")] == [statements[1]]
    assert len(statements) == 4  # BEGIN, the INSERT, the session's updated time, COMMIT
    with History() as history:
        (run,) = history.load(writer.uid).runs
        assert [c["text"] for c in history.iter_chunks(run.id)] == texts


def test_the_title_is_the_first_prompt_on_one_line_and_cut() -> None:
    writer = HistoryWriter()
    writer.apply([{"type": "prompt", "turn": 0, "text": "two\n  lines " + "x" * 500}])
    writer.apply([{"type": "prompt", "turn": 1, "text": "a later prompt"}])
    writer.close()
    with History() as history:
        title = history.load(writer.uid).title
    assert title.startswith("two lines x") and len(title) == TITLE_CHARS


def test_lines_for_a_run_never_started_are_ignored() -> None:
    writer = HistoryWriter()
    writer.apply(
        [
            {"type": "prompt", "turn": 0, "text": "q"},
            {"type": "chunk", "provider": "ghost", "index": 0, "t": 0.1, "text": "boo"},
            {"type": "end", "provider": "ghost", "t": 0.2, "text": "boo"},
            {"type": "event", "provider": "ghost", "t": 0.2, "event": {}},
        ]
    )
    writer.close()
    with History() as history:
        assert history.load(writer.uid).runs == []


def test_continuing_a_session_the_history_does_not_have_is_refused() -> None:
    History().close()
    with pytest.raises(RecordingError, match="no session 'feedface'"):
        HistoryWriter(session="feedface")


def test_nothing_is_written_before_the_first_line_that_needs_a_session(data_dir: Path) -> None:
    writer = HistoryWriter()
    writer.apply([{"type": "event", "provider": "p", "t": 0.0, "event": {}}])
    writer.close()
    conn = sqlite3.connect(data_dir / "history.sqlite3")
    try:
        assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    finally:
        conn.close()


def test_a_text_batch_saves_the_times_python_rounds_not_sqlites() -> None:
    """A batch's times are the ones ``RunRecorder.chunk`` (and a recording's ``chunk``
    lines) hold: ``round(ns / 1e9, 6)`` as Python rounds. SQLite's ``round`` differs on
    about half of the half-microsecond ties, so a time rounded in SQL was off by 1e-6."""
    writer = HistoryWriter()
    writer.apply(START)
    stamps = [k * 1_000 + 500 for k in range(1, 2_001)]  # every one a half-microsecond tie
    texts = [f"t{i}" for i in range(len(stamps))]
    batch = {"type": "chunks", "provider": "p", "index": 0, "start_ns": 0}
    writer.apply([{**batch, "texts": texts, "stamps": stamps}])
    writer.close()
    with History() as history:
        (run,) = history.load(writer.uid).runs
        saved = [c["t"] for c in history.iter_chunks(run.id)]
    assert saved == [round(ns / 1e9, 6) for ns in stamps]


# -- batch rows (schema version 2) ---------------------------------------------------------------


def _batches(data_dir: Path) -> list[tuple[int, int, int, int]]:
    """(run, first, count, payload bytes) of every batch row."""
    conn = sqlite3.connect(data_dir / "history.sqlite3")
    try:
        return conn.execute(
            "SELECT run_id, first, count, length(CAST(texts AS BLOB)) + "
            "coalesce(length(lengths), 0) + length(times) FROM chunk_batches "
            "ORDER BY run_id, first"
        ).fetchall()
    finally:
        conn.close()


def test_a_flush_of_text_chunks_is_rows_of_about_a_page_read_back_exactly(
    data_dir: Path,
) -> None:
    """20,000 chunks in one flush: a few dozen rows of under a page each, not a row per
    chunk; every text (empty, NUL, non-ASCII), number and time comes back as it went in,
    the times bit for bit what the recording file holds."""
    writer = HistoryWriter()
    writer.apply(START)
    texts = ["", "a\x00b", "wäter", "水"] + [f"w{i % 97} " for i in range(19_996)]
    start = 7_000_000_000
    stamps = [start + k * 1_000 + 500 for k in range(len(texts))]
    batch = {"type": "chunks", "provider": "p", "index": 0, "start_ns": start}
    writer.apply([{**batch, "texts": texts, "stamps": stamps}])
    writer.close()
    rows = _batches(data_dir)
    assert 20 <= len(rows) <= 200 and sum(r[2] for r in rows) == len(texts)
    assert all(payload <= 4_000 for *_, payload in rows)
    assert [r[1] for r in rows] == list(itertools.accumulate([0] + [r[2] for r in rows[:-1]]))
    with History() as history:
        (run,) = history.load(writer.uid).runs
        saved = list(history.iter_chunks(run.id))
    assert [c["text"] for c in saved] == texts
    assert [c["index"] for c in saved] == list(range(len(texts)))
    assert [c["t"] for c in saved] == [round((ns - start) / 1e9, 6) for ns in stamps]


def test_chunk_lines_are_gathered_per_run_with_what_rides_on_them() -> None:
    """Chunk lines of two runs interleaved in one flush: a row per run, each chunk's
    channel, tool call, metadata and usage kept, its time exactly as given."""
    writer = HistoryWriter()
    writer.apply(START + [{"type": "run", "provider": "r", "turn": 0}])
    when = datetime(2026, 1, 2, tzinfo=UTC)
    lines: list[dict[str, Any]] = [
        {"type": "chunk", "provider": "p", "index": 0, "t": 0.1234567891, "text": "hm",
         "channel": "reasoning"},
        {"type": "chunk", "provider": "r", "index": 0, "t": 0.5, "text": "x"},
        {"type": "chunk", "provider": "p", "index": 1, "t": 0.2, "text": "",
         "channel": "tool_call", "tool_call": {"name": "f", "args": "{\"a\"", "index": 0}},
        {"type": "chunk", "provider": "p", "index": 2, "t": 0.3, "text": "ok"},
        {"type": "chunk", "provider": "p", "index": 3, "t": 0.4, "text": "",
         "metadata": {"finish_reason": "stop", "at": when}, "usage": {"output_tokens": 3}},
    ]  # fmt: skip
    writer.apply(lines)
    writer.close()
    with History() as history:
        p, r = history.load(writer.uid).runs
        saved = list(history.iter_chunks(p.id))
        side = list(history.iter_side_chunks(p.id))
        other = list(history.iter_chunks(r.id))
    keep = ("index", "t", "text", "channel", "tool_call", "metadata", "usage")
    expected = [{k: v for k, v in x.items() if k in keep} for x in lines if x["provider"] == "p"]
    expected[3]["metadata"]["at"] = str(when)
    assert saved == expected
    assert side == [expected[0], expected[1], expected[3]]
    assert other == [{"index": 0, "t": 0.5, "text": "x"}]
    assert [(run, first, count) for run, first, count, _ in _batches_of(writer)] == [
        (p.id, 0, 4),
        (r.id, 0, 1),
    ]


def _batches_of(writer: HistoryWriter) -> list[tuple[int, int, int, int]]:
    return _batches(writer.path.parent)
