"""``stream`` with reasoning, tool calls, refusals and usage (issue 12): the answer alone by
default, the other channels on request and marked, every channel in JSON lines."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from llmstream_tui.cli import main

CONFIG = """
[providers.think]
kind = "scripted"
finish_reason = "tool_calls"
chunks = [
  "",
  {channel = "reasoning", text = "The user wants "},
  {channel = "reasoning", text = "the weather.\\nCall the tool."},
  {channel = "tool_call", name = "get_weather", id = "call_1", args = '{"city": '},
  {channel = "tool_call", args = '"Paris"}'},
  {channel = "tool_call", name = "bad", id = "call_2", args = '{"x', index = 1},
  "Checking",
  " the weather.",
]
usage = {input_tokens = 9, output_tokens = 20, total_tokens = 29, output_token_details = {reasoning = 12}}

[providers.no]
kind = "scripted"
chunks = [{channel = "refusal", text = "I can't "}, {channel = "refusal", text = "help."}]

[providers.hostile]
kind = "scripted"
chunks = [
  {channel = "reasoning", text = "\\u001b]52;c;eA==\\u0007"},
  {channel = "tool_call", name = "\\u001b[2J", id = "x", args = "{}"},
  "ok",
]
"""


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LLMSTREAM_CONFIG_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "channels.toml"
    path.write_text(CONFIG)
    return str(path)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_text_mode_prints_the_answer_only_and_no_empty_delimiters(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["stream", "--config", config, "-p", "think", "hi"], capsys)
    assert code == 0 and err == ""
    assert out == "Checking| the weather.|\n"


def test_show_all_marks_each_channel_with_a_line_prefix_when_piped(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["stream", "--config", config, "-p", "think", "--show", "all", "hi"], capsys)
    assert code == 0
    assert out.splitlines() == [
        "[reasoning] The user wants |the weather.",
        "[reasoning] Call the tool.|",
        '[tool_call get_weather call_1] {"city": |"Paris"}|',
        '[tool_call bad call_2] {"x|',
        "Checking| the weather.|",
        "[usage] input 9, output 20 (reasoning 12), total 29",
    ]
    assert "\x1b" not in out


def test_show_takes_a_comma_list(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["stream", "--config", config, "-p", "think", "--show", "tools,usage", "hi"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    assert "[reasoning]" not in out and "[tool_call get_weather call_1]" in out
    assert out.endswith("[usage] input 9, output 20 (reasoning 12), total 29\n")
    with pytest.raises(SystemExit) as info:
        main(["stream", "--show", "reasoning,thoughts", "hi"])
    assert info.value.code == 2
    assert "thoughts" in capsys.readouterr().err


def test_on_a_terminal_other_channels_are_dim_and_escaped(
    config: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, _ = run(["stream", "--config", config, "-p", "think", "--show", "all", "hi"], capsys)
    assert code == 0
    lines = out.splitlines()
    dim = "\x1b[2m{}\x1b[22m".format
    # each piece is dim on its own (a line never ends inside an open SGR)
    assert lines[0] == dim("[reasoning] ") + dim("The user wants |") + dim("the weather.")
    assert lines[1] == dim("Call the tool.|")  # no prefix: the dim marks it
    assert lines[4] == "Checking| the weather.|"  # the answer is never dim
    argv = ["stream", "--config", config, "-p", "hostile", "--show", "all", "hi"]
    code, out, _ = run(argv, capsys)
    bare = out.replace("\x1b[2m", "").replace("\x1b[22m", "")
    assert code == 0 and "\x1b" not in bare and "\x07" not in bare
    assert "\\x1b]52;c;eA==\\x07" in bare and "[tool_call \\x1b[2J x]" in bare


def test_a_refusal_is_not_printed_as_the_answer(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["stream", "--config", config, "-p", "no", "hi"], capsys)
    assert code == 0 and out == "\n"
    assert err == "llmstream-tui: no: the model refused (--show refusal prints its reason)\n"
    argv = ["stream", "--config", config, "-p", "no", "--show", "refusal", "hi"]
    code, out, err = run(argv, capsys)
    assert out == "[refusal] I can't |help.|\n" and err == ""


def test_several_providers_keep_their_name_before_each_marked_line(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["stream", "--config", config, "-p", "no", "-p", "think", "--show", "all", "hi"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    lines = out.splitlines()
    assert "[no] [refusal] I can't |help.|" in lines
    assert "[think] [reasoning] Call the tool.|" in lines
    assert "[think] Checking| the weather.|" in lines


def test_jsonl_carries_every_channel_and_the_assembled_end(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["stream", "--config", config, "-p", "think", "--format", "jsonl", "hi"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    chunks, end = lines[:-1], lines[-1]
    assert [c["channel"] for c in chunks] == ["reasoning"] * 2 + ["tool_call"] * 3 + ["text"] * 2
    assert [c["index"] for c in chunks] == list(range(7))
    assert chunks[2]["tool_call"] == {
        "name": "get_weather",
        "args": '{"city": ',
        "id": "call_1",
        "index": 0,
        "type": "tool_call_chunk",
    }
    assert "tool_call" not in chunks[0] and chunks[0]["text"] == "The user wants "
    assert end["text"] == "Checking the weather."
    assert end["reasoning"] == "The user wants the weather.\nCall the tool."
    assert end["refusal"] is None
    assert end["tool_calls"] == [
        {"name": "get_weather", "id": "call_1", "args": {"city": "Paris"}},
        {"name": "bad", "id": "call_2", "args": '{"x', "invalid_json": True},
    ]
    assert end["usage"]["output_token_details"] == {"reasoning": 12}
    assert end["finish_reason"] == "tool_calls"
    metrics = end["metrics"]
    assert metrics["chunks"] == 2 and metrics["reasoning_chunks"] == 2
    assert metrics["tool_call_chunks"] == 3 and metrics["reasoning_tokens"] == 12
    assert metrics["ttfr_s"] <= metrics["ttft_s"]


def test_jsonl_refusal_is_its_own_channel_and_end_field(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["stream", "--config", config, "-p", "no", "--format", "jsonl", "hi"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(c["channel"], c["text"]) for c in lines[:-1]] == [
        ("refusal", "I can't "),
        ("refusal", "help."),
    ]
    assert lines[-1]["text"] == "" and lines[-1]["refusal"] == "I can't help."


def test_a_non_streamed_answer_prints_its_channels_too(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "once.toml"
    path.write_text(
        Path(config).read_text().replace('finish_reason = "tool_calls"', "stream = false")
    )
    argv = ["stream", "--config", str(path), "-p", "think", "--format", "jsonl", "hi"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [c["channel"] for c in lines[:-1]] == ["reasoning", "tool_call", "tool_call", "text"]
    assert lines[-1]["tool_calls"][1] == {
        "name": "bad",
        "id": "call_2",
        "args": '{"x',
        "invalid_json": True,
    }


def test_the_channels_demo_prints_what_the_readme_shows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    shown = readme.split("```text\n[reasoning]", 1)[1].split("```", 1)[0]
    code, out, _ = run(["stream", "-p", "scripted:channels", "--show", "all", "weather?"], capsys)
    assert code == 0 and out == "[reasoning]" + shown
    code, out, _ = run(["stream", "-p", "scripted:channels", "weather?"], capsys)
    assert out == "Sunny| in| Paris.|\n"
