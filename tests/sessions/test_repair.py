"""``history --repair`` (``sessions/repair.py``) on version 1 files: salvaged into the
current schema, their chunks regrouped into batch rows. Damaged files of the current
schema are tests/adversarial/test_history_hardening.py's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from llmstream_tui.sessions.history import History
from llmstream_tui.sessions.repair import repair
from tests.sessions.support import V1_CHUNKS, v1_chunks, v1_history


def test_repairing_a_version_1_file_keeps_every_chunk_in_batch_rows(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    path = data_dir / "history.sqlite3"
    v1_history(path)
    report = repair(path, force=True)
    assert report.backup is not None and report.backup.is_file()
    assert (report.sessions, report.runs, report.chunks) == (1, 2, len(V1_CHUNKS))
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
        assert conn.execute(
            "SELECT run_id, first, count FROM chunk_batches ORDER BY run_id, first"
        ).fetchall() == [(1, 0, 4), (1, 5, 1), (2, 0, 2)]
    finally:
        conn.close()
    with History() as history:
        done, left = history.load("c0ffee").runs
        assert list(history.iter_chunks(done.id)) == v1_chunks(1)
        assert list(history.iter_chunks(left.id)) == v1_chunks(2)
