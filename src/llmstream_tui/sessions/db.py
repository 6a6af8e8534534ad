"""The history database file: where it lives, its schema, opening it, and writing to it.

``<data dir>/history.sqlite3`` (``$LLMSTREAM_DATA_DIR`` moves it), stdlib ``sqlite3`` in WAL
mode with ``synchronous=NORMAL``: a committed transaction survives the process being killed
(SIGKILL included), and readers (the history screen, ``llmstream-tui history``) never wait
for the writer.

Schema (version 2, in ``PRAGMA user_version``)::

    sessions      id, uid, title, created, updated, providers (names, for listing), turns
    providers     session_id, name, settings (the recording's provider line: never a key)
    turns         session_id, seq, prompt, created
    runs          session_id, turn, provider, status (streaming|done|error|cancelled|
                  interrupted), started, pid, t, text, finish_reason, usage, metrics,
                  error, chunks
    chunk_batches run_id, first, count, texts, lengths, times, start_ns, extras: a run's
                  chunks ``first`` .. ``first + count - 1``, about a page (``ROW_BYTES``)
                  per row
    comparisons   session_id, summary: a session that is a ``compare`` run (each counted
                  request a turn and its run), with its ``summary.json`` content
                  (``compare_history.py``)

A batch row holds its chunks' texts joined (``texts``) with their lengths in code points
(``lengths``, int32 little-endian; NULL for a row of one chunk), their times (``times``)
and what rides on some of them (``extras``: NULL, or a JSON array of ``[offset, {channel,
tool_call, metadata, usage}]`` pairs). ``times`` is the recorder's own clock when
``start_ns`` is set (int64 ``perf_counter_ns`` stamps: a chunk's time is ``round((ns -
start_ns) / 1e9, 6)``, computed on reading exactly as the recording file computes it),
else float64 seconds as the chunk lines gave them: exact either way, bit for bit. One row
per batch instead of one per chunk: storing 200,000 chunks costs SQLite about a tenth of
the CPU (``bench/README.md``, section cli), and a page lost to damage loses about the
chunks it held, as before. ``decode_batch`` reads a row back.

Version 1 stored one ``chunks`` row per chunk (``run_id, idx, t, text, extra``). Opening a
version 1 file for writing converts it in one transaction (``_migrate_v1``: a crash
midway leaves it version 1); a version 1 file opened read-only is read as it is, through a
temporary view that shows each of its chunks as a batch of one (``_V1_VIEW``).

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

import array
import itertools
import json
import os
import sqlite3
import struct
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from ..errors import RecordingError
from ..locations import data_dir

FILE_NAME: Final = "history.sqlite3"
SCHEMA_VERSION: Final = 2
#: The versions this code reads (older ones are converted when the file can be written).
READABLE_VERSIONS: Final = frozenset({1, 2})

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
-- a rowid table: a row of up to a page stays on its leaf page (a WITHOUT ROWID table
-- keeps at most about 1 KB there and spills the rest to overflow pages)
CREATE TABLE chunk_batches (
    run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    first    INTEGER NOT NULL,
    count    INTEGER NOT NULL,
    texts    TEXT NOT NULL,
    lengths  BLOB,
    times    BLOB NOT NULL,
    start_ns INTEGER,
    extras   TEXT,
    PRIMARY KEY (run_id, first)
);
CREATE TABLE comparisons (
    session_id INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    summary    TEXT NOT NULL
);
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
        if version in READABLE_VERSIONS:
            try:
                if version == 1:
                    conn.execute(_V1_VIEW)
                    conn.execute(_V1_COMPARISONS)
            except sqlite3.Error as exc:
                conn.close()
                last = exc
                continue
            return conn
        conn.close()
        if version == 0 and wal.is_file() and wal.stat().st_size > 0:
            last = "its -wal file could not be read"
            continue
        if version > SCHEMA_VERSION:
            raise RecordingError(_newer(path, version))
        raise RecordingError(
            f"{path}: history database version {version}, but this llmstream-tui reads "
            f"versions 1 to {SCHEMA_VERSION}; left untouched"
        )
    raise RecordingError(f"{path}: cannot open the history database: {last}")


def _newer(path: Path, version: int) -> str:
    return (
        f"{path}: history database version {version} is newer than this llmstream-tui "
        f"reads ({SCHEMA_VERSION}); left untouched (upgrade llmstream-tui to use it)"
    )


def _ensure_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Create the schema in an empty file, convert a version 1 file; refuse a newer
    version or another program's database. The version is read again under the write
    lock: two processes opening a new (or a version 1) file at once do the work once."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise RecordingError(_newer(path, version))
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
        elif version == 1:
            _migrate_v1(conn)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


# -- version 1 -----------------------------------------------------------------------------------

#: A version 1 file read without converting it (read-only): its chunks shown as batches of
#: one, in the columns ``decode_batch`` reads (a REAL ``times``, no ``lengths``). A
#: temporary view: nothing is written to the file.
_V1_VIEW: Final = (
    "CREATE TEMP VIEW IF NOT EXISTS chunk_batches AS SELECT run_id, idx AS first, "
    "1 AS count, text AS texts, NULL AS lengths, t AS times, NULL AS start_ns, "
    "CASE WHEN extra IS NULL THEN NULL ELSE '[[0,' || extra || ']]' END AS extras "
    "FROM main.chunks"
)


#: Version 1 had no comparisons: an empty temporary table, so reading needs no second path.
_V1_COMPARISONS: Final = (
    "CREATE TEMP TABLE IF NOT EXISTS comparisons "
    "(session_id INTEGER PRIMARY KEY, summary TEXT NOT NULL)"
)


def _migrate_v1(conn: sqlite3.Connection) -> None:
    """Version 1 to 2, inside the caller's transaction: the ``chunks`` rows regrouped into
    batch rows (each run's consecutive chunks, in order; a gap in the numbers, left by a
    repair, starts a new row), then the old table dropped. Read through one cursor: a
    million-chunk history converts in constant memory."""
    for statement in _SCHEMA[_SCHEMA.index("CREATE TABLE chunk_batches") :].split(";"):
        if statement.strip():
            conn.execute(statement)
    grouper = BatchGrouper(conn)
    for run_id, idx, t, text, extra in conn.execute(
        "SELECT run_id, idx, t, text, extra FROM chunks ORDER BY run_id, idx"
    ):
        grouper.add(run_id, idx, t, text, json.loads(extra) if extra else None)
    grouper.flush()
    conn.execute("DROP TABLE chunks")


# -- batch rows ----------------------------------------------------------------------------------

#: About how many bytes of payload a batch row is cut to: what fits a 4 KiB page's leaf
#: (a chunk counts its characters and 12 bytes of length and time).
ROW_BYTES: Final = 3800
_PER_CHUNK_BYTES: Final = 12
#: Rows per INSERT statement (8 parameters each: under SQLite's 32,766).
_ROWS_PER_STATEMENT: Final = 1000
#: A batch row: run_id, first, count, texts, lengths, times, start_ns, extras.
BatchRow = tuple[int, int, int, str, bytes | None, bytes, int | None, str | None]
_COLUMNS: Final = "run_id, first, count, texts, lengths, times, start_ns, extras"
_LITTLE: Final = sys.byteorder == "little"


def _packed(code: str, values: Sequence[float] | Sequence[int]) -> bytes:
    """``values`` as little-endian ``code`` items (``struct``: about half the CPU of an
    ``array`` built from a list, which parses each item as an argument)."""
    return struct.pack(f"<{len(values)}{code}", *values)


def _unpacked(code: str, blob: bytes) -> array.array[Any]:
    values = array.array(code)
    values.frombytes(blob)
    if not _LITTLE:
        values.byteswap()
    return values


def _cuts(texts: Sequence[str], joined: int) -> int:
    """How many chunks go in a row: rows of about ``ROW_BYTES`` (``joined``: the texts'
    characters), the same number of chunks in each, cut without walking the texts."""
    n = len(texts)
    rows = max(1, -(-(joined + _PER_CHUNK_BYTES * n) // ROW_BYTES))
    return -(-n // rows)


def _row_texts(texts: Sequence[str], per: int) -> Iterator[tuple[int, int, str, bytes | None]]:
    """(start, end, joined text, lengths) of each row's slice of ``texts``."""
    n = len(texts)
    for a in range(0, n, per):
        b = min(n, a + per)
        part = texts[a:b]
        lengths = _packed("i", list(map(len, part))) if b - a > 1 else None
        yield a, b, "".join(part), lengths


