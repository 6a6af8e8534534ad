"""``llmstream-tui history --repair``: keep a backup of a damaged history, salvage the rest.

SQLite's own salvage (the ``.recover`` command) lives in its command-line shell, not in the
``sqlite3`` module, and ``VACUUM INTO`` stops at the first damaged page. So the salvage is
done here, table by table in key order: rows are read through a cursor until a read fails,
then the walk seeks past the damage (keys one, two, four... further on, then back to the
first key that reads again), so only the rows on unreadable pages are lost. What was read
goes into a fresh database with the current schema (a version 1 file's chunks regrouped into
batch rows) (foreign keys on: a run whose session
was lost goes with it), which then replaces the damaged file. The damaged file (and its
``-wal``) is copied first to ``<name>.damaged-<time>`` beside it, and never written to.

Close the apps using the history first: a writer still holding the old file would keep
writing into the backup's inode, not into the repaired file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ..errors import RecordingError
from .db import BatchGrouper, connect, connect_readonly, decode_batch, transaction

#: The tables in the order they are copied (parents before children), with their columns.
_TABLES: Final = (
    ("sessions", "id, uid, title, created, updated, providers, turns"),
    ("providers", "id, session_id, name, settings"),
    ("turns", "id, session_id, seq, prompt, created"),
    (
        "runs",
        "id, session_id, turn, provider, status, started, pid, t, text, finish_reason, "
        "usage, metrics, error, chunks",
    ),
)
#: A chunk batch row's columns, as they are copied.
_BATCH_COLUMNS: Final = "run_id, first, count, texts, lengths, times, start_ns, extras"
#: The largest key a walk seeks to: past it there is nothing to find.
_MAX_KEY: Final = (1 << 62) - 1
#: What a turn lost to the damage is saved as, so the turns kept keep their numbers.
LOST_PROMPT: Final = "(prompt lost: damaged page)"


@dataclass(frozen=True, slots=True)
class RepairReport:
    """What ``repair`` did."""

    path: Path
    #: the copy of the damaged file (None: the file was not damaged, nothing was done)
    backup: Path | None
    sessions: int
    runs: int
    chunks: int
    #: how many times a read failed and the walk had to seek past damage
    damaged_reads: int

    def line(self) -> str:
        """The one line the CLI prints."""
        if self.backup is None:
            return f"history database {self.path} is not damaged: nothing to repair"
        return (
            f"history database {self.path} repaired: kept {self.sessions} sessions, "
            f"{self.runs} runs, {self.chunks} chunks ({self.damaged_reads} unreadable "
            f"places skipped); the damaged file is kept as {self.backup}"
        )


def is_damaged(path: Path) -> bool:
    """Whether SQLite's ``quick_check`` finds ``path`` damaged (a read error counts)."""
    try:
        conn = connect_readonly(path)
    except RecordingError:
        return True
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError:
        return True
    finally:
        conn.close()
    return rows != [("ok",)]


def repair(path: Path, *, force: bool = False) -> RepairReport:
    """Back up and salvage the history database at ``path`` (see the module docstring);
    one that is not damaged is left alone unless ``force``. RecordingError if there is no
    such file or the backup cannot be written (then nothing has changed)."""
    if not path.is_file():
        raise RecordingError(f"no history database at {path}: nothing to repair")
    if not force and not is_damaged(path):
        return RepairReport(path, None, 0, 0, 0, 0)
    backup = _backup(path)
    fresh = path.with_name(path.name + ".repairing")
    for leftover in _with_sidecars(fresh):
        leftover.unlink(missing_ok=True)
    salvage = _Salvage(path, fresh)
    try:
        report = salvage.run(backup)
    finally:
        salvage.close()
    # the damaged file's -wal and -shm belong to it: left beside the new file they would
    # be replayed into it
    for sidecar in _with_sidecars(path)[1:]:
        sidecar.unlink(missing_ok=True)
    os.replace(fresh, path)
    for sidecar in _with_sidecars(fresh)[1:]:
        sidecar.unlink(missing_ok=True)
    return report


