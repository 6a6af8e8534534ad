"""``History``: reading and managing the history database (list, search, load, delete, export).

Listing is keyset-paged on an index of ``(updated, id)``: the first page of 10,000 sessions
costs what the first page of 100 does. Search is a case-insensitive substring match
(``LIKE``) over titles, prompts and answers. Nothing here runs on the hot path; saving is
``HistoryWriter``'s job (``writer.py``), the file and its schema are ``db.py``'s, and what
reading returns is ``records.py``'s.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from ..core.recording import header
from ..errors import RecordingError
from .db import (
    FILE_NAME,
    connect,
    connect_readonly,
    dead_runs,
    decode_batch,
    default_path,
    is_damage,
    load_json,
    mark_damaged,
    read_error,
    recover,
    saved_text,
    transaction,
)
from .records import ProviderRecord, RunRecord, SessionRecord, SessionSummary
from .writer import HistoryWriter


class History:
    """Reading and managing the history database (listing, search, load, delete, export).

    Opening recovers runs interrupted by a dead process. Reading never needs to write: a
    file that cannot be opened for writing (read-only file or folder, read-only mount) is
    opened read-only (``read_only``), and recovery that cannot write (a full disk, a
    read-only file) is left for a later opening (``recovery_deferred``: the runs it would
    have marked are shown ``interrupted`` anyway). Every ``sqlite3`` error is turned into
    one-line ``RecordingError``; damaged pages say so and name ``history --repair``.
    Safe to use from one thread at a time; writers use their own ``HistoryWriter`` connection.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        #: opened read-only (the file or its folder could not be written)
        self.read_only = False
        try:
            self._conn = connect(self.path)
        except RecordingError as first:
            if not self.path.is_file():
                raise
            try:
                self._conn = connect_readonly(self.path)
            except RecordingError:
                raise first from None  # what stopped the ordinary opening says it best
            self.read_only = True
        self._lock = threading.Lock()
        #: why runs left by a dead process could not be marked interrupted (None: they were)
        self.recovery_deferred: str | None = None
        #: ids of those runs: reading shows them ``interrupted`` as recovery would have
        self._unrecovered: frozenset[int] = frozenset()
        self.recovered = 0
        try:
            self.recovered = recover(self._conn)
        except sqlite3.Error as exc:
            if is_damage(exc):
                self._conn.close()
                raise mark_damaged(self.path, exc) from None
            self._defer_recovery(exc)

    def _defer_recovery(self, exc: sqlite3.Error) -> None:
        """Recovery could not write (full disk, read-only, locked): list and read anyway."""
        self.recovery_deferred = f"{self.path}: interrupted runs not recovered yet: {exc}"
        try:
            self._unrecovered = frozenset(dead_runs(self._conn))
        except sqlite3.Error as err:
            self._conn.close()
            raise read_error(self.path, err) from None

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The connection under the lock, its ``sqlite3`` errors turned into one line."""
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise read_error(self.path, exc) from None

    def _status(self, run_id: int, status: str) -> str:
        return "interrupted" if run_id in self._unrecovered else status

    def close(self) -> None:
        """Close the connection (records already returned stay usable)."""
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def writer(self, session: str | None = None) -> HistoryWriter:
        """A writer on the same file, with its own connection (``session``: continue it)."""
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
        statuses = "r.status"
        if self._unrecovered:  # as recovery will mark them (ids are integers: inlined)
            ids = ",".join(str(i) for i in sorted(self._unrecovered))
            statuses = f"CASE WHEN r.id IN ({ids}) THEN 'interrupted' ELSE r.status END"
        sql = (
            "SELECT s.id, s.uid, s.title, s.created, s.updated, s.providers, s.turns, "
            f"(SELECT group_concat(DISTINCT {statuses}) FROM runs r WHERE r.session_id = s.id), "
            "EXISTS (SELECT 1 FROM comparisons c WHERE c.session_id = s.id) "
            "FROM sessions s"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY s.updated DESC, s.id DESC LIMIT :limit OFFSET :offset"
        with self._reading() as c:
            rows = c.execute(sql, args).fetchall()
        return [
            SessionSummary(
                id=r[0],
                uid=r[1],
                title=r[2],
                created=r[3],
                updated=r[4],
                providers=[p for p in r[5].split("\n") if p],
                turns=r[6],
                status=SessionSummary.status_of(r[7]),
                kind="compare" if r[8] else "chat",
            )
            for r in rows
        ]

    def count_sessions(self) -> int:
        """How many sessions the history holds (the list's total)."""
        with self._reading() as c:
            return int(c.execute("SELECT count(*) FROM sessions").fetchone()[0])

    # -- one session -----------------------------------------------------------------------

    def resolve(self, ref: int | str) -> int:
        """A session's id from its id or (a unique prefix of) its uid; RecordingError if none."""
        with self._reading() as c:
            if isinstance(ref, int) or ref.isdigit():
                row = c.execute("SELECT id FROM sessions WHERE id = ?", (int(ref),)).fetchone()
                if row:
                    return int(row[0])
            # A uid prefix may be all digits too (its hex often is): try it as one.
            if isinstance(ref, str) and ref:
                rows = c.execute(
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
        with self._reading() as c:
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
                    status=self._status(r[0], r[3]),
                    started=r[4],
                    t=r[5],
                    text=(r[6] or "") if r[3] != "streaming" else saved_text(c, r[0]),
                    finish_reason=r[7],
                    usage=load_json(r[8]),
                    metrics=load_json(r[9]),
                    error=load_json(r[10]),
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
        return self._chunk_pages(run_id, batch, side_only=False)

    def iter_side_chunks(self, run_id: int, *, batch: int = 2048) -> Iterator[dict[str, Any]]:
        """A run's chunks that are not plain answer text (reasoning, tool calls, refusal,
        stop reason or usage), as ``iter_chunks`` gives them: what an export adds to the
        answer, read without walking the answer's chunks."""
        return self._chunk_pages(run_id, batch, side_only=True)

    def _chunk_pages(self, run_id: int, batch: int, *, side_only: bool) -> Iterator[dict[str, Any]]:
        """The run's batch rows, a page of about ``batch`` chunks at a time (the rows per
        page follow the rows' sizes: a version 1 file read as it is has one chunk a row)."""
        where = "run_id = ? AND first > ?" + (" AND extras IS NOT NULL" if side_only else "")
        query = (
            "SELECT first, count, texts, lengths, times, start_ns, extras FROM chunk_batches "
            f"WHERE {where} ORDER BY first LIMIT ?"
        )
        after = -1
        limit = max(1, batch // 256)
        while True:
            with self._reading() as c:
                rows = c.execute(query, (run_id, after, limit)).fetchall()
                # decoded under the lock too: a damaged value is reported as reading is
                decoded = [(row[0], decode_batch(*row[1:])) for row in rows]
            for first, (texts, times, extras) in decoded:
                if side_only:
                    for i, riding in sorted(extras.items()):
                        yield {"index": first + i, "t": times[i], "text": texts[i], **riding}
                    continue
                for i, (text, t) in enumerate(zip(texts, times, strict=True)):
                    line: dict[str, Any] = {"index": first + i, "t": t, "text": text}
                    extra = extras.get(i)
                    if extra:
                        line.update(extra)
                    yield line
            if len(rows) < limit:
                return
            after = rows[-1][0]
            chunks = sum(row[1] for row in rows)
            limit = max(1, min(4096, batch * len(rows) // max(1, chunks)))

    def delete(self, ref: int | str) -> bool:
        """Delete a session and everything in it; False if there was none."""
        try:
            sid = self.resolve(ref)
        except RecordingError:
            return False
        with self._reading() as conn, transaction(conn) as c:
            c.execute("DELETE FROM sessions WHERE id = ?", (sid,))
        return True

    def export_lines(self, ref: int | str) -> Iterator[dict[str, Any]]:
        """The session as a recording (header first), streamed: ``write_recording`` or
        ``dump_line`` each. Runs are written one after another, turn by turn."""
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
    """The recording line a run ended with, rebuilt from its row; none for a run that never
    ended (streaming, interrupted), so a replay sees it cut short as it was."""
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


__all__ = [
    "FILE_NAME",
    "History",
    # Re-exported from the modules they moved to, for code that imports them from here.
    "HistoryWriter",
    "ProviderRecord",
    "RunRecord",
    "SessionRecord",
    "SessionSummary",
    "default_path",
]
