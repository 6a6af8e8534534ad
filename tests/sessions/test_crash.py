"""A real ``llmstream-tui stream`` process killed with SIGKILL mid-stream.

The child prints every chunk (``--format jsonl``, flushed per line) right after the recorder
has seen it, so its stdout is the truth about what it received. After the kill, the history
and the recording must hold a prefix of those chunks, missing at most the last ~100 ms
(the writer flushes every 50 ms), and the next open must be clean.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from llmstream_tui.cli import main
from llmstream_tui.core.recording import RecordingReader
from llmstream_tui.errors import StreamTruncated
from llmstream_tui.providers.registry import build_llm
from llmstream_tui.sessions.history import History

#: What a SIGKILL may lose: chunks that arrived during the last this-many seconds.
LOSS_WINDOW_S = 0.100
CHUNKS = 400
DELAY_MS = 10
KILL_AFTER = 60

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def _kill_mid_stream(tmp_path: Path, data_dir: Path) -> list[dict[str, Any]]:
    config = tmp_path / "c.toml"
    chunks = json.dumps([f"c{i} " for i in range(CHUNKS)])
    config.write_text(
        f'[providers.slow]\nkind = "scripted"\nchunks = {chunks}\ndelay_ms = {DELAY_MS}\n',
        encoding="utf-8",
    )
    env = {**os.environ, "LLMSTREAM_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llmstream_tui",
            "stream",
            "--config",
            str(config),
            "-p",
            "slow",
            "--format",
            "jsonl",
            "--record",
            str(tmp_path / "killed.jsonl"),
            "a prompt",
        ],
        stdout=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    printed: list[dict[str, Any]] = []
    try:
        for raw in proc.stdout:
            printed.append(json.loads(raw))
            if len(printed) == KILL_AFTER:
                os.kill(proc.pid, signal.SIGKILL)
                break
        printed += [json.loads(raw) for raw in proc.stdout]  # already in the pipe
    finally:
        proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()  # the pipe is ours to close (an unclosed file warns at GC)
    assert proc.returncode == -signal.SIGKILL
    assert all(x["type"] == "chunk" for x in printed) and len(printed) < CHUNKS
    return printed


def test_sigkill_mid_stream_loses_at_most_100_ms_and_reopens_clean(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    printed = _kill_mid_stream(tmp_path, data_dir)

    with History() as history:
        assert history.recovered == 1
        (row,) = history.list_sessions()
        assert row.status == "interrupted" and row.title == "a prompt"
        record = history.load(row.id)
        (run,) = record.runs
        saved = list(history.iter_chunks(run.id))
        assert run.status == "interrupted" and run.chunks == len(saved)
        assert run.text == "".join(c["text"] for c in saved)
    # What reached the disk is exactly a prefix of what the process received...
    assert [c["text"] for c in saved] == [p["text"] for p in printed[: len(saved)]]
    # ...missing only the chunks of the last LOSS_WINDOW_S.
    assert saved, "nothing was saved"
    lost_s = printed[-1]["t"] - saved[-1]["t"]
    assert lost_s <= LOSS_WINDOW_S, (lost_s, len(printed), len(saved))

    # The recording holds the same prefix (or more), in complete lines, and replays it.
    reader = RecordingReader(tmp_path / "killed.jsonl")
    recorded = [x for x in reader if x["type"] == "chunk"]
    assert [c["text"] for c in recorded] == [p["text"] for p in printed[: len(recorded)]]
    assert printed[-1]["t"] - recorded[-1]["t"] <= LOSS_WINDOW_S
    assert not any(x["type"] in ("end", "error") for x in reader)
    replay = build_llm({"kind": "replay", "model": str(tmp_path / "killed.jsonl"), "speed": 0})
    with pytest.raises(StreamTruncated) as exc:
        replay.invoke("a prompt")
    assert exc.value.partial_text == "".join(c["text"] for c in recorded)

    # The next open is clean: the database is intact and takes new sessions.
    conn = sqlite3.connect(data_dir / "history.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert main(["stream", "-p", "scripted:x", "after the crash"]) == 0
    capsys.readouterr()
    with History() as history:
        assert [r.title for r in history.list_sessions()] == ["after the crash", "a prompt"]
        assert history.list_sessions()[0].status == "done"
