"""``HistoryWriter``: one session's recording lines into the history database.

It runs on the recorder's writer thread, which hands it what accumulated every ~50 ms: one
``transaction`` per batch, whatever the batch holds, so the cost per chunk is a row (or,
for the recorder's batches of plain text, a share of one statement) and never grows with
the text already saved. The statements per batch are part of the streaming path's budget
(``bench``'s recorder cases): keep them as they are unless the bench says otherwise.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from ..errors import RecordingError
from .db import connect, damage_of, default_path, dump_json, is_damage, mark_damaged, transaction

#: Characters of the first prompt kept as a session's title.
TITLE_CHARS: Final = 200

_CHUNK_KEYS: Final = frozenset({"type", "provider", "index", "t", "text"})
#: (Chunks are keyed by a run rowid only this writer inserted, so ``OR REPLACE`` here can
#: replace nothing another app saved.)
#: A recorder's batch of answer-text chunks in one statement: SQLite walks the JSON array
#: ``[[text, t], ...]`` itself, so the Python thread (and the GIL) spends one ``json``
#: encode per batch, not a row binding per chunk; the ``sqlite3`` module lets go of the GIL
#: while the statement runs (pairs read with ``json_extract`` cost about 0.6x of a flat
#: array paired by a window function, which sorts). The times are rounded in Python, as
#: ``RunRecorder`` rounds a chunk's: SQLite's ``round`` differs on half the ties.
_INSERT_BATCH: Final = (
    "INSERT OR REPLACE INTO chunks (run_id, idx, t, text, extra) "
    "SELECT ?1, ?2 + key, json_extract(value, '$[1]'), json_extract(value, '$[0]'), NULL "
    "FROM json_each(?3)"
)
_INSERT_ROWS: Final = (
    "INSERT OR REPLACE INTO chunks (run_id, idx, t, text, extra) VALUES (?, ?, ?, ?, ?)"
)
_PAIRS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


class HistoryWriter:
    """Applies one session's recording lines to the database, one transaction per batch.

    Owned by a ``SessionRecorder`` writer thread; its own connection, so readers never wait.
    ``session`` continues an existing session (by uid); otherwise a new uid is made and the
    session row appears with the first batch.
    """

    def __init__(self, path: str | Path | None = None, session: str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        damage = damage_of(self.path)
        if damage is not None:  # found damaged earlier: saving waits until it is repaired
            raise damage
        self._conn = connect(self.path)
        self.uid = session or uuid.uuid4().hex
        self.session_id: int | None = None
        self._pid = os.getpid()
        #: provider -> (run rowid, chunks so far) of its current run
        self._runs: dict[str, list[int]] = {}
        #: the recorder's turn number -> the turn's ``seq`` in the database, allocated when
        #: its prompt is saved (another app may have saved turns of this session meanwhile)
        self._turns: dict[int, int] = {}
        #: rowids of the runs this writer saved: the only ones a run line may replace
        self._own_runs: set[int] = set()
        #: whether this SQLite can run _INSERT_BATCH (JSON functions are built in since 3.38)
        self._json = True
        if session is not None:
            row = self._conn.execute("SELECT id FROM sessions WHERE uid = ?", (session,)).fetchone()
            if row is None:
                self._conn.close()
                raise RecordingError(f"no session {session!r} in the history ({self.path})")
            self.session_id = int(row[0])

    def close(self) -> None:
        """Close the connection; what ``apply`` committed is already on disk."""
        self._conn.close()

    def apply(self, lines: Iterable[Mapping[str, Any]]) -> None:
        """Store a batch of recording lines (in order) in one transaction: the batch is on
        disk entirely or, if a statement fails, not at all (the error propagates).

        Chunk lines are gathered and inserted after the loop, one ``executemany`` for the
        ``chunk`` lines and one statement per ``chunks`` batch; every other kind is a few
        statements of its own (``_start_run``, ``_end_run``, ``_prompt``, ``_provider``).

        A file found damaged (by this batch or by any reader in this process) takes no more
        batches: ``RecordingError`` with the one line that says so, and nothing is written.
        """
        damage = damage_of(self.path)
        if damage is not None:
            raise damage
        try:
            self._apply(lines)
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise mark_damaged(self.path, exc) from None
            raise

    def _apply(self, lines: Iterable[Mapping[str, Any]]) -> None:
        c = self._conn
        now = time.time()
        chunk_rows: list[tuple[int, int, float, str, str | None]] = []
        batches: list[tuple[int, int, int, list[str], list[int]]] = []
        runs = self._runs
        touched = False
        with transaction(c):
            for obj in lines:
                kind = obj.get("type")
                if kind == "chunk":
                    run = runs.get(obj["provider"])
                    if run is None:
                        continue
                    extra = None
                    if len(obj) > 5:  # more than type, provider, index, t, text
                        extra = dump_json({k: v for k, v in obj.items() if k not in _CHUNK_KEYS})
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
                    self._start_run(obj, now)
                elif kind in ("end", "error"):
                    if not self._end_run(kind, obj):
                        continue
                elif kind == "prompt":
                    self._prompt(obj, now)
                elif kind == "provider":
                    self._provider(obj, now)
                else:
                    continue  # events and unknown lines are for recordings only
                touched = True
            if chunk_rows:
                c.executemany(_INSERT_ROWS, chunk_rows)
                touched = True
            for batch in batches:
                self._insert_batch(*batch)
                touched = True
            if touched and self.session_id is not None:
                c.execute("UPDATE sessions SET updated = ? WHERE id = ?", (now, self.session_id))

    # -- one line each (inside apply's transaction) ------------------------------------------

    def _session(self, now: float) -> int:
        """The session's row id, creating the row with the first line that needs it (so an
        app opened and closed without a prompt leaves no empty session behind)."""
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

    def _start_run(self, obj: Mapping[str, Any], now: float) -> None:
        """A ``run`` line: a new ``streaming`` row owned by this process (so recovery can tell
        a live run from one whose process died), in the turn its prompt was saved as. The
        same turn run again by this writer replaces its own run; a run another writer saved
        is never replaced (the insert fails instead, and the batch with it)."""
        c = self._conn
        sid = self._session(now)
        local = int(obj.get("turn", 0))
        turn = self._turns.get(local, local)
        provider = obj["provider"]
        old = c.execute(
            "SELECT id FROM runs WHERE session_id = ? AND turn = ? AND provider = ?",
            (sid, turn, provider),
        ).fetchone()
        if old is not None and old[0] in self._own_runs:  # this writer's retry: replace it
            c.execute("DELETE FROM runs WHERE id = ?", (old[0],))
            self._own_runs.discard(old[0])
        cur = c.execute(
            "INSERT INTO runs (session_id, turn, provider, status, started, pid) "
            "VALUES (?, ?, ?, 'streaming', ?, ?)",
            (sid, turn, provider, now, self._pid),
        )
        rowid = int(cur.lastrowid or 0)
        self._own_runs.add(rowid)
        self._runs[provider] = [rowid, 0]

    def _end_run(self, kind: str, obj: Mapping[str, Any]) -> bool:
        """An ``end`` or ``error`` line closes the provider's run; False if it had none
        (a line for a run this writer never saw started)."""
        run = self._runs.pop(obj["provider"], None)
        if run is None:
            return False
        err = obj.get("error") if kind == "error" else None
        status = (
            "done"
            if kind == "end"
            else ("cancelled" if (err or {}).get("kind") == "cancelled" else "error")
        )
        self._conn.execute(
            "UPDATE runs SET status = ?, t = ?, text = ?, finish_reason = ?, "
            "usage = ?, metrics = ?, error = ?, chunks = ? WHERE id = ?",
            (
                status,
                obj.get("t"),
                obj.get("text", ""),
                obj.get("finish_reason"),
                dump_json(obj.get("usage")),
                dump_json(obj.get("metrics")),
                dump_json(err),
                run[1],
                run[0],
            ),
        )
        return True

    def _prompt(self, obj: Mapping[str, Any], now: float) -> None:
        """A ``prompt`` line: the turn, the session's title if it has none yet, its count.

        The turn's number in the database is the session's next one, read inside this
        batch's ``BEGIN IMMEDIATE`` transaction: two apps continuing the same session (each
        expecting the same next turn) get one turn each, in the order they saved them, and
        no saved turn is ever replaced. A prompt line for a turn this writer already saved
        (the same recorder turn again) updates that turn only."""
        c = self._conn
        sid = self._session(now)
        text = str(obj.get("text", ""))
        local = int(obj.get("turn", 0))
        seq = self._turns.get(local)
        if seq is None:
            seq = int(
                c.execute(
                    "SELECT coalesce(max(seq) + 1, 0) FROM turns WHERE session_id = ?", (sid,)
                ).fetchone()[0]
            )
            c.execute(
                "INSERT INTO turns (session_id, seq, prompt, created) VALUES (?, ?, ?, ?)",
                (sid, seq, text, now),
            )
            self._turns[local] = seq
        else:
            c.execute(
                "UPDATE turns SET prompt = ? WHERE session_id = ? AND seq = ?", (text, sid, seq)
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

    def _provider(self, obj: Mapping[str, Any], now: float) -> None:
        """A ``provider`` line: its settings (a later line for the same name wins) and the
        session's list of names, kept on the session row so listing needs no join."""
        c = self._conn
        sid = self._session(now)
        settings = {k: v for k, v in obj.items() if k not in ("type", "provider")}
        c.execute(
            "INSERT INTO providers (session_id, name, settings) VALUES (?, ?, ?) "
            "ON CONFLICT (session_id, name) DO UPDATE SET settings = excluded.settings",
            (sid, obj["provider"], dump_json(settings)),
        )
        c.execute(
            "UPDATE sessions SET providers = (SELECT group_concat(name, char(10)) "
            "FROM (SELECT name FROM providers WHERE session_id = ?1 ORDER BY id)) "
            "WHERE id = ?1",
            (sid,),
        )

    def _insert_batch(
        self, run_id: int, first: int, start_ns: int, texts: list[str], stamps: list[int]
    ) -> None:
        """One ``chunks`` batch: one statement over a JSON array when SQLite can, else (no
        JSON functions, or a NUL in the text) one row per chunk."""
        times = [round((ns - start_ns) / 1e9, 6) for ns in stamps]
        if self._json:
            pairs = _PAIRS.encode(list(zip(texts, times, strict=True)))
            try:
                # SQLite's JSON functions cut a string at NUL: such a batch goes row by row
                if "\\u0000" not in pairs:
                    self._conn.execute(_INSERT_BATCH, (run_id, first, pairs))
                    return
            except sqlite3.OperationalError as exc:
                if "json" not in str(exc):
                    raise
                self._json = False  # an SQLite without JSON functions: one row per chunk
        self._conn.executemany(
            _INSERT_ROWS,
            [
                (run_id, first + i, t, text, None)
                for i, (text, t) in enumerate(zip(texts, times, strict=True))
            ],
        )


def _title(prompt: str) -> str:
    """A session's title: its first prompt on one line, cut to ``TITLE_CHARS``."""
    line = " ".join(prompt.split())
    return line[:TITLE_CHARS]


__all__ = ["TITLE_CHARS", "HistoryWriter"]
