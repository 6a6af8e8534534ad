"""History: what a session saves, listing, search, delete, finding and reopening a session."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from llmstream_tui.errors import RecordingError
from llmstream_tui.sessions.db import connect, transaction
from llmstream_tui.sessions.history import History
from llmstream_tui.sessions.recorder import SessionRecorder
from tests.sessions.support import record_turn

SLOWISH = {"kind": "scripted", "chunks": ["Spark", "ling", " water"], "delay_ms": 5}
FAILING = {"kind": "scripted", "chunks": ["a", "b", "c"], "fail_at": 2, "fail_with": "overloaded"}


def save(
    prompts: list[str],
    providers: list[Any],
    names: list[str] | None = None,
    session: str | None = None,
) -> str:
    """One session through the recorder, as the CLI saves it; returns its uid."""
    recorder = SessionRecorder.open(history=True, session=session)
    try:
        for prompt in prompts:
            asyncio.run(record_turn(recorder, prompt, providers, names=names))
    finally:
        recorder.close()
    assert recorder.problems == []
    assert recorder.session_uid is not None
    return recorder.session_uid


def bulk_sessions(path: Path, n: int) -> None:
    """``n`` sessions (two runs each) straight into the schema: fast enough for 10,000."""
    conn = connect(path)
    base = 1_700_000_000.0
    with transaction(conn):
        conn.executemany(
            "INSERT INTO sessions (id, uid, title, created, updated, providers, turns) "
            "VALUES (?, ?, ?, ?, ?, 'swift\nsteady', 1)",
            [(i, f"{i:032x}", f"prompt number {i}", base + i, base + i) for i in range(1, n + 1)],
        )
        conn.executemany(
            "INSERT INTO turns (session_id, seq, prompt, created) VALUES (?, 0, ?, ?)",
            [(i, f"prompt number {i}", base + i) for i in range(1, n + 1)],
        )
        conn.executemany(
            "INSERT INTO runs (session_id, turn, provider, status, started, text, chunks) "
            "VALUES (?, 0, ?, 'done', ?, ?, 0)",
            [
                (i, p, base + i, f"an answer of some length from {p} " * 20)
                for i in range(1, n + 1)
                for p in ("swift", "steady")
            ],
        )
    conn.close()


def test_a_session_keeps_prompts_chunks_answers_errors_and_settings(data_dir: Path) -> None:
    uid = save(["Write me a song"], [SLOWISH, FAILING], names=["good", "bad"])
    with History() as history:
        assert history.path == data_dir / "history.sqlite3"
        record = history.load(uid)
        assert record.prompts == ["Write me a song"] and record.title == "Write me a song"
        assert [p.name for p in record.providers] == ["good", "bad"]
        good_settings = record.providers[0].settings
        assert good_settings["kind"] == "scripted" and good_settings["options"]["delay_ms"] == 5
        good, bad = record.run("good", 0), record.run("bad", 0)
        assert good is not None and bad is not None
        assert (good.status, good.text, good.finish_reason, good.chunks) == (
            "done",
            "Sparkling water",
            "stop",
            3,
        )
        assert good.metrics is not None and good.metrics["chunks"] == 3
        chunks = list(history.iter_chunks(good.id))
        assert [c["text"] for c in chunks] == ["Spark", "ling", " water"]
        assert [c["index"] for c in chunks] == [0, 1, 2]
        assert chunks[0]["t"] < chunks[1]["t"] - 0.004 < chunks[2]["t"] - 0.008
        assert chunks[-1]["metadata"] == {"finish_reason": "stop"}
        assert (bad.status, bad.text, bad.chunks) == ("error", "ab", 2)
        assert bad.error is not None and bad.error["kind"] == "scripted"
        assert bad.error["message"] == "bad: overloaded"
        (row,) = history.list_sessions()
        assert (row.uid, row.providers, row.turns, row.status) == (uid, ["good", "bad"], 1, "error")


def test_a_continued_session_gets_the_next_turn_and_the_messages_to_go_on(data_dir: Path) -> None:
    uid = save(["first"], [SLOWISH], names=["p"])
    save(["second"], [SLOWISH], names=["p"], session=uid)
    with History() as history:
        record = history.load(uid)
        assert record.prompts == ["first", "second"]
        assert [r.turn for r in record.runs] == [0, 1]
        assert record.messages("p") == [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "Sparkling water"},
            {"role": "user", "content": "second"},
            {"role": "assistant", "content": "Sparkling water"},
        ]
        assert record.providers[0].table()["kind"] == "scripted"
        assert history.list_sessions()[0].turns == 2


def test_continuing_an_unknown_session_is_a_one_line_error() -> None:
    with pytest.raises(RecordingError) as exc:
        SessionRecorder.open(history=True, session="feedface")
    assert "no session 'feedface'" in str(exc.value) and "\n" not in str(exc.value)


def test_listing_is_newest_first_and_key_pages_never_overlap(data_dir: Path) -> None:
    bulk_sessions(data_dir / "history.sqlite3", 25)
    with History() as history:
        seen: list[int] = []
        before = None
        while True:
            page = history.list_sessions(limit=10, before=before)
            if not page:
                break
            seen += [row.id for row in page]
            before = page[-1].page_key
        assert seen == list(range(25, 0, -1))
        assert [r.id for r in history.list_sessions(limit=10, offset=10)] == seen[10:20]
        assert history.count_sessions() == 25


def test_search_matches_titles_prompts_and_answers_as_literal_substrings() -> None:
    a = save(["About TEA"], [SLOWISH])
    b = save(["first", "later turn mentions 100%_sure"], [SLOWISH])
    c = save(["unrelated"], [{"kind": "scripted", "chunks": ["the answer says teapot"]}])
    with History() as history:

        def found(text: str) -> set[str]:
            return {row.uid for row in history.list_sessions(search=text)}

        assert found("tea") == {a, c}  # case-insensitive; answers count
        assert found("100%_sure") == {b}  # later prompt; % and _ are literal
        assert found("0%x") == set() and found("_") == {b}
        assert found("Sparkling") == {a, b}


def test_delete_removes_the_session_and_everything_in_it(data_dir: Path) -> None:
    keep = save(["keep"], [SLOWISH])
    drop = save(["drop"], [SLOWISH, FAILING])
    with History() as history:
        assert history.delete(drop) is True
        assert history.delete(drop) is False
        assert [r.uid for r in history.list_sessions()] == [keep]
        with pytest.raises(RecordingError):
            history.load(drop)
    conn = sqlite3.connect(data_dir / "history.sqlite3")
    for table, count, expected in (
        ("runs", "count(*)", 1),
        ("chunk_batches", "sum(count)", 3),
        ("turns", "count(*)", 1),
        ("providers", "count(*)", 1),
    ):
        assert conn.execute(f"SELECT {count} FROM {table}").fetchone()[0] == expected, table
    conn.close()


def test_sessions_are_found_by_id_or_uid_prefix() -> None:
    uid = save(["x"], [SLOWISH])
    with History() as history:
        sid = history.list_sessions()[0].id
        assert history.resolve(sid) == history.resolve(str(sid)) == history.resolve(uid[:8]) == sid
        with pytest.raises(RecordingError) as exc:
            history.resolve("zzz")
        assert "no session 'zzz'" in str(exc.value)


# -- scale -------------------------------------------------------------------------------------


def _first_page_seconds(path: Path) -> float:
    with History(path) as history:
        history.list_sessions(limit=50)  # warm the page cache, as a second open would be
        best = float("inf")
        for _ in range(7):
            started = time.perf_counter()
            page = history.list_sessions(limit=50)
            best = min(best, time.perf_counter() - started)
        assert len(page) == 50
    return best


def test_first_page_of_ten_thousand_sessions_costs_what_a_hundred_do(tmp_path: Path) -> None:
    small, large = tmp_path / "small.sqlite3", tmp_path / "large.sqlite3"
    bulk_sessions(small, 100)
    bulk_sessions(large, 10_000)
    t_small, t_large = _first_page_seconds(small), _first_page_seconds(large)
    assert t_large < 3 * t_small + 0.002, (t_small, t_large)
    with History(large) as history:
        first = history.list_sessions(limit=50)
        assert [r.id for r in first] == list(range(10_000, 9_950, -1))
        deep = history.list_sessions(limit=50, before=(1_700_000_000.0 + 101, 101))
        assert [r.id for r in deep] == list(range(100, 50, -1))


def test_a_uid_prefix_of_digits_only_is_still_found() -> None:
    """A uid's hex begins with eight digits about one time in forty: such a prefix is not
    a session number when no session has that number."""
    save(["x"], [SLOWISH])
    with History() as history:
        sid = history.list_sessions()[0].id
        history._conn.execute("UPDATE sessions SET uid = '23357921abcd' WHERE id = ?", (sid,))
        assert history.resolve("23357921") == sid


def test_a_long_run_is_read_a_page_of_rows_at_a_time() -> None:
    """A run of 100,000 chunks: the first chunk comes after one page's query (a few rows,
    never the run), and the pages together give every chunk once, in order."""
    from llmstream_tui.sessions.writer import HistoryWriter

    writer = HistoryWriter()
    writer.apply([{"type": "prompt", "turn": 0, "text": "q"}, {"type": "run", "provider": "p"}])
    texts = [f"{i % 10}" for i in range(100_000)]
    writer.apply(
        [
            {"type": "chunks", "provider": "p", "index": 0, "start_ns": 0, "texts": texts,
             "stamps": list(range(0, 100_000_000, 1_000))},
        ]
    )  # fmt: skip
    writer.close()
    with History() as history:
        (run,) = history.load(writer.uid).runs
        pages: list[int] = []
        history._conn.set_trace_callback(lambda sql: pages.append(sql.count("LIMIT")))
        chunks = history.iter_chunks(run.id, batch=2048)
        first = next(chunks)
        assert sum(pages) == 1 and first == {"index": 0, "t": 0.0, "text": "0"}
        rest = list(chunks)
        history._conn.set_trace_callback(None)
    assert [c["index"] for c in [first, *rest]] == list(range(100_000))
    assert "".join(c["text"] for c in [first, *rest]) == "".join(texts)
    assert 100_000 // 2048 <= sum(pages) <= 100_000 // 2048 * 3