def _with_sidecars(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _backup(path: Path) -> Path:
    """Copy the file (and its ``-wal``) to ``<name>.damaged-<time>`` beside it."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while backup.exists():
        n += 1
        backup = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    try:
        shutil.copy2(path, backup)
        wal = path.with_name(path.name + "-wal")
        if wal.is_file():
            shutil.copy2(wal, backup.with_name(backup.name + "-wal"))
    except OSError as exc:
        raise RecordingError(
            f"{path}: cannot keep a backup before repairing ({exc.strerror}); nothing changed"
        ) from None
    return backup


class _Salvage:
    """One salvage: the damaged file read-only, the fresh one written."""

    def __init__(self, source: Path, target: Path) -> None:
        self.path = source
        self.src = connect_readonly(source)
        self.dst = connect(target)
        self.damaged_reads = 0

    def close(self) -> None:
        self.src.close()
        self.dst.close()

    def run(self, backup: Path) -> RepairReport:
        dst = self.dst
        with transaction(dst):
            for table, columns in _TABLES:
                marks = ", ".join("?" * len(columns.split(",")))
                insert = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
                select = f"SELECT {columns} FROM {table} WHERE id > ? ORDER BY id"

                def rows_after(after: int, q: str = select) -> sqlite3.Cursor:
                    return self.src.execute(q, (after,))

                for row in self._walk(rows_after):
                    _insert(dst, insert, row)
            runs = [r for (r,) in dst.execute("SELECT id FROM runs ORDER BY id")]
            batch_insert = f"INSERT INTO chunk_batches ({_BATCH_COLUMNS}) VALUES ({'?, ' * 7}?)"
            grouper = BatchGrouper(dst)
            for run_id in runs:
                select = (
                    f"SELECT {_BATCH_COLUMNS} FROM chunk_batches WHERE run_id = ?1 "
                    "AND first > ?2 ORDER BY first"
                )

                def query(after: int, q: str = select, rid: int = run_id) -> sqlite3.Cursor:
                    return self.src.execute(q, (rid, after))

                for row in self._walk(query, key=1):
                    self._keep(dst, batch_insert, grouper, row)
                grouper.flush()
            self._mend(dst)
        sessions, runs_kept, chunks = (
            int(dst.execute(f"SELECT {what} FROM {table}").fetchone()[0])
            for what, table in (
                ("count(*)", "sessions"),
                ("count(*)", "runs"),
                ("coalesce(sum(count), 0)", "chunk_batches"),
            )
        )
        return RepairReport(self.path, backup, sessions, runs_kept, chunks, self.damaged_reads)

    def _keep(
        self,
        dst: sqlite3.Connection,
        insert: str,
        grouper: BatchGrouper,
        row: tuple[Any, ...],
    ) -> None:
        """One salvaged batch row into the fresh file: as it is when its values read back
        whole; a version 1 file's chunk (a batch of one through its view) regrouped into
        rows of many; a row whose values do not read back is left out (counted damage)."""
        run_id, first, count, texts, lengths, times, start_ns, extras = row
        try:
            pieces, seconds, found = decode_batch(count, texts, lengths, times, start_ns, extras)
        except sqlite3.DatabaseError:
            self.damaged_reads += 1
            return
        if isinstance(times, bytes):
            _insert(dst, insert, row)
            return
        for i, (text, t) in enumerate(zip(pieces, seconds, strict=True)):
            grouper.add(run_id, first + i, t, text, found.get(i))

    def _walk(
        self, query: Callable[[int], sqlite3.Cursor], key: int = 0
    ) -> Iterator[tuple[Any, ...]]:
        """Rows in the order of their integer key (column ``key``; ``query(after)`` returns
        those with a greater key), seeking past every place a read fails."""
        after = -1
        while True:
            try:
                for row in query(after):
                    yield row
                    after = row[key]
                return
            except sqlite3.DatabaseError:
                self.damaged_reads += 1
                resumed = self._seek_past(query, after)
                if resumed is None:
                    return
                after = resumed

    def _seek_past(self, query: Callable[[int], sqlite3.Cursor], after: int) -> int | None:
        """The key to go on from after a failed read past ``after``: the smallest ``k``
        found (by doubling, then bisecting) such that reading from ``k`` works; None when
        nothing past the damage reads."""

        def reads(start: int) -> bool:
            try:
                query(start).fetchone()
            except sqlite3.DatabaseError:
                return False
            return True

        step = 1
        while after + step < _MAX_KEY and not reads(after + step):
            step *= 2
        if after + step >= _MAX_KEY:
            return None
        bad, good = after + step // 2, after + step  # reads(good), and not reads(bad)
        if step == 1:
            return good
        while good - bad > 1:
            mid = (bad + good) // 2
            if reads(mid):
                good = mid
            else:
                bad = mid
        return good

    def _mend(self, dst: sqlite3.Connection) -> None:
        """Make what was kept consistent: a turn number answered by a run but whose prompt
        was lost gets a placeholder prompt (turns are numbered by position), and each
        session's turn count and provider list are counted again."""
        for sid, seq in dst.execute(
            "SELECT DISTINCT r.session_id, r.turn FROM runs r WHERE NOT EXISTS "
            "(SELECT 1 FROM turns t WHERE t.session_id = r.session_id AND t.seq = r.turn)"
        ).fetchall():
            dst.execute(
                "INSERT INTO turns (session_id, seq, prompt, created) VALUES (?, ?, ?, 0)",
                (sid, seq, LOST_PROMPT),
            )
        for sid, top in dst.execute(
            "SELECT session_id, max(seq) FROM turns GROUP BY session_id"
        ).fetchall():
            have = {s for (s,) in dst.execute("SELECT seq FROM turns WHERE session_id = ?", (sid,))}
            for seq in range(top + 1):
                if seq not in have:
                    dst.execute(
                        "INSERT INTO turns (session_id, seq, prompt, created) VALUES (?, ?, ?, 0)",
                        (sid, seq, LOST_PROMPT),
                    )
        dst.execute(
            "UPDATE sessions SET "
            "turns = (SELECT count(*) FROM turns WHERE session_id = sessions.id), "
            "providers = coalesce((SELECT group_concat(name, char(10)) FROM (SELECT name FROM "
            "providers WHERE session_id = sessions.id ORDER BY id)), '')"
        )


def _insert(dst: sqlite3.Connection, sql: str, row: tuple[Any, ...]) -> None:
    """Insert one salvaged row; one the schema refuses (its parent lost, a damaged value
    that breaks a constraint) is left out. (A failed statement undoes itself only: the
    transaction goes on.)"""
    with contextlib.suppress(sqlite3.IntegrityError):
        dst.execute(sql, row)


__all__ = ["LOST_PROMPT", "RepairReport", "is_damaged", "repair"]
