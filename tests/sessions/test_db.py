"""The history file: the one transaction helper, the schema, bad files, crash recovery."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from llmstream_tui.errors import RecordingError
from llmstream_tui.sessions import db
from llmstream_tui.sessions import history as history_module
from llmstream_tui.sessions.db import connect, connect_readonly, transaction
from llmstream_tui.sessions.history import History
from llmstream_tui.sessions.writer import HistoryWriter
from tests.sessions.support import V1_CHUNKS, v1_chunks, v1_history


class Boom(Exception):
    """What a failing write raises in these tests."""


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = connect(tmp_path / "h.sqlite3")
    yield connection
    connection.close()


def add_session(conn: sqlite3.Connection, uid: str) -> None:
    conn.execute("INSERT INTO sessions (uid, created, updated) VALUES (?, 0, 0)", (uid,))


def uids(path: Path) -> list[str]:
    """The sessions another connection sees: what is committed, nothing else."""
    other = sqlite3.connect(path)
    try:
        return [r[0] for r in other.execute("SELECT uid FROM sessions ORDER BY id")]
    finally:
        other.close()


def poke(path: Path, *statements: str | tuple[str, tuple[object, ...]]) -> None:
    """Change the file the way another program would: its own connection, committed."""
    other = sqlite3.connect(path)
    try:
        for statement in statements:
            sql, args = (statement, ()) if isinstance(statement, str) else statement
            other.execute(sql, args)
        other.commit()
    finally:
        other.close()


# -- transaction -------------------------------------------------------------------------------


def test_a_block_that_finishes_commits_and_others_see_it(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    with transaction(conn) as c:
        assert c is conn and conn.in_transaction
        add_session(conn, "a")
    assert not conn.in_transaction
    assert uids(tmp_path / "h.sqlite3") == ["a"]


def test_a_failed_write_leaves_the_database_unchanged(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    with transaction(conn):
        add_session(conn, "before")
    with pytest.raises(sqlite3.IntegrityError), transaction(conn):
        add_session(conn, "new")
        add_session(conn, "before")  # uid is UNIQUE: fails after a write went through
    assert not conn.in_transaction
    assert uids(tmp_path / "h.sqlite3") == ["before"]


@pytest.mark.parametrize("error", [Boom("no"), KeyboardInterrupt()])
def test_any_exception_rolls_back_and_propagates(
    conn: sqlite3.Connection, tmp_path: Path, error: BaseException
) -> None:
    with pytest.raises(type(error)), transaction(conn):
        add_session(conn, "lost")
        raise error
    assert uids(tmp_path / "h.sqlite3") == []


def test_the_write_lock_is_taken_when_the_block_begins(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    """BEGIN IMMEDIATE: a second writer is turned away (or waits) at its start, never after
    writing half a batch."""
    other = sqlite3.connect(tmp_path / "h.sqlite3", timeout=0, isolation_level=None)
    try:
        with transaction(conn), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again once the block committed
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_a_nested_block_commits_only_with_the_outermost(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    with transaction(conn):
        add_session(conn, "outer")
        with transaction(conn):
            add_session(conn, "inner")
        assert conn.in_transaction
        assert uids(tmp_path / "h.sqlite3") == []  # nothing durable yet
    assert uids(tmp_path / "h.sqlite3") == ["outer", "inner"]


def test_a_failed_nested_block_undoes_its_own_writes_only(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    with transaction(conn):
        add_session(conn, "outer")
        with pytest.raises(Boom), transaction(conn):
            add_session(conn, "inner")
            raise Boom
        assert conn.in_transaction  # the outer transaction goes on
        add_session(conn, "after")
    assert uids(tmp_path / "h.sqlite3") == ["outer", "after"]


def test_an_outer_failure_undoes_a_nested_block_that_succeeded(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    with pytest.raises(Boom), transaction(conn):
        with transaction(conn):
            add_session(conn, "inner")
        raise Boom
    assert not conn.in_transaction
    assert uids(tmp_path / "h.sqlite3") == []


# -- schema and bad files ----------------------------------------------------------------------


def test_a_new_file_gets_the_schema_in_wal_mode(tmp_path: Path) -> None:
    connect(tmp_path / "new.sqlite3").close()
    other = sqlite3.connect(tmp_path / "new.sqlite3")
    try:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert other.execute("PRAGMA user_version").fetchone()[0] == 2
        tables = {r[0] for r in other.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables == {"sessions", "providers", "turns", "runs", "chunk_batches", "comparisons"}
    finally:
        other.close()


def test_foreign_keys_are_on_so_deleting_a_session_deletes_its_rows(
    conn: sqlite3.Connection,
) -> None:
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


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
    poke(path, "CREATE TABLE notes (body TEXT)", "INSERT INTO notes VALUES ('mine')")
    with pytest.raises(RecordingError) as exc:
        History()
    assert "not an llmstream-tui history" in str(exc.value)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT body FROM notes").fetchall() == [("mine",)]
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 1
    conn.close()


def test_a_newer_history_version_is_refused(data_dir: Path) -> None:
    History().close()
    poke(data_dir / "history.sqlite3", "PRAGMA user_version = 7")
    with pytest.raises(RecordingError) as exc:
        History()
    assert "version 7 is newer" in str(exc.value)


# -- crash recovery ----------------------------------------------------------------------------


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
    poke(data_dir / "history.sqlite3", ("UPDATE runs SET pid = ?", (_dead_pid(),)))
    with History() as history:
        assert history.recovered == 1
        (run,) = history.load(writer.uid).runs
        assert (run.status, run.text, run.chunks, run.t) == ("interrupted", "partial", 2, 0.2)
        assert history.list_sessions()[0].status == "interrupted"


# -- schema version 2: batch rows, and version 1 files -------------------------------------------


def _schema_of(path: Path) -> tuple[int, set[str]]:
    other = sqlite3.connect(path)
    try:
        version = other.execute("PRAGMA user_version").fetchone()[0]
        names = {r[0] for r in other.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        other.close()
    return version, names


def test_a_version_1_file_is_converted_on_opening_with_every_chunk_as_it_was(
    data_dir: Path,
) -> None:
    data_dir.mkdir(parents=True)
    path = data_dir / "history.sqlite3"
    v1_history(path)
    with History() as history:
        assert not history.read_only
        done, left = history.load("c0ffee").runs
        assert list(history.iter_chunks(done.id)) == v1_chunks(1)
        assert [c["index"] for c in history.iter_side_chunks(done.id)] == [2, 3, 5]
        assert (done.status, done.text, done.chunks) == ("done", "Sparkling?", 5)
        # recovery ran on the converted rows: the run left streaming has its saved text
        assert history.recovered == 1
        assert (left.status, left.text, left.chunks, left.t) == ("interrupted", "partial", 2, 2e-06)
    version, tables = _schema_of(path)
    assert version == 2 and "chunks" not in tables and "chunk_batches" in tables
    rows = sqlite3.connect(path)
    try:
        # run 1's chunks 0-3 and 5 (4 was lost before): two rows; run 2's: one
        assert rows.execute(
            "SELECT run_id, first, count FROM chunk_batches ORDER BY run_id, first"
        ).fetchall() == [(1, 0, 4), (1, 5, 1), (2, 0, 2)]
    finally:
        rows.close()


def test_a_version_1_conversion_that_fails_leaves_the_file_as_it_was(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir.mkdir(parents=True)
    path = data_dir / "history.sqlite3"
    v1_history(path)
    calls: list[int] = []
    real = db.insert_batches

    def failing(conn: sqlite3.Connection, rows: Sequence[db.BatchRow]) -> None:
        calls.append(len(rows))
        if len(calls) == 2:  # after the first run's rows went in
            raise sqlite3.OperationalError("disk I/O error")
        real(conn, rows)

    monkeypatch.setattr(db, "insert_batches", failing)
    with pytest.raises(RecordingError) as exc:
        connect(path)
    assert "disk I/O error" in str(exc.value) and "\n" not in str(exc.value)
    version, tables = _schema_of(path)
    assert version == 1 and "chunk_batches" not in tables and len(calls) == 2
    other = sqlite3.connect(path)
    try:
        assert other.execute("SELECT count(*) FROM chunks").fetchone()[0] == len(V1_CHUNKS)
    finally:
        other.close()
    monkeypatch.setattr(db, "insert_batches", real)
    with History() as history:  # the next opening converts it
        assert list(history.iter_chunks(1)) == v1_chunks(1)


def test_a_version_1_file_that_cannot_be_written_is_read_as_it_is(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read-only (a backup, a read-only mount): read through a temporary view, never
    converted, the file not touched."""
    data_dir.mkdir(parents=True)
    path = data_dir / "history.sqlite3"
    v1_history(path)
    before = path.read_bytes()

    def unwritable(where: Path) -> sqlite3.Connection:
        raise RecordingError(f"{where}: attempt to write a readonly database")

    monkeypatch.setattr(history_module, "connect", unwritable)
    with History() as history:
        assert history.read_only and history.recovery_deferred is not None
        (row,) = history.list_sessions()
        assert row.status == "interrupted"
        done, left = history.load(row.id).runs
        assert list(history.iter_chunks(done.id)) == v1_chunks(1)
        assert list(history.iter_side_chunks(done.id)) == v1_chunks(1)[2:]
        assert (left.status, left.text) == ("interrupted", "partial")
        lines = list(history.export_lines(row.id))
    assert [x["text"] for x in lines if x.get("type") == "chunk"] == [
        c["text"] for c in v1_chunks(1) + v1_chunks(2)
    ]
    assert path.read_bytes() == before and _schema_of(path)[0] == 1


