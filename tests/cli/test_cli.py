"""The headless CLI end to end, in-process (`main(argv)`) and as a real subprocess."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from llmstream_tui.cli import main


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LLMSTREAM_CONFIG_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(tmp_path / "data"))


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_text_mode_prints_chunks_with_delimiters(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["stream", "-p", "scripted:x", "Write me a 1 verse song."], capsys)
    assert code == 0
    assert out.startswith("Spark|ling| water|,| oh| so clear|")
    assert out.endswith("delight|!|\n")  # the closing empty chunk prints no delimiter


def test_custom_delimiter(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["stream", "-p", "scripted:x", "--delimiter", "¦", "hi"], capsys)
    assert code == 0 and out.startswith("Spark¦ling¦")


def test_default_provider_is_the_offline_simulated_one(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["stream", "--format", "jsonl", "tea"], capsys)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[-1]["type"] == "end" and lines[-1]["provider"] == "swift"
    chunks = [x["text"] for x in lines if x["type"] == "chunk"]
    assert "".join(chunks) == lines[-1]["text"] and len(chunks) > 5


def test_jsonl_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["stream", "-p", "scripted:x", "--format", "jsonl", "hi"], capsys)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    first, end = lines[0], lines[-1]
    assert set(first) == {"type", "provider", "index", "channel", "text", "t"}
    assert {x["channel"] for x in lines[:-1]} == {"text"}
    assert first["type"] == "chunk" and first["index"] == 0 and first["text"] == "Spark"
    assert [x["index"] for x in lines[:-1]] == list(range(len(lines) - 1))
    assert all(a["t"] <= b["t"] for a, b in itertools.pairwise(lines[:-1]))
    assert set(end) == {
        "type",
        "provider",
        "text",
        "finish_reason",
        "usage",
        "reasoning",
        "refusal",
        "tool_calls",
        "metrics",
    }
    assert (end["reasoning"], end["refusal"], end["tool_calls"]) == (None, None, [])
    assert end["finish_reason"] == "stop"
    assert set(end["metrics"]) == {
        "ttft_s",
        "total_s",
        "chunks",
        "chunks_per_s",
        "itl_p50_s",
        "itl_p95_s",
        "ttfr_s",
        "reasoning_s",
        "reasoning_chunks",
        "reasoning_tokens",
        "tool_call_chunks",
        "refusal_chunks",
    }
    assert end["metrics"]["chunks"] == len(lines) - 1


def test_failure_gives_error_line_with_partial_text_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[providers.bad]\nkind = "scripted"\nchunks = ["a", "b", "c"]\nfail_at = 2\n'
        'fail_with = "overloaded"\n'
    )
    code, out, _ = run(
        [
            "stream",
            "--config",
            str(cfg),
            "-p",
            "bad",
            "-p",
            "scripted:ok",
            "--format",
            "jsonl",
            "hi",
        ],
        capsys,
    )
    assert code == 1
    lines = [json.loads(line) for line in out.splitlines()]
    error = next(x for x in lines if x["type"] == "error")
    assert error == {
        "type": "error",
        "provider": "bad",
        "text": "ab",
        "error": {"kind": "scripted", "message": "bad: overloaded", "status": None},
    }
    ok_end = next(x for x in lines if x["type"] == "end")
    assert ok_end["provider"] == "scripted:ok" and ok_end["text"].startswith("Sparkling water")


def test_text_mode_failure_is_one_stderr_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[providers.bad]\nkind = "scripted"\nchunks = ["a", "b"]\nfail_at = 1\n')
    code, out, err = run(["stream", "--config", str(cfg), "-p", "bad", "hi"], capsys)
    assert code == 1
    assert out == "a|\n"
    assert err == "llmstream-tui: scripted: bad: scripted failure\n"


def test_events_v2_and_v1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["stream", "-p", "scripted:x", "--events", "v2", "hi"], capsys)
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert events[0]["event"] == "on_chat_model_start"
    assert events[0]["data"] == {"input": "hi"}
    assert events[1]["data"]["chunk"]["type"] == "AIMessageChunk"
    assert events[1]["data"]["chunk"]["content"] == "Spark"
    assert events[-1]["event"] == "on_chat_model_end"
    assert "ls_provider" in events[0]["metadata"]
    code, out, _ = run(["stream", "-p", "scripted:x", "--events", "v1", "hi"], capsys)
    v1 = [json.loads(line) for line in out.splitlines()]
    assert v1[0]["metadata"] == {} and v1[-1]["event"] == "on_chat_model_end"


def test_prompt_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("from stdin"))
    code, out, _ = run(["stream", "-p", "scripted:x", "--events", "v2", "-"], capsys)
    assert code == 0 and json.loads(out.splitlines()[0])["data"]["input"] == "from stdin"


def test_hostile_text_is_escaped_on_a_terminal_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[providers.h]\nkind = "scripted"\nchunks = ["\\u001b[2J", "\\u001b]52;c;eA==\\u0007"]\n'
    )
    code, out, _ = run(["stream", "--config", str(cfg), "-p", "h", "hi"], capsys)
    assert "\x1b" in out  # piped: raw, as a Unix tool should
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, _ = run(["stream", "--config", str(cfg), "-p", "h", "hi"], capsys)
    assert code == 0 and "\x1b" not in out and "\\x1b[2J|" in out and "\\x07" in out
    code, out, _ = run(["stream", "--config", str(cfg), "-p", "h", "--raw", "hi"], capsys)
    assert "\x1b[2J" in out


def test_bad_config_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("delimiter = [\n")
    code, out, err = run(["stream", "--config", str(cfg), "hi"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "TOML syntax error" in err and "Traceback" not in err


def test_unknown_provider_exits_nonzero_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["stream", "-p", "nope", "hi"], capsys)
    assert code == 2 and err.count("\n") == 1 and "unknown provider 'nope'" in err


def test_providers_lists_builtins_and_checks_them(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["providers", "--check"], capsys)
    assert code == 0
    assert "swift" in out and "simulated" in out and "  ok, first chunk in" in out


def test_real_subprocess_streams_origin_example(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "XDG_CONFIG_HOME": str(tmp_path),
        "LLMSTREAM_DATA_DIR": str(tmp_path / "d"),
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "llmstream_tui",
            "stream",
            "-p",
            "scripted:x",
            "Write me a 1 verse song about sparkling water.",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Spark|ling| water|")
    assert proc.stderr == ""


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["stream", "--format", "xml", "hi"])
    assert info.value.code == 2


def test_options_before_the_command_are_not_taken_for_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "stream"  # a config file whose name is a command's
    cfg.write_text('delimiter = "/"\n')
    code, out, _ = run(["--config", str(cfg), "stream", "-p", "scripted:x", "hi"], capsys)
    assert code == 0 and out.startswith("Spark/ling/")
