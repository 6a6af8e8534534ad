"""Recording runs the way the CLI and the app do: astream_events observed by a recorder."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from llmstream_tui.core.metrics import StreamTimeline
from llmstream_tui.core.recording import RecordingReader
from llmstream_tui.errors import ProviderError
from llmstream_tui.providers.registry import build_llm
from llmstream_tui.sessions.recorder import SessionRecorder


async def record_turn(
    recorder: SessionRecorder,
    prompt: str,
    providers: Sequence[str | Mapping[str, Any]],
    *,
    names: Sequence[str] | None = None,
    version: str = "v2",
) -> None:
    """Run every provider on ``prompt`` at once, each observed by ``recorder``."""
    recorder.begin_turn(prompt)

    async def one(i: int, spec: str | Mapping[str, Any]) -> None:
        name = names[i] if names else None
        llm = build_llm(spec, name=name)
        timeline = StreamTimeline()
        run = recorder.start_run(llm, timeline=timeline)
        received: list[str] = []
        try:
            async for ev in llm.astream_events(prompt, {"timeline": timeline}, version=version):  # type: ignore[arg-type]
                run.observe(ev)
        except ProviderError as exc:
            run.error(exc, exc.partial_text or "".join(received))
        finally:
            await llm.aclose()

    await asyncio.gather(*(one(i, p) for i, p in enumerate(providers)))


def record_file(
    path: Path,
    prompt: str,
    providers: Sequence[str | Mapping[str, Any]],
    *,
    names: Sequence[str] | None = None,
    history: bool = False,
) -> SessionRecorder:
    """Record one turn of ``providers`` into a new recording at ``path``."""
    recorder = SessionRecorder.open(record=path, history=history)
    try:
        asyncio.run(record_turn(recorder, prompt, providers, names=names))
    finally:
        recorder.close()
    return recorder


def chunk_lines(path: Path, provider: str | None = None) -> list[dict[str, Any]]:
    return [
        obj
        for obj in RecordingReader(path)
        if obj["type"] == "chunk" and (provider is None or obj["provider"] == provider)
    ]


def lines_of(path: Path, kind: str) -> list[dict[str, Any]]:
    return [obj for obj in RecordingReader(path) if obj["type"] == kind]


#: The version 1 schema's statements, as version 1 of ``sessions/db.py`` created them
#: (kept here: the code no longer has them, and a test must build a file it would find).
V1_SCHEMA = """
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

#: The chunks of the version 1 file ``v1_history`` writes: (run, idx, t, text, extra).
V1_CHUNKS: list[tuple[int, int, float, str, str | None]] = [
    (1, 0, 0.1, "Spark", None),
    (1, 1, 0.123457, "ling\x00", None),
    (1, 2, 0.2, "", '{"channel": "reasoning"}'),
    (1, 3, 0.25, "?", '{"channel": "refusal"}'),
    (1, 5, 0.5, " wäter", '{"metadata": {"finish_reason": "stop"}}'),  # 4 lost to a repair
    (2, 0, 1e-06, "par", None),
    (2, 1, 2e-06, "tial", None),
]


def v1_chunks(run_id: int) -> list[dict[str, Any]]:
    """What reading ``V1_CHUNKS`` of ``run_id`` gives: recording ``chunk`` lines."""
    import json

    return [
        {"index": idx, "t": t, "text": text, **(json.loads(extra) if extra else {})}
        for rid, idx, t, text, extra in V1_CHUNKS
        if rid == run_id
    ]


def v1_history(path: Path) -> None:
    """A version 1 history at ``path``, written with version 1's statements: one session,
    a finished run (its chunks with side channels, a gap) and one left streaming by a
    process long gone."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        conn.executescript(V1_SCHEMA)
        conn.executescript(
            "INSERT INTO sessions VALUES (1, 'c0ffee', 'old', 1.0, 2.0, 'p', 2);"
            "INSERT INTO providers VALUES (1, 1, 'p', '{\"kind\": \"scripted\"}');"
            "INSERT INTO turns VALUES (1, 1, 0, 'q', 1.0);"
            "INSERT INTO turns VALUES (2, 1, 1, 'again', 1.5);"
            "INSERT INTO runs VALUES (1, 1, 0, 'p', 'done', 1.0, 1, 0.6, 'Sparkling?', "
            "'stop', NULL, NULL, NULL, 5);"
            "INSERT INTO runs VALUES (2, 1, 1, 'p', 'streaming', 1.5, NULL, NULL, NULL, "
            "NULL, NULL, NULL, NULL, 0);"
        )
        conn.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?)", V1_CHUNKS)
        conn.execute("PRAGMA user_version = 1")
        conn.commit()
    finally:
        conn.close()
