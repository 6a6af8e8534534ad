"""The history database: every session, saved as it happens, in SQLite.

``<data dir>/history.sqlite3`` (``$LLMSTREAM_DATA_DIR`` moves it), stdlib ``sqlite3`` in WAL
mode with ``synchronous=NORMAL``: a committed batch survives the process being killed
(SIGKILL included), and readers (the history screen, ``llmstream-tui history``) never wait
for the writer. Nothing here runs on the hot path: ``SessionRecorder`` queues recording
lines and a writer thread hands them to ``HistoryWriter.apply`` every ~50 ms, one
transaction per batch.

Schema (version 1, in ``PRAGMA user_version``)::

    sessions   id, uid, title, created, updated, providers (names, for listing), turns
    providers  session_id, name, settings (the recording's provider line: never a key)
    turns      session_id, seq, prompt, created
    runs       session_id, turn, provider, status (streaming|done|error|cancelled|interrupted),
               started, pid, t, text, finish_reason, usage, metrics, error, chunks
    chunks     run_id, idx, t (seconds since the run started), text, extra (channel, tool call)

A run still ``streaming`` whose process is gone (killed, crashed) becomes ``interrupted`` the
next time the database is opened, with the text of the chunks that reached the disk.
Listing is keyset-paged on an index of ``(updated, id)``: the first page of 10,000 sessions
costs what the first page of 100 does. Search is a case-insensitive substring match
(``LIKE``) over titles, prompts and answers.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Self

from ..errors import RecordingError
from ..locations import data_dir

FILE_NAME: Final = "history.sqlite3"
SCHEMA_VERSION: Final = 1
#: Characters of the first prompt kept as a session's title.
TITLE_CHARS: Final = 200

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

_CHUNK_KEYS: Final = frozenset({"type", "provider", "index", "t", "text"})
#: A recorder's batch of answer-text chunks in one statement: SQLite walks the JSON array
#: itself, so the Python thread (and the GIL) spends one ``json`` encode per batch, not a
#: row binding per chunk; the ``sqlite3`` module lets go of the GIL while the statement runs.
_INSERT_BATCH: Final = (
    "INSERT OR REPLACE INTO chunks (run_id, idx, t, text, extra) "
    "SELECT ?1, ?2 + k / 2, round((ns - ?3) / 1e9, 6), v, NULL FROM "
    "(SELECT key AS k, value AS v, lead(value) OVER (ORDER BY key) AS ns FROM json_each(?4)) "
    "WHERE k % 2 = 0"
)
_PAIRS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
#: How a session's status is summarised from its runs' statuses, first match wins.
_STATUS_ORDER: Final = ("streaming", "error", "interrupted", "cancelled", "done")


def default_path() -> Path:
    return data_dir() / FILE_NAME


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the history database at ``path``; RecordingError with one
    line if the file is not a history database or a newer one. Never rewrites a foreign file.
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
        raise RecordingError(
            f"{path}: not a usable history database ({exc}); left untouched"
        ) from None
    except RecordingError:
        conn.close()
        raise
    return conn


def _ensure_schema(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise RecordingError(
            f"{path}: history database version {version} is newer than this "
            f"llmstream-tui reads ({SCHEMA_VERSION})"
        )
    conn.execute("BEGIN IMMEDIATE")
    try:
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
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


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


def _recover(conn: sqlite3.Connection) -> int:
    """Mark runs left ``streaming`` by a dead process as ``interrupted``, with the text of
    their saved chunks. Returns how many were recovered."""
    rows = conn.execute("SELECT id, pid FROM runs WHERE status = 'streaming'").fetchall()
    dead = [rid for rid, pid in rows if pid is None or not _pid_alive(pid)]
    if not dead:
        return 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        for rid in dead:
            count, t = conn.execute(
                "SELECT count(*), max(t) FROM chunks WHERE run_id = ?", (rid,)
            ).fetchone()
            text = _saved_text(conn, rid)
            conn.execute(
                "UPDATE runs SET status = 'interrupted', text = ?, chunks = ?, t = ? "
                "WHERE id = ? AND status = 'streaming'",
                (text, count, t, rid),
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return len(dead)


def _saved_text(conn: sqlite3.Connection, run_id: int) -> str:
    """The answer text of a run's saved chunks (text and refusal channels)."""
    return "".join(
        text
        for text, extra in conn.execute(
            "SELECT text, extra FROM chunks WHERE run_id = ? ORDER BY idx", (run_id,)
        )
        if extra is None or json.loads(extra).get("channel") in (None, "refusal")
    )


