"""The history database file: where it lives, its schema, opening it, and writing to it.

``<data dir>/history.sqlite3`` (``$LLMSTREAM_DATA_DIR`` moves it), stdlib ``sqlite3`` in WAL
mode with ``synchronous=NORMAL``: a committed transaction survives the process being killed
(SIGKILL included), and readers (the history screen, ``llmstream-tui history``) never wait
for the writer.

Schema (version 1, in ``PRAGMA user_version``)::

    sessions   id, uid, title, created, updated, providers (names, for listing), turns
    providers  session_id, name, settings (the recording's provider line: never a key)
    turns      session_id, seq, prompt, created
    runs       session_id, turn, provider, status (streaming|done|error|cancelled|interrupted),
               started, pid, t, text, finish_reason, usage, metrics, error, chunks
    chunks     run_id, idx, t (seconds since the run started), text, extra (channel, tool call)

Every write goes through ``transaction``, so there is one place that decides how a write
begins, commits and rolls back. Connections are opened in autocommit mode
(``isolation_level=None``): the ``sqlite3`` module never begins a transaction behind our back.

A run still ``streaming`` whose process is gone (killed, crashed) becomes ``interrupted``
when ``recover`` runs (``History`` calls it on opening), with the text of the chunks that
reached the disk.

Reading never needs to write: a file the user cannot write (a backup, a read-only mount) is
opened read-only (``connect_readonly``), and recovery that cannot write (a full disk) waits
for the next opening. A file whose pages are damaged is reported as one line naming it and
the way out (``llmstream-tui history --repair``, ``repair.py``); once seen damaged, the file
takes no more writes from this process (``damage_of``) until it is replaced.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from ..errors import RecordingError
from ..locations import data_dir

FILE_NAME: Final = "history.sqlite3"
SCHEMA_VERSION: Final = 1

_SCHEMA = """
CREATE TABLE sessions (
    id        INTEGER PRIMARY KEY,
    uid       TEXT NOT NULL UNIQUE,
    title     TEXT NOT NULL DEFAULT '',
    created   REAL NOT NULL,
    updated   REAL NOT NULL,
    providers TEXT NOT NULL DEFAULT '',
    turns     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_by_updated ON sessions (updated DESC, id DESC);
CREATE TABLE providers (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    settings   TEXT NOT NULL,
    UNIQUE (session_id, name)
);
CREATE TABLE turns (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    prompt     TEXT NOT NULL,
    created    REAL NOT NULL,
    UNIQUE (session_id, seq)
);
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    session_id    INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    turn          INTEGER NOT NULL,
    provider      TEXT NOT NULL,
    status        TEXT NOT NULL,
    started       REAL NOT NULL,
    pid           INTEGER,
    t             REAL,
    text          TEXT,
    finish_reason TEXT,
    usage         TEXT,
    metrics       TEXT,
    error         TEXT,
    chunks        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (session_id, turn, provider)
);
CREATE INDEX runs_streaming ON runs (pid) WHERE status = 'streaming';
CREATE TABLE chunks (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    idx    INTEGER NOT NULL,
    t      REAL NOT NULL,
    text   TEXT NOT NULL,
    extra  TEXT,
    PRIMARY KEY (run_id, idx)
) WITHOUT ROWID;
"""

#: The savepoint a nested ``transaction`` opens; SQLite allows the same name to nest.
_SAVEPOINT: Final = "llmstream_nested"

#: SQLite's primary result codes for a file whose pages are damaged: SQLITE_CORRUPT and
#: SQLITE_NOTADB (a page 1 gone bad after the file was opened).
_DAMAGE_CODES: Final = frozenset({11, 26})

#: Files this process found damaged -> what their ``os.stat`` said then. A file replaced or
#: changed since (``history --repair``) is tried again.
_DAMAGED: dict[str, tuple[tuple[int, int, int, int], str]] = {}


def default_path() -> Path:
    """Where the history lives unless a path is given: ``<data dir>/history.sqlite3``."""
    return data_dir() / FILE_NAME


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """The one way to write: everything in the block commits together or not at all.

    Outermost use runs ``BEGIN IMMEDIATE`` (the write lock is taken up front, so a second
    writer waits up to the connection's timeout at the start instead of failing half-way)
    and ``COMMIT``. Inside another ``transaction`` on the same connection it opens a
    savepoint instead: an exception leaving the inner block undoes the inner block's writes
    only, and the outer transaction goes on if the caller catches it; nothing is durable
    until the outermost block commits. Any exception (``KeyboardInterrupt`` included)
    rolls back and propagates.
    """
    if conn.in_transaction:
        conn.execute(f"SAVEPOINT {_SAVEPOINT}")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled everything back (disk full)
                conn.execute(f"ROLLBACK TO {_SAVEPOINT}")
                conn.execute(f"RELEASE {_SAVEPOINT}")
            raise
        conn.execute(f"RELEASE {_SAVEPOINT}")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:  # a failed COMMIT or a disk error may have ended it already
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def is_damage(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` says the file's pages are damaged (rather than locked, full, read-only)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _DAMAGE_CODES


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def damaged_message(path: Path, exc: sqlite3.Error | str) -> str:
    """The one line a damaged history file is reported with, naming the way out."""
    return f"history database {path} is damaged: {exc}; run llmstream-tui history --repair"


def mark_damaged(path: Path, exc: sqlite3.Error | str) -> RecordingError:
    """Remember that ``path`` is damaged (no more writes to it from this process) and return
    the error to raise."""
    message = damaged_message(path, exc)
    ident = _identity(path)
    if ident is not None:
        _DAMAGED[str(path)] = (ident, message)
    return RecordingError(message)


def damage_of(path: Path) -> RecordingError | None:
    """The error to refuse a write with if this process found ``path`` damaged and it is
    still the same file; None once it was replaced or changed (repaired), or never damaged.
    Costs a dict lookup when nothing was ever damaged (it runs before every batch)."""
    if not _DAMAGED:
        return None
    seen = _DAMAGED.get(str(path))
    if seen is None:
        return None
    if _identity(path) != seen[0]:
        del _DAMAGED[str(path)]
        return None
    return RecordingError(seen[1])


def read_error(path: Path, exc: sqlite3.Error) -> RecordingError:
    """A ``sqlite3`` error met while reading or managing the history, as one line."""
    if is_damage(exc):
        return mark_damaged(path, exc)
    return RecordingError(f"{path}: the history database failed: {exc}")


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the history database at ``path``; RecordingError with one
    line if the file is not a history database or a newer one. Never rewrites a foreign file.

    ``check_same_thread=False``: a ``HistoryWriter`` is built in the caller's thread and used
    by the recorder's writer thread (never by two at once).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RecordingError(
            f"{path.parent}: cannot create the data directory: {exc.strerror}"
        ) from None
    try:
        conn = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise RecordingError(f"{path}: cannot open the history database: {exc}") from None
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        _ensure_schema(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        if is_damage(exc) and getattr(exc, "sqlite_errorcode", 0) & 0xFF == 11:
            raise mark_damaged(path, exc) from None
        raise RecordingError(
            f"{path}: not a usable history database ({exc}); left untouched"
        ) from None
    except RecordingError:
        conn.close()
        raise
    return conn


def connect_readonly(path: Path) -> sqlite3.Connection:
    """Open an existing history database for reading where ``connect`` cannot: a file or
    folder the user cannot write (a backup, a read-only mount), a full disk. Tried in turn:

    1. ``mode=ro``: a read-only connection (reads the ``-wal`` beside the file, if any);
    2. ``locking_mode=EXCLUSIVE`` set before the first read: SQLite then keeps the WAL
       index in memory instead of the ``-shm`` file, which a crashed run leaves stale and
       which cannot be rebuilt without free space (this one holds the file's lock until it
       is closed: writers wait meanwhile);
    3. ``immutable=1``: the main file alone, nothing written at all (a ``-wal`` is ignored).

    An attempt that reads no history schema while a ``-wal`` holds data (everything may
    still be in it) gives way to the next. RecordingError with one line if none can read
    the file as a history database."""
    uri = "file:" + quote(str(path.absolute()))
    wal = path.with_name(path.name + "-wal")
    attempts: tuple[tuple[str, bool], ...] = (
        ("?mode=ro", False),
        ("", True),
        ("?mode=ro&immutable=1", False),
    )
    last: sqlite3.Error | str = "no attempt"
    for params, exclusive in attempts:
        try:
            conn = sqlite3.connect(
                uri + params, uri=True, timeout=10, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            last = exc
            continue
        try:
            if exclusive:
                conn.execute("PRAGMA locking_mode = EXCLUSIVE")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            conn.close()
            last = exc
            continue
        if version == SCHEMA_VERSION:
            return conn
        conn.close()
        if version == 0 and wal.is_file() and wal.stat().st_size > 0:
            last = "its -wal file could not be read"
            continue
        raise RecordingError(
            f"{path}: history database version {version}, but this llmstream-tui reads "
            f"{SCHEMA_VERSION}; left untouched"
        )
    raise RecordingError(f"{path}: cannot open the history database: {last}")


def _ensure_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Create the schema in an empty file; refuse a newer version or another program's
    database. The version is read again under the write lock: two processes opening a new
    file at once create the schema once."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise RecordingError(
            f"{path}: history database version {version} is newer than this "
            f"llmstream-tui reads ({SCHEMA_VERSION})"
        )
    with transaction(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables:
                raise RecordingError(
                    f"{path}: an SQLite database, but not an llmstream-tui history; left untouched"
                )
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


# -- crash recovery ----------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # os.kill would terminate the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dead_runs(conn: sqlite3.Connection) -> list[int]:
    """Runs left ``streaming`` by a process that is gone: what ``recover`` marks."""
    rows = conn.execute("SELECT id, pid FROM runs WHERE status = 'streaming'").fetchall()
    return [rid for rid, pid in rows if pid is None or not _pid_alive(pid)]


def recover(conn: sqlite3.Connection) -> int:
    """Mark runs left ``streaming`` by a dead process as ``interrupted``, with the text of
    their saved chunks. Returns how many were recovered. A run whose process still lives
    (another app streaming now) is left alone, and so is one finished meanwhile."""
    dead = dead_runs(conn)
    if not dead:
        return 0
    with transaction(conn):
        for rid in dead:
            count, t = conn.execute(
                "SELECT count(*), max(t) FROM chunks WHERE run_id = ?", (rid,)
            ).fetchone()
            conn.execute(
                "UPDATE runs SET status = 'interrupted', text = ?, chunks = ?, t = ? "
                "WHERE id = ? AND status = 'streaming'",
                (saved_text(conn, rid), count, t, rid),
            )
    return len(dead)


def saved_text(conn: sqlite3.Connection, run_id: int) -> str:
    """The answer text of a run's saved chunks (text and refusal channels): what a run that
    never reached its end line has to show."""
    return "".join(
        text
        for text, extra in conn.execute(
            "SELECT text, extra FROM chunks WHERE run_id = ? ORDER BY idx", (run_id,)
        )
        if extra is None or json.loads(extra).get("channel") in (None, "refusal")
    )


# -- JSON columns ------------------------------------------------------------------------------


def load_json(value: str | None) -> Any:
    """A JSON column's value; NULL and '' are None."""
    return json.loads(value) if value else None


def dump_json(value: Any) -> str | None:
    """A value for a JSON column; None stays NULL. Non-JSON values (a datetime in metadata)
    are stored as their ``str`` rather than failing the batch."""
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


__all__ = [
    "FILE_NAME",
    "SCHEMA_VERSION",
    "connect",
    "connect_readonly",
    "damage_of",
    "damaged_message",
    "dead_runs",
    "default_path",
    "dump_json",
    "is_damage",
    "load_json",
    "mark_damaged",
    "read_error",
    "recover",
    "saved_text",
    "transaction",
]
