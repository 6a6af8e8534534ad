"""Issue 15, the history database on disk: two apps continuing one session, a damaged file,
a read-only copy, a full disk. Each case: one clear line, the right exit code, nothing lost.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from llmstream_tui.cli import main
from llmstream_tui.errors import RecordingError
from llmstream_tui.sessions.db import FILE_NAME
from llmstream_tui.sessions.history import History, HistoryWriter
from llmstream_tui.sessions.recorder import SessionRecorder
from llmstream_tui.sessions.repair import repair
from llmstream_tui.ui.app import make_app
from llmstream_tui.ui.screens.history import HistoryScreen
from llmstream_tui.ui.textual_internals import notification_messages
from tests.ui.test_app import rows, two_scripted, type_and_send


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


# -- item 2: a history database with damaged pages -------------------------------------------


def leaf_pages(path: Path, table: str) -> list[int]:
    """The leaf pages of ``table``'s b-tree (its root must be an interior page: a table
    spread over several pages), read from the file's own page format."""
    with sqlite3.connect(path) as conn:
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
    conn.close()
    data = path.read_bytes()
    size = int.from_bytes(data[16:18], "big")
    page = data[(root - 1) * size : root * size]
    assert page[0] in (0x02, 0x05), "the table fits one page: add rows"  # interior page
    cells = int.from_bytes(page[3:5], "big")
    pointers = [int.from_bytes(page[12 + 2 * i : 14 + 2 * i], "big") for i in range(cells)]
    return [int.from_bytes(page[p : p + 4], "big") for p in pointers] + [
        int.from_bytes(page[8:12], "big")
    ]