def _loads(value: str | None) -> Any:
    return json.loads(value) if value else None


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


# -- records -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One row of the history list."""

    id: int
    uid: str
    title: str
    created: float
    updated: float
    providers: list[str]
    turns: int
    #: streaming | error | interrupted | cancelled | done | empty
    status: str

    @property
    def page_key(self) -> tuple[float, int]:
        """Pass as ``before=`` to get the page after this row."""
        return (self.updated, self.id)


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One provider answering one turn."""

    id: int
    turn: int
    provider: str
    status: str
    started: float
    t: float | None
    text: str
    finish_reason: str | None
    usage: dict[str, Any] | None
    metrics: dict[str, Any] | None
    error: dict[str, Any] | None
    chunks: int


@dataclass(frozen=True, slots=True)
class ProviderRecord:
    name: str
    #: The recording's ``provider`` line (kind, model, base_url, api_key_env, params, options).
    settings: dict[str, Any]

    def table(self) -> dict[str, Any]:
        """A provider table for ``build_llm`` that rebuilds this provider (keys come from the
        environment as usual; header values were never saved)."""
        s = self.settings
        table: dict[str, Any] = {k: v for k, v in (s.get("options") or {}).items()}
        table.update(kind=s.get("kind"), model=s.get("model") or "")
        for key in ("base_url", "api_key_env"):
            if s.get(key):
                table[key] = s[key]
        if s.get("params"):
            table["params"] = dict(s["params"])
        return table


@dataclass(slots=True)
class SessionRecord:
    """A whole session, for reopening or exporting (chunks are read separately, lazily).
    A run still streaming (in another process) has the text of the chunks saved so far."""

    id: int
    uid: str
    title: str
    created: float
    updated: float
    prompts: list[str]
    providers: list[ProviderRecord]
    runs: list[RunRecord] = field(default_factory=list)

    def run(self, provider: str, turn: int) -> RunRecord | None:
        for r in self.runs:
            if r.provider == provider and r.turn == turn:
                return r
        return None

    def messages(self, provider: str) -> list[dict[str, str]]:
        """The conversation as ``provider`` saw it, ready to continue: user prompts and that
        provider's answers (partial ones included), ``{"role", "content"}`` dicts."""
        out: list[dict[str, str]] = []
        for turn, prompt in enumerate(self.prompts):
            out.append({"role": "user", "content": prompt})
            run = self.run(provider, turn)
            if run is not None and run.text:
                out.append({"role": "assistant", "content": run.text})
        return out


# -- the database ------------------------------------------------------------------------------


