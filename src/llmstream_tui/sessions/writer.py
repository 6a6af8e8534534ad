"""``HistoryWriter``: one session's recording lines into the history database.

It runs on the recorder's writer thread, which hands it what accumulated every ~50 ms: one
``transaction`` per batch, whatever the batch holds. Chunks are stored as batch rows
(``db.py``: about a page each), so the cost per chunk is a share of one row and of one
INSERT, and never grows with the text already saved: a recorder's batch of plain text
(``chunks``) is packed with C loops only (no Python bytecode per chunk), and ``chunk``
lines (a channel, metadata, usage, or every chunk when events are recorded) are gathered
per run into rows of their own. The statements per batch are part of the streaming path's
budget (``bench``'s cli section): keep them as they are unless the bench says otherwise.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from ..errors import RecordingError
from .db import (
    BatchRow,
    connect,
    damage_of,
    default_path,
    dump_json,
    insert_batches,
    is_damage,
    mark_damaged,
    stamped_rows,
    timed_rows,
    transaction,
)

#: Characters of the first prompt kept as a session's title.
TITLE_CHARS: Final = 200

_CHUNK_KEYS: Final = frozenset({"type", "provider", "index", "t", "text"})


class _LineGroup:
    """A run's consecutive ``chunk`` lines in one batch, on their way to batch rows."""

    __slots__ = ("extras", "first", "texts", "times")

    def __init__(self, first: int) -> None:
        self.first = first
        self.texts: list[str] = []
        self.times: list[float] = []
        self.extras: list[tuple[int, Mapping[str, Any]]] = []


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
        rows: list[BatchRow] = []
        #: run rowid -> its chunk lines gathered so far (consecutive indexes)
        groups: dict[int, _LineGroup] = {}
        runs = self._runs
        touched = False
        with transaction(c):
            for obj in lines:
                kind = obj.get("type")
                if kind == "chunk":
                    if not self._chunk_line(obj, groups, rows):
                        continue
                elif kind == "chunks":  # SessionRecorder's batch of plain answer text
                    run = runs.get(obj["provider"])
                    if run is None:
                        continue
                    texts = obj["texts"]
                    if texts:
                        rows += stamped_rows(
                            run[0], obj["index"], texts, obj["stamps"], obj["start_ns"]
                        )
                    run[1] += len(texts)
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
            for run_id, group in groups.items():
                rows += _group_rows(run_id, group)
            if rows:
                insert_batches(c, rows)
                touched = True
            if touched and self.session_id is not None:
                c.execute("UPDATE sessions SET updated = ? WHERE id = ?", (now, self.session_id))

    # -- one line each (inside apply's transaction) ------------------------------------------

    def _chunk_line(
        self, obj: Mapping[str, Any], groups: dict[int, _LineGroup], rows: list[BatchRow]
    ) -> bool:
        """A ``chunk`` line joins its run's group (a gap in the numbers closes the group
        into ``rows`` first); False if its run was never started."""
        run = self._runs.get(obj["provider"])
        if run is None:
            return False
        index = obj["index"]
        group = groups.get(run[0])
        if group is None or index != group.first + len(group.texts):
            if group is not None:
                rows += _group_rows(run[0], group)
            group = groups[run[0]] = _LineGroup(index)
        if len(obj) > 5:  # more than type, provider, index, t, text
            extra = {k: v for k, v in obj.items() if k not in _CHUNK_KEYS}
            group.extras.append((len(group.texts), extra))
        group.texts.append(obj["text"])
        group.times.append(obj["t"])
        run[1] += 1
        return True

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


def _group_rows(run_id: int, group: _LineGroup) -> list[BatchRow]:
    """A run's gathered ``chunk`` lines as batch rows; what rides on a chunk (channel,
    tool call, metadata, usage) is kept as it came (a value JSON cannot hold, a datetime
    in metadata, as its ``str``: ``dump_json``)."""
    return timed_rows(run_id, group.first, group.texts, group.times, group.extras)


def _title(prompt: str) -> str:
    """A session's title: its first prompt on one line, cut to ``TITLE_CHARS``."""
    line = " ".join(prompt.split())
    return line[:TITLE_CHARS]


__all__ = ["TITLE_CHARS", "HistoryWriter"]
