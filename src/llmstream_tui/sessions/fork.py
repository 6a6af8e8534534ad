"""Forking a saved session: a new session holding a copy of an old one's first turns.

Editing an earlier prompt and resending it (the app's edit key) forks the conversation, as
web chat UIs do. The saved session it forks from must stay exactly as it was (a saved turn
is never overwritten), so the fork is a new session: the turns before the edited one are
copied with their runs and every chunk (timings included: their batch rows as they are),
and the edited prompt becomes its next turn. Reopening either session then shows its own
line of the conversation.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

from ..errors import RecordingError
from .db import connect, default_path, read_error, transaction

#: A batch row's columns but its run: rows are copied as they are (a row per batch).
_BATCH_COLUMNS = "first, count, texts, lengths, times, start_ns, extras"
_RUN_COLUMNS = (
    "turn, provider, status, started, t, text, finish_reason, usage, metrics, error, chunks"
)


def fork_session(uid: str, before_turn: int, path: str | Path | None = None) -> str:
    """A new saved session with the turns of session ``uid`` numbered below
    ``before_turn`` (and their runs and chunks); returns its uid. One transaction: the
    fork is whole or absent. ``RecordingError`` (one line) when the session is not there or
    the database cannot be written."""
    where = Path(path) if path is not None else default_path()
    conn = connect(where)
    try:
        with transaction(conn):
            return _copy(conn, uid, before_turn)
    except sqlite3.Error as exc:
        raise read_error(where, exc) from None
    finally:
        conn.close()


def _copy(conn: sqlite3.Connection, uid: str, before_turn: int) -> str:
    row = conn.execute("SELECT id, title, providers FROM sessions WHERE uid = ?", (uid,)).fetchone()
    if row is None:
        raise RecordingError(f"no saved session {uid} to fork from")
    old_id, title, providers = row
    new_uid = uuid.uuid4().hex
    now = time.time()
    kept = conn.execute(
        "SELECT count(*) FROM turns WHERE session_id = ? AND seq < ?", (old_id, before_turn)
    ).fetchone()[0]
    new_id = conn.execute(
        "INSERT INTO sessions (uid, title, created, updated, providers, turns) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (new_uid, title, now, now, providers, kept),
    ).lastrowid
    conn.execute(
        "INSERT INTO providers (session_id, name, settings) "
        "SELECT ?, name, settings FROM providers WHERE session_id = ?",
        (new_id, old_id),
    )
    conn.execute(
        "INSERT INTO turns (session_id, seq, prompt, created) "
        "SELECT ?, seq, prompt, created FROM turns WHERE session_id = ? AND seq < ?",
        (new_id, old_id, before_turn),
    )
    runs = conn.execute(
        "SELECT id FROM runs WHERE session_id = ? AND turn < ? ORDER BY id", (old_id, before_turn)
    ).fetchall()
    for (run_id,) in runs:
        copied = conn.execute(
            f"INSERT INTO runs (session_id, {_RUN_COLUMNS}) "
            f"SELECT ?, {_RUN_COLUMNS} FROM runs WHERE id = ?",
            (new_id, run_id),
        ).lastrowid
        conn.execute(
            f"INSERT INTO chunk_batches (run_id, {_BATCH_COLUMNS}) "
            f"SELECT ?, {_BATCH_COLUMNS} FROM chunk_batches WHERE run_id = ?",
            (copied, run_id),
        )
    return new_uid
