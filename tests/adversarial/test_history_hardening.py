"""Issue 15, the history database on disk: two apps continuing one session, a damaged file,
a read-only copy, a full disk. Each case: one clear line, the right exit code, nothing lost.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from llmstream_tui.sessions.history import History
from llmstream_tui.sessions.recorder import SessionRecorder


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own data dir: the history lives there."""
    folder = tmp_path / "data"
    monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(folder))
    return folder


def saved_session(path: Path, prompts: list[str], *, provider: str = "alpha") -> str:
    """A saved session at ``path`` whose turns are ``prompts``, each answered by
    ``provider`` with ``answer to <prompt>``; returns its uid."""
    with SessionRecorder.open(history_path=path) as recorder:
        for prompt in prompts:
            recorder.begin_turn(prompt)
            run = recorder.start_run(provider)
            run.chunk("answer to ")
            run.chunk(prompt)
            run.end("answer to " + prompt)
        uid = recorder.session_uid
    assert uid is not None
    return uid


def follow_up(recorder: SessionRecorder, prompt: str) -> None:
    recorder.begin_turn(prompt)
    run = recorder.start_run("alpha")
    run.chunk(prompt)
    run.end("answer to " + prompt)
    recorder.flush()


# -- item 1: two instances continuing the same saved session ---------------------------------


def test_two_recorders_continuing_one_session_keep_both_follow_ups(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    uid = saved_session(path, ["first"])
    # both apps reopen the session before either sends: both think the next turn is 1
    one = SessionRecorder.open(history_path=path, session=uid)
    two = SessionRecorder.open(history_path=path, session=uid)
    follow_up(one, "from app one")
    follow_up(two, "from app two")
    one.close()
    two.close()
    assert one.problems == [] and two.problems == []
    with History(path) as history:
        record = history.load(uid)
        assert record.prompts == ["first", "from app one", "from app two"]
        assert [(r.turn, r.text) for r in record.runs] == [
            (0, "answer to first"),
            (1, "answer to from app one"),
            (2, "answer to from app two"),
        ]
        lines = list(history.export_lines(uid))
    assert [x["text"] for x in lines if x.get("type") == "prompt"] == record.prompts
    assert [x["text"] for x in lines if x.get("type") == "end"] == [r.text for r in record.runs]


_INSTANCE = """
import sys
from llmstream_tui.sessions.recorder import SessionRecorder
recorder = SessionRecorder.open(history_path=sys.argv[1], session=sys.argv[2])
print("open", flush=True)
sys.stdin.readline()  # go
recorder.begin_turn(sys.argv[3])
run = recorder.start_run("alpha")
run.chunk(sys.argv[3])
run.end("answer to " + sys.argv[3])
recorder.close()
print("problems:", recorder.problems, flush=True)
"""


def test_two_processes_continuing_one_session_keep_both_follow_ups(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    uid = saved_session(path, ["first", "second"])
    procs = []
    for prompt in ("process one", "process two"):
        proc = subprocess.Popen(
            [sys.executable, "-c", _INSTANCE, str(path), uid, prompt],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline() == "open\n"
        procs.append(proc)
    # both have read the session (next turn: 2) before either writes
    outs = [proc.communicate("go\n", timeout=30)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0]
    assert outs == ["problems: []\n", "problems: []\n"]
    with History(path) as history:
        record = history.load(uid)
    assert record.prompts == ["first", "second", "process one", "process two"]
    assert [r.text for r in record.runs] == [
        "answer to first",
        "answer to second",
        "answer to process one",
        "answer to process two",
    ]