def damaged_history(path: Path, sessions: int = 30) -> int:
    """A history of ``sessions`` sessions (long titles: several pages of them), checkpointed,
    then one page of its sessions table (not the first: the 100-byte header and the schema
    stay intact) overwritten with garbage. Returns the page size."""
    for i in range(sessions):
        saved_session(path, [f"session {i:02d} " + "t" * 180])
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    pages = leaf_pages(path, "sessions")
    assert len(pages) >= 2
    data = bytearray(path.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    victim = pages[0]
    data[(victim - 1) * size : victim * size] = bytes(range(251)) * (size // 251) + b"\xff" * (
        size % 251
    )
    path.write_bytes(bytes(data))
    return size


def test_history_on_a_damaged_database_is_one_line_and_exit_2(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = data_dir / FILE_NAME
    data_dir.mkdir(parents=True)
    damaged_history(path)
    code = main(["history"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"llmstream-tui: error: history database {path} is damaged: ")
    assert err.rstrip().endswith("run llmstream-tui history --repair")


def test_repair_keeps_a_backup_and_salvages_the_readable_sessions(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = data_dir / FILE_NAME
    data_dir.mkdir(parents=True)
    damaged_history(path)
    damaged = path.read_bytes()
    assert main(["history", "--repair"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.count("\n") == 1
    kept = int(out.split("kept ")[1].split(" sessions")[0])
    assert 0 < kept < 30
    (backup,) = data_dir.glob(FILE_NAME + ".damaged-*[0-9]")
    assert backup.read_bytes() == damaged and str(backup) in out
    assert main(["history", "--limit", "100"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert sum(" session " in line for line in listed) == kept
    with History(path) as history:
        for row in history.list_sessions(limit=100):
            record = history.load(row.id)
            assert record.prompts == [row.title]
            (run,) = record.runs
            assert run.text == "answer to " + row.title
            assert "".join(c["text"] for c in history.iter_chunks(run.id)) == run.text
    assert main(["history", "--repair"]) == 0  # a second time: nothing to do
    assert "not damaged" in capsys.readouterr().out


def test_saving_pauses_on_a_damaged_history_and_resumes_once_it_is_repaired(
    tmp_path: Path,
) -> None:
    path = tmp_path / FILE_NAME
    damaged_history(path, sessions=20)
    with pytest.raises(RecordingError, match="is damaged"), History(path) as history:
        history.list_sessions()
    # this process saw it damaged: no writer touches it (a write could spread the damage)
    with pytest.raises(RecordingError, match="run llmstream-tui history --repair"):
        HistoryWriter(path)
    recorder = SessionRecorder.open(history_path=path)
    assert recorder.history is None and len(recorder.problems) == 1
    recorder.close()
    report = repair(path)
    assert report.backup is not None and 0 < report.sessions < 20
    uid = saved_session(path, ["after the repair"])  # the repaired file: saving resumes
    with History(path) as history:
        assert history.load(uid).prompts == ["after the repair"]
        assert history.count_sessions() == report.sessions + 1


async def test_f3_on_a_damaged_history_is_a_notice_and_the_app_and_panes_stay(
    data_dir: Path,
) -> None:
    path = data_dir / FILE_NAME
    data_dir.mkdir(parents=True)
    damaged_history(path, sessions=24)
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        before = [rows(app, 0), rows(app, 1)]
        assert before[1][-1] == "|Bub|bles|!|"
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        shown = [m for m in notification_messages(app) if "is damaged" in m]
        assert len(shown) == 1 and shown[0].startswith(f"history: history database {path}")
        assert shown[0].endswith("run llmstream-tui history --repair")
        await pilot.press("escape")
        await pilot.pause()
        assert [rows(app, 0), rows(app, 1)] == before
        # saving pauses (one notice), the runs go on
        await type_and_send(pilot, "again")
        assert app.recorder is not None
        app.recorder.flush()
        await app._frame()
        await pilot.press("ctrl+n")  # a new conversation: its recorder is refused too
        await type_and_send(pilot, "third")
        app.recorder.flush()
        await app._frame()
        assert [p.session.state for p in app.panes] == ["done", "done"]
        assert rows(app, 1)[-1] == "|Bub|bles|!|"
        paused = [m for m in notification_messages(app) if "saved: " in m]
        assert len(paused) == 1 and "is damaged" in paused[0], paused
    assert app.return_code in (None, 0)


async def test_reopening_a_session_on_damaged_pages_keeps_the_panes(data_dir: Path) -> None:
    path = data_dir / FILE_NAME
    data_dir.mkdir(parents=True)
    with SessionRecorder.open(history_path=path) as recorder:
        recorder.begin_turn("a long answer")
        run = recorder.start_run("alpha")
        for i in range(400):
            run.chunk(f"chunk {i:03d} " + "c" * 40)
        run.end("".join(f"chunk {i:03d} " + "c" * 40 for i in range(400)))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    pages = leaf_pages(path, "chunk_batches")
    data = bytearray(path.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    victim = pages[len(pages) // 2]
    data[(victim - 1) * size : victim * size] = b"\xa5" * size
    path.write_bytes(bytes(data))
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        before = [rows(app, 0), rows(app, 1)]
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen) and len(app.screen.rows) == 2
        app.screen.table.move_cursor(row=1)  # the damaged session (the first one saved)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = [m for m in notification_messages(app) if "is damaged" in m]
        assert len(shown) == 1 and "history --repair" in shown[0]
        assert [p.session.name for p in app.panes] == ["alpha", "beta"]
        assert [rows(app, 0), rows(app, 1)] == before
        await type_and_send(pilot, "still here")
        assert [p.session.state for p in app.panes] == ["done", "done"]


# -- items 9 and 10: a read-only copy, a full disk --------------------------------------------


def cli(
    argv: list[str],
    *,
    env_dir: Path,
    wrap: list[str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``llmstream-tui ARGV`` in a subprocess (its own process: permissions, mounts and
    limits apply to it alone), with the history in ``env_dir``."""
    env = {**os.environ, "LLMSTREAM_DATA_DIR": str(env_dir)}
    command = [sys.executable, "-m", "llmstream_tui", *argv]
    return subprocess.run(
        [*(wrap or []), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=preexec_fn,
    )


def read_only_view(folder: Path) -> list[str]:
    """What makes ``folder`` and the files in it read-only for a command: their mode bits
    for a normal user; for root (whom mode bits do not stop), a read-only bind mount of the
    folder in a mount namespace of the command's own (``unshare -m``)."""
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)
    if os.geteuid() != 0:
        return []
    script = (
        f'mount --bind "{folder}" "{folder}" && mount -o remount,bind,ro "{folder}" && exec "$@"'
    )
    return ["unshare", "-m", "sh", "-c", script, "sh"]


def test_a_read_only_history_lists_and_exports(data_dir: Path) -> None:
    path = data_dir / FILE_NAME
    data_dir.mkdir(parents=True)
    uid = saved_session(path, ["kept on a read-only mount"])
    before = path.read_bytes()
    wrap = read_only_view(data_dir)
    try:
        listed = cli(["history"], env_dir=data_dir, wrap=wrap)
        assert (listed.returncode, listed.stderr) == (0, "")
        assert "kept on a read-only mount" in listed.stdout
        exported = cli(["export", uid[:8], "--format", "jsonl"], env_dir=data_dir, wrap=wrap)
        assert (exported.returncode, exported.stderr) == (0, "")
        ends = [json.loads(x) for x in exported.stdout.splitlines()]
        assert [x["text"] for x in ends if x.get("type") == "end"] == [
            "answer to kept on a read-only mount"
        ]
    finally:
        data_dir.chmod(0o755)
    assert path.read_bytes() == before
    assert sorted(p.name for p in data_dir.iterdir()) == [FILE_NAME]


_KILLED_MID_RUN = """
import os, signal, sys
from llmstream_tui.sessions.recorder import SessionRecorder
recorder = SessionRecorder.open(history_path=sys.argv[1])
recorder.begin_turn("cut short")
run = recorder.start_run("alpha")
for i in range(200):
    run.chunk(f"piece {i} " + "z" * 40)
recorder.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""


def no_space_left() -> None:
    """In the child: no file may grow by a byte (what a full disk allows), not even the
    ``-shm`` file SQLite rebuilds after a crash. Writes that would grow a file fail with
    EFBIG instead of killing the process."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))


def test_history_lists_sessions_on_a_full_disk_after_an_interrupted_run(data_dir: Path) -> None:
    path = data_dir / FILE_NAME
    saved_session(path, ["saved before"])
    killed = subprocess.run([sys.executable, "-c", _KILLED_MID_RUN, str(path)], timeout=60)
    assert killed.returncode == -signal.SIGKILL
    listed = cli(["history"], env_dir=data_dir, preexec_fn=no_space_left)
    assert (listed.returncode, listed.stderr) == (0, "")
    lines = [x for x in listed.stdout.splitlines() if "cut short" in x or "saved before" in x]
    assert len(lines) == 2  # newest first
    assert "interrupted" in lines[0] and "cut short" in lines[0]
    assert "done" in lines[1] and "saved before" in lines[1]
    # with space again, recovery happens: the run is marked, with the text that was saved
    with History(path) as history:
        assert history.recovered == 1
        record = history.load(history.list_sessions()[0].id)
        (run,) = record.runs
        assert run.status == "interrupted" and run.text.startswith("piece 0 zzz")
        assert run.chunks == 200
