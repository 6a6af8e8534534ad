"""The session commands of the CLI: stream --record / history by default, history, export,
replay; and the canary key that must never reach a recording, the history or an export."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from llmstream_tui.cli import main
from llmstream_tui.core.recording import RecordingReader
from llmstream_tui.sessions.history import History

CANARY = "sk-canary-3f9c1d7e-do-not-leak"


@pytest.fixture
def quick(tmp_path: Path) -> str:
    """A config whose ``swift`` streams in a few milliseconds (same kind and model)."""
    path = tmp_path / "quick.toml"
    path.write_text(
        '[providers.swift]\nkind = "simulated"\nmodel = "swift"\nttft_ms = 0\n'
        "chunks_per_s = 20000\n",
        encoding="utf-8",
    )
    return str(path)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def sessions() -> list[str]:
    with History() as history:
        return [row.title for row in history.list_sessions()]


def test_stream_saves_to_history_by_default(quick: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        ["stream", "--config", quick, "-p", "scripted:x", "-p", "swift", "first prompt"], capsys
    )
    assert code == 0 and err == ""
    with History() as history:
        (row,) = history.list_sessions()
        assert row.title == "first prompt" and row.providers == ["scripted:x", "swift"]
        assert row.status == "done"
        run_x = history.load(row.id).run("scripted:x", 0)
        assert run_x is not None and run_x.text.startswith("Sparkling water, oh so clear")


def test_no_history_flag_and_setting_keep_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["stream", "-p", "scripted:x", "--no-history", "a"], capsys)[0] == 0
    config = tmp_path / "c.toml"
    config.write_text("history = false\n", encoding="utf-8")
    assert run(["stream", "--config", str(config), "-p", "scripted:x", "b"], capsys)[0] == 0
    assert sessions() == []


def test_record_writes_every_provider_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "run.jsonl"
    code, out, _ = run(
        [
            "stream",
            "-p",
            "scripted:x",
            "-p",
            "scripted:y",
            "--format",
            "jsonl",
            "--record",
            str(path),
            "hi",
        ],
        capsys,
    )
    assert code == 0
    printed = [json.loads(line) for line in out.splitlines()]
    index = RecordingReader(path).index()
    assert index.prompts == ["hi"] and list(index.providers) == ["scripted:x", "scripted:y"]
    assert index.runs == {("scripted:x", 0): "done", ("scripted:y", 0): "done"}
    recorded = [
        x["text"]
        for x in RecordingReader(path)
        if x["type"] == "chunk" and x["provider"] == "scripted:x"
    ]
    assert recorded == [
        x["text"] for x in printed if x["type"] == "chunk" and x["provider"] == "scripted:x"
    ]
    before = path.read_bytes()
    code, _, err = run(["stream", "-p", "scripted:x", "--record", str(path), "again"], capsys)
    assert code == 2 and path.read_bytes() == before
    assert err.count("\n") == 1 and "already exists" in err and "--overwrite" in err
    assert (
        run(["stream", "-p", "scripted:x", "--record", str(path), "--overwrite", "again"], capsys)[
            0
        ]
        == 0
    )
    assert RecordingReader(path).index().prompts == ["again"]


def test_history_lists_newest_first_searches_and_limits(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for prompt in ("about tea", "about coffee", "about green tea"):
        assert run(["stream", "-p", "scripted:x", prompt], capsys)[0] == 0
    code, out, _ = run(["history"], capsys)
    assert code == 0
    header, *lines = out.splitlines()
    assert header.split() == ["ID", "UPDATED", "STATUS", "PROVIDERS", "TITLE"]
    assert [line.split("  ")[-1] for line in lines] == [
        "about green tea",
        "about coffee",
        "about tea",
    ]
    assert all("done" in line and "scripted:x" in line for line in lines)
    assert lines[0].split()[0] == "3"
    _, out, _ = run(["history", "--search", "TEA"], capsys)
    assert [line.split("  ")[-1] for line in out.splitlines()[1:]] == [
        "about green tea",
        "about tea",
    ]
    _, out, _ = run(["history", "--limit", "1"], capsys)
    assert len(out.splitlines()) == 2  # the header and one session


def test_export_prints_markdown_or_a_recording(
    tmp_path: Path, quick: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run(["stream", "--config", quick, "-p", "scripted:x", "-p", "swift", "song"], capsys)[0]
        == 0
    )
    code, md, _ = run(["export", "1"], capsys)
    assert code == 0 and md.startswith("# song\n")
    assert "## scripted:x (scripted · x)" in md and "## swift (simulated · swift)" in md
    assert md.count("| TTFT |") == 2
    code, jsonl, _ = run(["export", "1", "--format", "jsonl"], capsys)
    assert code == 0
    path = tmp_path / "e.jsonl"
    path.write_text(jsonl, encoding="utf-8")
    assert RecordingReader(path).index().runs == {("scripted:x", 0): "done", ("swift", 0): "done"}


def test_export_of_an_unknown_session_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(["export", "42"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "no session '42'" in err


def _fake_app(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    module = types.ModuleType("llmstream_tui.ui.app")

    def run_app(
        settings: Any, *, providers: list[str] | None = None, prompt: str | None = None
    ) -> int:
        calls.append({"settings": settings, "providers": providers, "prompt": prompt})
        return 0

    module.run_app = run_app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "llmstream_tui.ui.app", module)
    # pytest's stdin is no terminal: without this, replay would play headlessly
    monkeypatch.setattr("llmstream_tui.cli.terminal_problem", lambda: None)
    return calls


def test_replay_opens_the_app_with_one_replay_pane_per_recorded_provider(
    tmp_path: Path,
    quick: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "r.jsonl"
    assert (
        run(
            [
                "stream",
                "--config",
                quick,
                "-p",
                "scripted:x",
                "-p",
                "swift",
                "--record",
                str(path),
                "--no-history",
                "the prompt",
            ],
            capsys,
        )[0]
        == 0
    )
    calls = _fake_app(monkeypatch)
    assert run(["replay", str(path), "--speed", "2.5"], capsys)[0] == 0
    (call,) = calls
    assert call["prompt"] == "the prompt" and call["providers"] == ["scripted:x", "swift"]
    table = call["settings"].provider_table("swift")
    assert table == {
        "kind": "replay",
        "model": str(path),
        "speed": 2.5,
        "provider": "swift",
        "turn": 0,
    }


def test_replay_plays_in_the_terminal_when_the_app_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "r.jsonl"
    assert (
        run(["stream", "-p", "scripted:x", "--record", str(path), "--no-history", "p"], capsys)[0]
        == 0
    )
    monkeypatch.setitem(sys.modules, "llmstream_tui.ui.app", None)  # import fails
    code, out, err = run(["replay", str(path), "--speed", "0"], capsys)
    assert code == 0 and "replaying here" in err
    assert out.startswith("Spark|ling| water|,| oh| so clear|")
    assert sessions() == []  # a replay is not a new session


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty file"),
        (b"hello\n", "not an llmstream recording"),
        (b'{"format":"llmstream-recording","version":2}\n', "version 2 is not supported"),
    ],
)
def test_replay_of_a_bad_file_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expected: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    code, _, err = run(["replay", str(path)], capsys)
    assert code == 2 and err.count("\n") == 1 and expected in err
    assert path.read_bytes() == content


def test_replay_speed_must_be_a_non_negative_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["replay", str(tmp_path / "x.jsonl"), "--speed", "-1"])
    assert exc.value.code == 2 and "must be 0 or more" in capsys.readouterr().err


def test_the_key_never_reaches_a_recording_the_history_or_an_export(
    tmp_path: Path,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CANARY_KEY", CANARY)
    config = tmp_path / "c.toml"
    config.write_text(
        '[providers.secretive]\nkind = "scripted"\napi_key_env = "CANARY_KEY"\n'
        f'chunks = ["safe", " text"]\nheaders = {{ Authorization = "Bearer {CANARY}" }}\n'
        '[providers.failing]\nkind = "scripted"\napi_key_env = "CANARY_KEY"\n'
        'chunks = ["a", "b"]\nfail_at = 1\n',
        encoding="utf-8",
    )
    record = tmp_path / "r.jsonl"
    code, _, _ = run(
        [
            "stream",
            "--config",
            str(config),
            "-p",
            "secretive",
            "-p",
            "failing",
            "--events",
            "v2",
            "--record",
            str(record),
            "hi",
        ],
        capsys,
    )
    assert code == 1
    _, md, _ = run(["export", "1"], capsys)
    _, jsonl, _ = run(["export", "1", "--format", "jsonl"], capsys)
    files = [record, *data_dir.iterdir()]
    assert any(p.name == "history.sqlite3" for p in files)
    for path in files:
        assert CANARY.encode() not in path.read_bytes(), path
    assert CANARY not in md and CANARY not in jsonl
    assert '"api_key_env":"CANARY_KEY"' in record.read_text(encoding="utf-8")
    assert '"headers":["Authorization"]' in jsonl
