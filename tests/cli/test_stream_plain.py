"""``stream``'s plain path (text mode, no --events or --tree): the
chunks come from ``LanguageModel.astream_to``, not from event dicts nothing reads; they
print exactly as the event path prints them, and the history and ``--record`` save exactly
what the event path's recorder saves (the one ``--events`` takes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmstream_tui.cli import main
from llmstream_tui.core.runnable import LanguageModel

CONFIG = """
[providers.plain]
kind = "scripted"
chunks = ["Hello", "", " world", "\\n", "!"]
usage = {input_tokens = 3, output_tokens = 4, total_tokens = 7}

[providers.channels]
kind = "scripted"
chunks = [
  {channel = "reasoning", text = "Think"},
  {channel = "tool_call", name = "f", id = "c1", args = "{\\"a\\":"},
  {channel = "tool_call", args = " 1}"},
  "Sun",
  {channel = "refusal", text = "No."},
  "ny",
]
usage = {input_tokens = 1, output_tokens = 2, total_tokens = 3}

[providers.llm]
kind = "scripted"
flavor = "llm"
chunks = ["a", "b", {channel = "refusal", text = "r"}]

[providers.whole]
kind = "scripted"
stream = false
chunks = ["all ", "at once"]

[providers.failing]
kind = "scripted"
chunks = ["part", "ial", "never"]
fail_at = 2
"""


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LLMSTREAM_CONFIG_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "plain.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.fixture
def event_streams(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the models whose ``astream_events`` ran."""
    calls: list[str] = []
    original = LanguageModel.astream_events

    def counted(self: LanguageModel, *args: Any, **kwargs: Any) -> Any:
        calls.append(self.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LanguageModel, "astream_events", counted)
    return calls


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_plain_stream_builds_no_events_with_or_without_history(
    config: Path, event_streams: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        capsys, "stream", "--config", str(config), "-p", "plain", "--no-history", "hi"
    )
    assert (code, out) == (0, "Hello| world|\n|!|\n")
    assert event_streams == []
    # saved to the history (as by default): the recorder takes the chunks, not events
    assert _run(capsys, "stream", "--config", str(config), "-p", "plain", "hi")[1] == out
    assert event_streams == []
    # the events printed (their recording keeps them too) need them
    assert (
        _run(capsys, "stream", "--config", str(config), "-p", "plain", "--events", "v2", "hi")[0]
        == 0
    )
    assert event_streams == ["plain"]


def _saved(path: Path) -> list[dict[str, Any]]:
    """A recording's lines without what differs between two runs of one answer: times,
    metrics, the creation stamp, the session's uid."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for line in lines:
        for key in ("t", "metrics", "created", "session"):
            line.pop(key, None)
    return lines


@pytest.mark.parametrize("provider", ["plain", "channels", "llm", "whole", "failing"])
def test_the_plain_path_saves_what_the_event_path_saves(
    config: Path,
    provider: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def run(name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(tmp_path / name))  # a history each
        record = tmp_path / f"{name}.jsonl"
        argv = ["stream", "--config", str(config), "-p", provider, "--record", str(record)]
        main([*argv, "hi"])
        capsys.readouterr()
        assert main(["export", "1", "--format", "jsonl"]) == 0
        history = tmp_path / f"{name}-history.jsonl"
        history.write_text(capsys.readouterr().out, encoding="utf-8")
        return _saved(record), _saved(history)

    plain = run("plain")
    monkeypatch.setattr(LanguageModel, "streams_like_its_events", lambda self: False)
    events = run("events")
    assert plain == events
    for saved in plain:  # the recording, then the history's export: each run whole
        kinds = [line.get("type") for line in saved]
        assert "chunk" in kinds and kinds[-1] in ("end", "error")


@pytest.mark.parametrize("provider", ["plain", "channels", "llm", "whole", "failing"])
@pytest.mark.parametrize("show", [[], ["--show", "all"]], ids=["answer", "show-all"])
def test_the_plain_path_prints_what_the_event_path_prints(
    config: Path, provider: str, show: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["stream", "--config", str(config), "-p", provider, *show, "hi"]
    plain = _run(capsys, *argv[:-1], "--no-history", "hi")
    recorded = _run(capsys, *argv)
    assert plain == recorded
    assert plain[0] == (1 if provider == "failing" else 0)
