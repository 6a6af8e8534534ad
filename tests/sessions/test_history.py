"""The history database: what a session saves, listing, search, delete, reopening, bad files."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from llmstream_tui.errors import RecordingError
from llmstream_tui.sessions.history import History, HistoryWriter, connect
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
    conn.execute("BEGIN")
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
    conn.execute("COMMIT")
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


def test_database_is_in_wal_mode(data_dir: Path) -> None:
    save(["x"], [SLOWISH])
    conn = sqlite3.connect(data_dir / "history.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


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
    for table, expected in (("runs", 1), ("chunks", 3), ("turns", 1), ("providers", 1)):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == expected, table
    conn.close()


def test_sessions_are_found_by_id_or_uid_prefix() -> None:
    uid = save(["x"], [SLOWISH])
    with History() as history:
        sid = history.list_sessions()[0].id
        assert history.resolve(sid) == history.resolve(str(sid)) == history.resolve(uid[:8]) == sid
        with pytest.raises(RecordingError) as exc:
            history.resolve("zzz")
        assert "no session 'zzz'" in str(exc.value)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_run_left_streaming_by_a_dead_process_is_recovered_as_interrupted(
    data_dir: Path,
) -> None:
    writer = HistoryWriter()
    writer.apply(
        [
            {"type": "prompt", "turn": 0, "text": "q"},
            {"type": "provider", "provider": "p", "kind": "scripted"},
            {"type": "run", "provider": "p", "turn": 0},
            {"type": "chunk", "provider": "p", "index": 0, "t": 0.1, "text": "par"},
            {"type": "chunk", "provider": "p", "index": 1, "t": 0.2, "text": "tial"},
        ]
    )
    writer.close()
    with History() as history:  # our own process is alive: left alone
        assert history.recovered == 0 and history.list_sessions()[0].status == "streaming"
    conn = sqlite3.connect(data_dir / "history.sqlite3")
    conn.execute("UPDATE runs SET pid = ?", (_dead_pid(),))
    conn.commit()
    conn.close()
    with History() as history:
        assert history.recovered == 1
        (run,) = history.load(writer.uid).runs
        assert (run.status, run.text, run.chunks, run.t) == ("interrupted", "partial", 2, 0.2)
        assert history.list_sessions()[0].status == "interrupted"


# -- bad files ---------------------------------------------------------------------------------


def test_a_file_that_is_not_a_database_is_an_error_and_left_untouched(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    path = data_dir / "history.sqlite3"
    path.write_bytes(b"this is not sqlite, it is my notes\n" * 200)
    before = path.read_bytes()
    with pytest.raises(RecordingError) as exc:
        History()
    assert "not a usable history database" in str(exc.value) and "\n" not in str(exc.value)
    assert path.read_bytes() == before


def test_another_programs_sqlite_database_is_refused_and_left_untouched(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    path = data_dir / "history.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.commit()
    conn.close()
    with pytest.raises(RecordingError) as exc:
        History()
    assert "not an llmstream-tui history" in str(exc.value)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT body FROM notes").fetchall() == [("mine",)]
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 1
    conn.close()


def test_a_newer_history_version_is_refused(data_dir: Path) -> None:
    History().close()
    conn = sqlite3.connect(data_dir / "history.sqlite3")
    conn.execute("PRAGMA user_version = 7")
    conn.commit()
    conn.close()
    with pytest.raises(RecordingError) as exc:
        History()
    assert "version 7 is newer" in str(exc.value)


def test_an_unusable_history_does_not_stop_a_run(data_dir: Path, tmp_path: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "history.sqlite3").write_bytes(b"garbage" * 1000)
    recorder = SessionRecorder.open(record=tmp_path / "r.jsonl", history=True)
    asyncio.run(record_turn(recorder, "q", [SLOWISH]))
    recorder.close()
    assert len(recorder.problems) == 1 and recorder.problems[0].startswith("history not saved")
    assert "Sparkling water" in (tmp_path / "r.jsonl").read_text(encoding="utf-8")


def test_a_sink_failing_mid_session_is_dropped_and_the_other_goes_on(tmp_path: Path) -> None:
    recorder = SessionRecorder.open(record=tmp_path / "r.jsonl", history=True)
    assert recorder.history is not None

    def broken(lines: list[dict[str, Any]]) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    recorder._sinks["history"] = broken
    asyncio.run(record_turn(recorder, "q", [SLOWISH]))
    recorder.close()
    assert recorder.problems == ["history no longer saved: OperationalError: disk I/O error"]
    assert "Sparkling water" in (tmp_path / "r.jsonl").read_text(encoding="utf-8")


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
