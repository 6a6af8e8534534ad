"""Comparisons saved to the history (``sessions/compare_history.py``, issue 18), through
the CLI as users run them: listed apart from conversations, shown again as they ended, and
taken as a baseline by reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmstream_tui.cli import main
from llmstream_tui.sessions.history import History


def config(tmp_path: Path, ttft_ms: int = 5) -> Path:
    path = tmp_path / f"c{ttft_ms}.toml"
    path.write_text(
        f'[providers.fast]\nkind = "scripted"\nchunks = ["a", "b", "c"]\nttft_ms = {ttft_ms}\n'
        '[providers.broken]\nkind = "scripted"\nchunks = ["a", "b"]\nfail_at = 1\n',
        encoding="utf-8",
    )
    return path


def compare(tmp_path: Path, *extra: str, ttft_ms: int = 5) -> list[str]:
    return [
        "compare",
        "--builtin",
        "--config",
        str(config(tmp_path, ttft_ms)),
        "--max-requests",
        "3",
        "--no-progress",
        "--no-live",
        *extra,
    ]


def test_a_comparison_is_saved_with_its_requests_and_listed_as_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(compare(tmp_path, "-p", "fast", "-p", "broken")) == 1  # broken fails all
    table = capsys.readouterr().out
    assert main(["stream", "-p", "scripted:x", "a conversation"]) == 0
    capsys.readouterr()
    with History() as history:
        chat, saved = history.list_sessions()
        assert (chat.kind, saved.kind) == ("chat", "compare")
        assert saved.providers == ["fast", "broken"] and saved.turns == 6
        record = history.load(saved.id)
        assert [r.status for r in record.runs].count("error") == 3
        ok = [r for r in record.runs if r.status == "done"]
        assert {r.text for r in ok} == {"abc"} and all(r.chunks == 3 for r in ok)
        chunks = list(history.iter_chunks(ok[0].id))
        assert [c["text"] for c in chunks] == ["a", "b", "c"]
        assert all(0 < c["t"] < 5 for c in chunks)
        assert record.provider("fast") is not None
    assert main(["history"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert "[compare] fast, broken · 6 requests (c1)" in listed[2]
    assert "[compare]" not in listed[1]
    assert main(["history", "--json"]) == 0
    kinds = [json.loads(line)["kind"] for line in capsys.readouterr().out.splitlines()]
    assert kinds == ["chat", "compare"]
    # shown again: the table exactly as printed at the end of the run
    assert main(["compare", "show", "last"]) == 0
    assert capsys.readouterr().out == table
    assert main(["compare", "show", str(saved.id), "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["providers"] == ["fast", "broken"] and "requests" not in shown


def test_no_history_skips_saving_as_on_stream(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(compare(tmp_path, "-p", "fast", "--no-history")) == 0
    assert main(["stream", "-p", "scripted:x", "hi"]) == 0
    capsys.readouterr()
    with History() as history:
        assert [s.kind for s in history.list_sessions()] == ["chat"]
    assert main(["compare", "show", "last"]) == 2
    err = capsys.readouterr().err
    assert "no comparison in the history" in err and err.count("\n") == 1


def test_the_baseline_may_be_a_comparison_in_the_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(compare(tmp_path, "-p", "fast")) == 0
    with History() as history:
        (fast,) = history.list_sessions()
    slower = compare(tmp_path, "-p", "fast", ttft_ms=80)
    for ref in ("last", str(fast.id), fast.uid[:8]):
        capsys.readouterr()
        assert main([*slower, "--no-history", "--baseline", ref, "--format", "json"]) == 0
        changes = json.loads(capsys.readouterr().out)["baseline"]["changes"]
        ttft = next(c for c in changes if c["metric"] == "time_to_first_token.p50")
        assert ttft["regression"] and ttft["new"] > ttft["old"]


def test_a_baseline_neither_file_nor_comparison_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stream", "-p", "scripted:x", "a conversation"]) == 0
    with History() as history:
        (chat,) = history.list_sessions()
    capsys.readouterr()
    for ref, message in (
        ("nowhere.json", "--baseline nowhere.json: no such file, and no comparison"),
        (str(chat.id), f"session '{chat.id}' is a conversation, not a comparison"),
    ):
        assert main([*compare(tmp_path, "-p", "fast"), "--baseline", ref]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err