def test_a_newer_version_is_one_line_read_only_too(data_dir: Path) -> None:
    History().close()
    path = data_dir / "history.sqlite3"
    poke(path, "PRAGMA user_version = 3")
    for opening in (connect, connect_readonly):
        with pytest.raises(RecordingError) as exc:
            opening(path)
        message = str(exc.value)
        assert "version 3 is newer than this llmstream-tui reads (2)" in message
        assert "\n" not in message and message.startswith(str(path))
    assert _schema_of(path)[0] == 3


def test_recovery_reads_the_batch_rows_that_reached_the_disk(data_dir: Path) -> None:
    """A run killed mid-stream: its text is its batches' answer text and refusal (not its
    reasoning), its count and last time those of every row saved."""
    writer = HistoryWriter()
    start = 5_000_000_000
    writer.apply(
        [
            {"type": "prompt", "turn": 0, "text": "q"},
            {"type": "run", "provider": "p", "turn": 0},
            {"type": "chunk", "provider": "p", "index": 0, "t": 0.01, "text": "hm",
             "channel": "reasoning"},
            {"type": "chunks", "provider": "p", "index": 1, "start_ns": start,
             "texts": ["a", "b"], "stamps": [start + 20_000_500, start + 30_000_500]},
        ]
    )  # fmt: skip
    writer.apply(
        [
            {"type": "chunk", "provider": "p", "index": 3, "t": 0.04, "text": "!",
             "channel": "refusal"},
            {"type": "chunks", "provider": "p", "index": 4, "start_ns": start,
             "texts": ["c"], "stamps": [start + 50_000_000]},
        ]
    )  # fmt: skip
    writer.close()
    poke(data_dir / "history.sqlite3", ("UPDATE runs SET pid = ?", (_dead_pid(),)))
    with History() as history:
        assert history.recovered == 1
        (run,) = history.load(writer.uid).runs
        assert (run.status, run.text, run.chunks, run.t) == ("interrupted", "ab!c", 5, 0.05)
        times = [c["t"] for c in history.iter_chunks(run.id)]
    assert times == [0.01, round(0.0200005, 6), round(0.0300005, 6), 0.04, 0.05]
