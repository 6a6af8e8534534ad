"""Comparisons in the history (issue 18): a ``compare`` run saved as a session of its own.

A comparison is a session whose turns are its counted requests, in the order they
finished: each turn's prompt is the request's, its one run the provider's answer (``done``
or ``error``, the request's raw record as its metrics, its chunks with their times in batch
rows, as a conversation's are). Its ``comparisons`` row holds what ``summary.json`` holds
(the shape, providers, levels, each group's statistics and every request's raw figures), so
``compare show`` prints the table as it was at the end of the run and ``compare
--baseline`` takes a saved comparison as well as a file. ``llmstream-tui history`` lists
comparisons among the sessions, marked as such (``SessionSummary.kind``); ``export`` and
``delete`` treat them as any session.

Saving is one transaction at the end of the run (what finished, when the run was
interrupted): a comparison is in the history whole or not at all.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ..core.redaction import mask_urls
from ..errors import RecordingError
from .db import (
    connect,
    connect_readonly,
    default_path,
    dump_json,
    insert_batches,
    read_error,
    timed_rows,
    transaction,
)

if TYPE_CHECKING:
    from .compare_run import CompareRun

__all__ = ["LAST", "TITLE_PREFIX", "load_comparison", "save_comparison"]

#: The reference to the most recent comparison (``compare show last``).
LAST: Final = "last"
#: How a comparison's title begins (the history list shows it).
TITLE_PREFIX: Final = "compare: "


def _title(run: CompareRun) -> str:
    return (
        f"{TITLE_PREFIX}{', '.join(run.providers)} · {len(run.requests)} requests "
        f"({', '.join(run.levels)})" + (", interrupted" if run.interrupted else "")
    )


def save_comparison(
    run: CompareRun,
    summary: Mapping[str, Any],
    descriptions: Mapping[str, Mapping[str, Any]],
    *,
    path: str | Path | None = None,
) -> str:
    """Save ``run`` (its ``summary``: ``summary.json``'s content, its requests included)
    as a comparison; returns the new session's uid. ``descriptions``: each provider's
    recording ``provider`` line (``describe_provider``: never a key). Chunks are saved
    when the run kept them (``keep_chunks``). ``RecordingError`` with one line when the
    history cannot be written."""
    where = Path(path) if path is not None else default_path()
    conn = connect(where)
    try:
        with transaction(conn):
            return _insert(conn, run, summary, descriptions)
    except sqlite3.Error as exc:
        raise read_error(where, exc) from None
    finally:
        conn.close()


def _insert(
    conn: sqlite3.Connection,
    run: CompareRun,
    summary: Mapping[str, Any],
    descriptions: Mapping[str, Mapping[str, Any]],
) -> str:
    uid = uuid.uuid4().hex
    now = time.time()
    origin = run.origin_unix if run.origin_unix is not None else now
    sid = conn.execute(
        "INSERT INTO sessions (uid, title, created, updated, providers, turns) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (uid, _title(run), origin, now, "\n".join(run.providers), len(run.requests)),
    ).lastrowid
    for name in run.providers:
        settings = {k: v for k, v in descriptions.get(name, {}).items() if k != "type"}
        settings.pop("provider", None)
        conn.execute(
            "INSERT INTO providers (session_id, name, settings) VALUES (?, ?, ?)",
            (sid, name, dump_json(settings)),
        )
    for turn, done in enumerate(run.requests):
        rec = done.record
        conn.execute(
            "INSERT INTO turns (session_id, seq, prompt, created) VALUES (?, ?, ?, ?)",
            (sid, turn, done.prompt.text, origin + rec.start_s),
        )
        error = None
        if not rec.ok:
            message = mask_urls(rec.error_message or "")
            error = {"kind": rec.error_kind, "message": message, "status": None}
        run_id = conn.execute(
            "INSERT INTO runs (session_id, turn, provider, status, started, t, text, "
            "metrics, error, chunks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sid,
                turn,
                rec.provider,
                "done" if rec.ok else "error",
                origin + rec.start_s,
                rec.request_latency,
                rec.text,
                dump_json(rec.to_dict()),
                dump_json(error),
                len(done.chunks),
            ),
        ).lastrowid
        if done.chunks and run_id is not None:
            texts = [text for _, text, _ in done.chunks]
            times = [round(t, 6) for t, _, _ in done.chunks]
            extras = [
                (i, {"channel": channel})
                for i, (_, _, channel) in enumerate(done.chunks)
                if channel != "text"
            ]
            insert_batches(conn, timed_rows(run_id, 0, texts, times, extras))
    conn.execute(
        "INSERT INTO comparisons (session_id, summary) VALUES (?, ?)",
        (sid, json.dumps(summary, ensure_ascii=False, default=str)),
    )
    return uid


def load_comparison(ref: str, *, path: str | Path | None = None) -> tuple[int, dict[str, Any]]:
    """A saved comparison's (session id, summary): ``ref`` is ``last``, its id or (a
    unique prefix of) its uid, as ``history`` lists them. ``RecordingError`` with one line
    when there is none, or ``ref`` names a session that is not a comparison."""
    where = Path(path) if path is not None else default_path()
    if not where.is_file():
        raise RecordingError(f"no comparison {ref!r}: there is no history yet ({where})")
    conn = connect_readonly(where)
    try:
        sid = _resolve(conn, ref, where)
        row = conn.execute(
            "SELECT summary FROM comparisons WHERE session_id = ?", (sid,)
        ).fetchone()
    except sqlite3.Error as exc:
        raise read_error(where, exc) from None
    finally:
        conn.close()
    if row is None:
        raise RecordingError(f"session {ref!r} is a conversation, not a comparison")
    try:
        summary = json.loads(row[0])
    except (ValueError, RecursionError):
        raise RecordingError(f"{where}: comparison {sid}'s summary is not JSON") from None
    if not isinstance(summary, dict):
        raise RecordingError(f"{where}: comparison {sid}'s summary is not an object")
    return sid, summary


def _resolve(conn: sqlite3.Connection, ref: str, where: Path) -> int:
    if ref == LAST:
        row = conn.execute(
            "SELECT s.id FROM sessions s JOIN comparisons c ON c.session_id = s.id "
            "ORDER BY s.updated DESC, s.id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            raise RecordingError(f"no comparison in the history ({where})")
        return int(row[0])
    if ref.isdigit():
        row = conn.execute("SELECT id FROM sessions WHERE id = ?", (int(ref),)).fetchone()
        if row is not None:
            return int(row[0])
    rows: Sequence[tuple[int]] = conn.execute(
        "SELECT id FROM sessions WHERE uid >= ? AND uid < ? LIMIT 2", (ref, ref + "\uffff")
    ).fetchall()
    if len(rows) > 1:
        raise RecordingError(f"comparison {ref!r} is ambiguous: give more of its id")
    if not rows or not ref:
        raise RecordingError(f"no comparison {ref!r} in the history ({where})")
    return int(rows[0][0])