def stamped_rows(
    run_id: int, first: int, texts: Sequence[str], stamps: Sequence[int], start_ns: int
) -> list[BatchRow]:
    """Rows for a recorder's batch of plain answer text: its ``perf_counter_ns`` stamps
    kept as they are (the times are computed on reading). Per chunk no Python bytecode
    runs: lengths, joins and packing are C loops."""
    per = _cuts(texts, len("".join(texts)))
    return [
        (run_id, first + a, b - a, joined, lengths, _packed("q", stamps[a:b]), start_ns, None)
        for a, b, joined, lengths in _row_texts(texts, per)
    ]


def timed_rows(
    run_id: int,
    first: int,
    texts: Sequence[str],
    times: Sequence[float],
    extras: Sequence[tuple[int, Mapping[str, Any]]] = (),
) -> list[BatchRow]:
    """Rows for chunks that came with their times (recording ``chunk`` lines, a version 1
    file): float64 seconds, and ``extras`` as ``(offset from first, extra)`` pairs."""
    per = _cuts(texts, sum(map(len, texts)))
    by_row: dict[int, list[list[Any]]] = {}
    for offset, extra in extras:
        by_row.setdefault(offset // per, []).append([offset % per, extra])
    rows: list[BatchRow] = []
    for a, b, joined, lengths in _row_texts(texts, per):
        pairs = by_row.get(a // per)
        extra_json = dump_json(pairs) if pairs else None
        rows.append(
            (run_id, first + a, b - a, joined, lengths, _packed("d", times[a:b]), None, extra_json)
        )
    return rows


def insert_batches(conn: sqlite3.Connection, rows: Sequence[BatchRow]) -> None:
    """Insert batch rows: one statement per thousand rows (a frame's or a flush's text is
    one INSERT). ``OR REPLACE``: a row is keyed by its run and first chunk, and only the
    writer that made the run writes its rows."""
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        part = rows[start : start + _ROWS_PER_STATEMENT]
        marks = ",".join(["(?,?,?,?,?,?,?,?)"] * len(part))
        conn.execute(
            f"INSERT OR REPLACE INTO chunk_batches ({_COLUMNS}) VALUES {marks}",
            list(itertools.chain.from_iterable(part)),
        )


class BatchGrouper:
    """Chunks given one at a time (a run's, in order) gathered into batch rows: a new row
    at another run, a gap in the numbers, or ``limit`` chunks. For converting a version 1
    file and for a repair; the streaming path builds its rows whole (``stamped_rows``)."""

    def __init__(self, conn: sqlite3.Connection, limit: int = 4096) -> None:
        self.conn = conn
        self.limit = limit
        self.count = 0
        self._run = -1
        self._first = 0
        self._texts: list[str] = []
        self._times: list[float] = []
        self._extras: list[tuple[int, Mapping[str, Any]]] = []

    def add(
        self, run_id: int, idx: int, t: float, text: str, extra: Mapping[str, Any] | None
    ) -> None:
        texts = self._texts
        if texts and (
            run_id != self._run or idx != self._first + len(texts) or len(texts) >= self.limit
        ):
            self.flush()
            texts = self._texts
        if not texts:
            self._run, self._first = run_id, idx
        if extra:
            self._extras.append((len(texts), extra))
        texts.append(text)
        self._times.append(t)
        self.count += 1

    def flush(self) -> None:
        if self._texts:
            insert_batches(
                self.conn,
                timed_rows(self._run, self._first, self._texts, self._times, self._extras),
            )
        self._texts, self._times, self._extras = [], [], []


def decode_batch(
    count: int,
    texts: str,
    lengths: bytes | None,
    times: bytes | float,
    start_ns: int | None,
    extras: str | None,
) -> tuple[list[str], list[float], dict[int, dict[str, Any]]]:
    """A batch row's chunks: (texts, times, extras by offset). A row whose values do not
    hold ``count`` chunks (damage SQLite could not see) is a ``sqlite3.DatabaseError``, as
    a damaged page is."""
    try:
        if lengths is None:
            pieces = [texts]
        else:
            ends = list(itertools.accumulate(_unpacked("i", lengths)))
            pieces = [texts[a:b] for a, b in zip([0, *ends], ends, strict=False)]
        if not isinstance(times, bytes):  # a version 1 row read through _V1_VIEW
            seconds = [float(times)]
        elif start_ns is None:
            seconds = list(_unpacked("d", times))
        else:
            seconds = [round((ns - start_ns) / 1e9, 6) for ns in _unpacked("q", times)]
        found: dict[int, dict[str, Any]] = {}
        if extras:
            found = {int(offset): dict(extra) for offset, extra in json.loads(extras)}
    except (ValueError, TypeError, RecursionError):
        raise sqlite3.DatabaseError("a chunk batch row is not readable") from None
    if len(pieces) != count or len(seconds) != count or sum(map(len, pieces)) != len(texts):
        raise sqlite3.DatabaseError(f"a chunk batch row does not hold its {count} chunks")
    return pieces, seconds, found


def _last_time(times: bytes | float, start_ns: int | None) -> float | None:
    """The latest time of a row (times only grow, but the latest is taken, as v1's max)."""
    if not isinstance(times, bytes):
        return float(times)
    if start_ns is None:
        values = _unpacked("d", times)
        return max(values) if values else None
    stamps = _unpacked("q", times)
    return round((max(stamps) - start_ns) / 1e9, 6) if stamps else None


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
            count, t = saved_count(conn, rid)
            conn.execute(
                "UPDATE runs SET status = 'interrupted', text = ?, chunks = ?, t = ? "
                "WHERE id = ? AND status = 'streaming'",
                (saved_text(conn, rid), count, t, rid),
            )
    return len(dead)


def saved_count(conn: sqlite3.Connection, run_id: int) -> tuple[int, float | None]:
    """How many chunks of a run reached the disk, and the latest one's time (None: none)."""
    count = 0
    latest: float | None = None
    for n, times, start_ns in conn.execute(
        "SELECT count, times, start_ns FROM chunk_batches WHERE run_id = ?", (run_id,)
    ):
        count += n
        t = _last_time(times, start_ns)
        if t is not None and (latest is None or t > latest):
            latest = t
    return count, latest


def saved_text(conn: sqlite3.Connection, run_id: int) -> str:
    """The answer text of a run's saved chunks (text and refusal channels): what a run that
    never reached its end line has to show. A row with no extras is all answer text: its
    ``texts`` column is the text, unsplit."""
    out: list[str] = []
    for count, texts, lengths, times, start_ns, extras in conn.execute(
        "SELECT count, texts, lengths, times, start_ns, extras FROM chunk_batches "
        "WHERE run_id = ? ORDER BY first",
        (run_id,),
    ):
        if extras is None:
            out.append(texts)
            continue
        pieces, _, found = decode_batch(count, texts, lengths, times, start_ns, extras)
        out += (
            text
            for i, text in enumerate(pieces)
            if i not in found or found[i].get("channel") in (None, "refusal")
        )
    return "".join(out)


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
    "READABLE_VERSIONS",
    "ROW_BYTES",
    "SCHEMA_VERSION",
    "BatchGrouper",
    "BatchRow",
    "connect",
    "connect_readonly",
    "damage_of",
    "damaged_message",
    "dead_runs",
    "decode_batch",
    "default_path",
    "dump_json",
    "is_damage",
    "load_json",
    "mark_damaged",
    "insert_batches",
    "read_error",
    "recover",
    "saved_count",
    "saved_text",
    "stamped_rows",
    "timed_rows",
    "transaction",
]