class History:
    """Reading and managing the history database (listing, search, load, delete, export).

    Opening recovers runs interrupted by a dead process. Safe to use from one thread at a
    time; writers use their own ``HistoryWriter`` connection.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._conn = connect(self.path)
        self._lock = threading.Lock()
        try:
            self.recovered = _recover(self._conn)
        except sqlite3.Error as exc:
            self._conn.close()
            raise RecordingError(f"{self.path}: cannot recover interrupted runs: {exc}") from None

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def writer(self, session: str | None = None) -> HistoryWriter:
        return HistoryWriter(self.path, session)

    # -- listing ---------------------------------------------------------------------------

    def list_sessions(
        self,
        *,
        limit: int = 50,
        before: tuple[float, int] | None = None,
        offset: int = 0,
        search: str | None = None,
    ) -> list[SessionSummary]:
        """Newest first. Page with ``before=last_row.page_key`` (keyset: constant cost per
        page) or ``offset``. ``search`` keeps sessions whose title, a prompt or an answer
        contains it (case-insensitive for ASCII)."""
        where: list[str] = []
        args: dict[str, Any] = {"limit": limit, "offset": offset}
        if before is not None:
            where.append("(s.updated < :updated OR (s.updated = :updated AND s.id < :id))")
            args.update(updated=before[0], id=before[1])
        if search:
            args["pattern"] = (
                "%" + (search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")) + "%"
            )
            where.append(
                "(s.title LIKE :pattern ESCAPE '\\' "
                "OR EXISTS (SELECT 1 FROM turns u WHERE u.session_id = s.id "
                "AND u.prompt LIKE :pattern ESCAPE '\\') "
                "OR EXISTS (SELECT 1 FROM runs r WHERE r.session_id = s.id "
                "AND r.text LIKE :pattern ESCAPE '\\'))"
            )
        sql = (
            "SELECT s.id, s.uid, s.title, s.created, s.updated, s.providers, s.turns, "
            "(SELECT group_concat(DISTINCT r.status) FROM runs r WHERE r.session_id = s.id) "
            "FROM sessions s"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY s.updated DESC, s.id DESC LIMIT :limit OFFSET :offset"
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [
            SessionSummary(
                id=r[0],
                uid=r[1],
                title=r[2],
                created=r[3],
                updated=r[4],
                providers=[p for p in r[5].split("\n") if p],
                turns=r[6],
                status=_summary_status(r[7]),
            )
            for r in rows
        ]

    def count_sessions(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM sessions").fetchone()[0])

    # -- one session -----------------------------------------------------------------------

    def resolve(self, ref: int | str) -> int:
        """A session's id from its id or (a unique prefix of) its uid; RecordingError if none."""
        with self._lock:
            if isinstance(ref, int) or ref.isdigit():
                row = self._conn.execute(
                    "SELECT id FROM sessions WHERE id = ?", (int(ref),)
                ).fetchone()
                if row:
                    return int(row[0])
            # A uid prefix may be all digits too (its hex often is): try it as one.
            if isinstance(ref, str) and ref:
                rows = self._conn.execute(
                    "SELECT id FROM sessions WHERE uid >= ? AND uid < ? LIMIT 2",
                    (ref, ref + "\uffff"),
                ).fetchall()
                if len(rows) == 1:
                    return int(rows[0][0])
                if len(rows) > 1:
                    raise RecordingError(f"session {ref!r} is ambiguous: give more of its id")
        raise RecordingError(f"no session {ref!r} in the history ({self.path})")

    def load(self, ref: int | str) -> SessionRecord:
        """A session with its prompts, providers and runs (not their chunks)."""
        sid = self.resolve(ref)
        with self._lock:
            c = self._conn
            s = c.execute(
                "SELECT id, uid, title, created, updated FROM sessions WHERE id = ?", (sid,)
            ).fetchone()
            prompts = [
                r[0]
                for r in c.execute(
                    "SELECT prompt FROM turns WHERE session_id = ? ORDER BY seq", (sid,)
                )
            ]
            providers = [
                ProviderRecord(r[0], json.loads(r[1]))
                for r in c.execute(
                    "SELECT name, settings FROM providers WHERE session_id = ? ORDER BY id", (sid,)
                )
            ]
            runs = [
                RunRecord(
                    id=r[0],
                    turn=r[1],
                    provider=r[2],
                    status=r[3],
                    started=r[4],
                    t=r[5],
                    text=(r[6] or "") if r[3] != "streaming" else _saved_text(c, r[0]),
                    finish_reason=r[7],
                    usage=_loads(r[8]),
                    metrics=_loads(r[9]),
                    error=_loads(r[10]),
                    chunks=r[11],
                )
                for r in c.execute(
                    "SELECT id, turn, provider, status, started, t, text, finish_reason, usage, "
                    "metrics, error, chunks FROM runs WHERE session_id = ? ORDER BY turn, id",
                    (sid,),
                )
            ]
        return SessionRecord(
            id=s[0],
            uid=s[1],
            title=s[2],
            created=s[3],
            updated=s[4],
            prompts=prompts,
            providers=providers,
            runs=runs,
        )

    def iter_chunks(self, run_id: int, *, batch: int = 2048) -> Iterator[dict[str, Any]]:
        """A run's chunks as recording ``chunk`` lines (without ``provider``), in order,
        read in pages so a huge run costs constant memory."""
        after = -1
        while True:
            with self._lock:
                rows = self._conn.execute(
                    "SELECT idx, t, text, extra FROM chunks WHERE run_id = ? AND idx > ? "
                    "ORDER BY idx LIMIT ?",
                    (run_id, after, batch),
                ).fetchall()
            for idx, t, text, extra in rows:
                line: dict[str, Any] = {"index": idx, "t": t, "text": text}
                if extra:
                    line.update(json.loads(extra))
                yield line
            if len(rows) < batch:
                return
            after = rows[-1][0]

    def delete(self, ref: int | str) -> bool:
        """Delete a session and everything in it; False if there was none."""
        try:
            sid = self.resolve(ref)
        except RecordingError:
            return False
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute("DELETE FROM sessions WHERE id = ?", (sid,))
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        return True

    def export_lines(self, ref: int | str) -> Iterator[dict[str, Any]]:
        """The session as a recording (header first), streamed: ``write_recording`` or
        ``dump_line`` each. Runs are written one after another, turn by turn."""
        from ..core.recording import header

        record = self.load(ref)
        yield header(session=record.uid, title=record.title)
        for p in record.providers:
            yield {"type": "provider", "provider": p.name, **p.settings}
        for turn, prompt in enumerate(record.prompts):
            yield {"type": "prompt", "turn": turn, "text": prompt}
            for run in record.runs:
                if run.turn != turn:
                    continue
                yield {"type": "run", "provider": run.provider, "turn": turn}
                for chunk in self.iter_chunks(run.id):
                    yield {"type": "chunk", "provider": run.provider, **chunk}
                yield from _closing_line(run)


def _closing_line(run: RunRecord) -> Iterator[dict[str, Any]]:
    if run.status == "done":
        yield {
            "type": "end",
            "provider": run.provider,
            "t": run.t,
            "text": run.text,
            "finish_reason": run.finish_reason,
            "usage": run.usage,
            "metrics": run.metrics,
        }
    elif run.status in ("error", "cancelled"):
        yield {
            "type": "error",
            "provider": run.provider,
            "t": run.t,
            "text": run.text,
            "error": run.error,
            "metrics": run.metrics,
        }
    # streaming / interrupted: no closing line, as in a recording cut short


def _summary_status(statuses: str | None) -> str:
    if not statuses:
        return "empty"
    found = set(statuses.split(","))
    for status in _STATUS_ORDER:
        if status in found:
            return status
    return "done"


# -- writing -----------------------------------------------------------------------------------


class HistoryWriter:
    """Applies one session's recording lines to the database, one transaction per batch.

    Owned by a ``SessionRecorder`` writer thread; its own connection, so readers never wait.
    ``session`` continues an existing session (by uid); otherwise a new uid is made and the
    session row appears with the first batch.
    """

    def __init__(self, path: str | Path | None = None, session: str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._conn = connect(self.path)
        self.uid = session or uuid.uuid4().hex
        self.session_id: int | None = None
        self._pid = os.getpid()
        #: provider -> (run rowid, chunks so far) of its current run
        self._runs: dict[str, list[int]] = {}
        self._turn: int | None = None
        #: whether this SQLite can run _INSERT_BATCH (JSON functions are built in since 3.38)
        self._json = True
        if session is not None:
            row = self._conn.execute("SELECT id FROM sessions WHERE uid = ?", (session,)).fetchone()
            if row is None:
                self._conn.close()
                raise RecordingError(f"no session {session!r} in the history ({self.path})")
            self.session_id = int(row[0])

    def close(self) -> None:
        self._conn.close()

    def _session(self, now: float) -> int:
        if self.session_id is None:
            c = self._conn
            c.execute(
                "INSERT INTO sessions (uid, created, updated) VALUES (?, ?, ?) "
                "ON CONFLICT (uid) DO NOTHING",
                (self.uid, now, now),
            )
            self.session_id = int(
                c.execute("SELECT id FROM sessions WHERE uid = ?", (self.uid,)).fetchone()[0]
            )
        return self.session_id

    def apply(self, lines: Iterable[Mapping[str, Any]]) -> None:
        """Store a batch of recording lines (in order) in one transaction."""
        c = self._conn
        now = time.time()
        chunk_rows: list[tuple[int, int, float, str, str | None]] = []
        batches: list[tuple[int, int, int, list[str], list[int]]] = []
        runs = self._runs
        touched = False
        c.execute("BEGIN IMMEDIATE")
        try:
            for obj in lines:
                kind = obj.get("type")
                if kind == "chunk":
                    run = runs.get(obj["provider"])
                    if run is None:
                        continue
                    extra = None
                    if len(obj) > 5:  # more than type, provider, index, t, text
                        extra = _dumps({k: v for k, v in obj.items() if k not in _CHUNK_KEYS})
                    chunk_rows.append((run[0], obj["index"], obj["t"], obj["text"], extra))
                    run[1] += 1
                elif kind == "chunks":  # SessionRecorder's batch of plain answer text
                    run = runs.get(obj["provider"])
                    if run is None:
                        continue
                    batches.append(
                        (run[0], obj["index"], obj["start_ns"], obj["texts"], obj["stamps"])
                    )
                    run[1] += len(obj["texts"])
                elif kind == "run":
                    sid = self._session(now)
                    turn = int(obj.get("turn", 0))
                    provider = obj["provider"]
                    old = c.execute(
                        "SELECT id FROM runs WHERE session_id = ? AND turn = ? AND provider = ?",
                        (sid, turn, provider),
                    ).fetchone()
                    if old is not None:  # the same turn run again (retry): replace it
                        c.execute("DELETE FROM runs WHERE id = ?", (old[0],))
                    cur = c.execute(
                        "INSERT INTO runs (session_id, turn, provider, status, started, pid) "
                        "VALUES (?, ?, ?, 'streaming', ?, ?)",
                        (sid, turn, provider, now, self._pid),
                    )
                    runs[provider] = [int(cur.lastrowid or 0), 0]
                elif kind in ("end", "error"):
                    run = runs.pop(obj["provider"], None)
                    if run is None:
                        continue
                    err = obj.get("error") if kind == "error" else None
                    status = (
                        "done"
                        if kind == "end"
                        else ("cancelled" if (err or {}).get("kind") == "cancelled" else "error")
                    )
                    c.execute(
                        "UPDATE runs SET status = ?, t = ?, text = ?, finish_reason = ?, "
                        "usage = ?, metrics = ?, error = ?, chunks = ? WHERE id = ?",
                        (
                            status,
                            obj.get("t"),
                            obj.get("text", ""),
                            obj.get("finish_reason"),
                            _dumps(obj.get("usage")),
                            _dumps(obj.get("metrics")),
                            _dumps(err),
                            run[1],
                            run[0],
                        ),
                    )
                elif kind == "prompt":
                    sid = self._session(now)
                    text = str(obj.get("text", ""))
                    c.execute(
                        "INSERT OR REPLACE INTO turns (session_id, seq, prompt, created) "
                        "VALUES (?, ?, ?, ?)",
                        (sid, int(obj.get("turn", 0)), text, now),
                    )
                    c.execute(
                        "UPDATE sessions SET title = ? WHERE id = ? AND title = ''",
                        (_title(text), sid),
                    )
                    c.execute(
                        "UPDATE sessions SET turns = (SELECT count(*) FROM turns WHERE "
                        "session_id = ?1) WHERE id = ?1",
                        (sid,),
                    )
                elif kind == "provider":
                    sid = self._session(now)
                    settings = {k: v for k, v in obj.items() if k not in ("type", "provider")}
                    c.execute(
                        "INSERT INTO providers (session_id, name, settings) VALUES (?, ?, ?) "
                        "ON CONFLICT (session_id, name) DO UPDATE SET settings = excluded.settings",
                        (sid, obj["provider"], _dumps(settings)),
                    )
                    c.execute(
                        "UPDATE sessions SET providers = (SELECT group_concat(name, char(10)) "
                        "FROM (SELECT name FROM providers WHERE session_id = ?1 ORDER BY id)) "
                        "WHERE id = ?1",
                        (sid,),
                    )
                else:
                    continue  # events and unknown lines are for recordings only
                touched = True
            if chunk_rows:
                c.executemany(
                    "INSERT OR REPLACE INTO chunks (run_id, idx, t, text, extra) "
                    "VALUES (?, ?, ?, ?, ?)",
                    chunk_rows,
                )
                touched = True
            for batch in batches:
                self._insert_batch(*batch)
                touched = True
            if touched and self.session_id is not None:
                c.execute("UPDATE sessions SET updated = ? WHERE id = ?", (now, self.session_id))
            c.execute("COMMIT")
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise

    def _insert_batch(
        self, run_id: int, first: int, start_ns: int, texts: list[str], stamps: list[int]
    ) -> None:
        if self._json:
            flat: list[str | int] = [0] * (2 * len(texts))
            flat[0::2] = texts
            flat[1::2] = stamps
            pairs = _PAIRS.encode(flat)
            try:
                # SQLite's JSON functions cut a string at NUL: such a batch goes row by row
                if "\\u0000" not in pairs:
                    self._conn.execute(_INSERT_BATCH, (run_id, first, start_ns, pairs))
                    return
            except sqlite3.OperationalError as exc:
                if "json" not in str(exc):
                    raise
                self._json = False  # an SQLite without JSON functions: one row per chunk
        self._conn.executemany(
            "INSERT OR REPLACE INTO chunks (run_id, idx, t, text, extra) VALUES (?, ?, ?, ?, ?)",
            [
                (run_id, first + i, round((ns - start_ns) / 1e9, 6), text, None)
                for i, (text, ns) in enumerate(zip(texts, stamps, strict=True))
            ],
        )


def _title(prompt: str) -> str:
    line = " ".join(prompt.split())
    return line[:TITLE_CHARS]


__all__ = [
    "FILE_NAME",
    "History",
    "HistoryWriter",
    "ProviderRecord",
    "RunRecord",
    "SessionRecord",
    "SessionSummary",
    "default_path",
]
