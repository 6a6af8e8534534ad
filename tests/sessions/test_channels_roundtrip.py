"""Every channel survives the trip (issue 12): scripted reasoning + tool call + text (and a
refusal) -> ``stream --record`` -> the ``replay`` kind gives the same chunks on the same
channels at their recorded times; -> history -> ``export`` keeps them (Markdown blocks,
JSON lines with their channels)."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest

from llmstream_tui.cli import main
from llmstream_tui.core.messages import AIMessageChunk
from llmstream_tui.core.recording import RecordingReader
from llmstream_tui.providers.registry import build_llm
from llmstream_tui.sessions.export import export_jsonl, export_markdown
from llmstream_tui.sessions.history import History

CONFIG = """
[providers.think]
kind = "scripted"
delay_ms = 15
finish_reason = "tool_calls"
chunks = [
  {channel = "reasoning", text = "Weather "},
  {channel = "reasoning", text = "needs a tool. </details> <b>x</b>"},
  {channel = "tool_call", name = "get_weather", id = "call_1", args = '{"city": '},
  {channel = "tool_call", args = '"Paris"}'},
  {channel = "tool_call", name = "broken", id = "call_2", args = '{"x', index = 1},
  "Sunny",
  " in Paris.",
]
usage = {input_tokens = 9, output_tokens = 20, total_tokens = 29, output_token_details = {reasoning = 12}}

[providers.no]
kind = "scripted"
chunks = [{channel = "refusal", text = "I can't "}, {channel = "refusal", text = "help."}]
"""


def shape(chunk: AIMessageChunk) -> dict[str, Any]:
    """What a chunk carries, ids and the closing marker aside."""
    d = chunk.to_dict()
    d.pop("id", None)
    return d


async def chunks_of(spec: dict[str, Any] | str, settings_path: Path | None = None) -> list[Any]:
    from llmstream_tui.config import load_settings

    settings = load_settings(settings_path) if settings_path else None
    llm = build_llm(spec, settings=settings)
    try:
        chunks = [c async for c in llm.astream("q")]
        return [shape(c) for c in chunks if isinstance(c, AIMessageChunk) and not c.chunk_position]
    finally:
        await llm.aclose()


@pytest.fixture
def recorded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    config = tmp_path / "c.toml"
    config.write_text(CONFIG)
    rec = tmp_path / "rec.jsonl"
    argv = ["stream", "--config", str(config), "-p", "think", "-p", "no", "--record", str(rec)]
    assert main([*argv, "weather?"]) == 0
    capsys.readouterr()
    return config, rec


def test_replay_gives_the_same_chunks_on_the_same_channels(recorded: tuple[Path, Path]) -> None:
    config, rec = recorded
    for name in ("think", "no"):
        live = asyncio.run(chunks_of(name, config))
        again = asyncio.run(
            chunks_of({"kind": "replay", "model": str(rec), "provider": name, "speed": 0})
        )
        assert again == live, name
    think = asyncio.run(chunks_of("think", config))
    assert think[0] == {
        "type": "AIMessageChunk",
        "content": "",
        "additional_kwargs": {"reasoning_content": "Weather "},
    }
    assert think[2]["tool_call_chunks"][0]["name"] == "get_weather"


def test_replay_keeps_each_channels_recorded_time(
    recorded: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, rec = recorded
    was = [x for x in RecordingReader(rec) if x["type"] == "chunk" and x["provider"] == "think"]
    assert [x.get("channel") for x in was] == [
        "reasoning",
        "reasoning",
        "tool_call",
        "tool_call",
        "tool_call",
        None,
        None,
        "meta",
    ]
    assert main(["stream", "-p", f"replay:{rec}", "--format", "jsonl", "--no-history", "q"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    now = [x for x in lines if x["type"] == "chunk"]
    assert [x["channel"] for x in now] == ["reasoning"] * 2 + ["tool_call"] * 3 + ["text"] * 2
    for before, after in zip(was, now, strict=False):
        # scheduled at the recorded time (never early); 15 ms apart when recorded
        assert after["t"] >= before["t"] - 0.002, (before, after)
    assert now[-1]["t"] >= 0.08
    end = lines[-1]
    assert end["reasoning"] == "Weather needs a tool. </details> <b>x</b>"
    assert [c["name"] for c in end["tool_calls"]] == ["get_weather", "broken"]


def test_history_exports_markdown_blocks_and_jsonl_channels(recorded: tuple[Path, Path]) -> None:
    with History() as history:
        (summary,) = history.list_sessions()
        md = export_markdown(history, summary.id)
        buf = io.StringIO()
        export_jsonl(history, summary.id, buf)
    think = md.split("## think", 1)[1].split("## no", 1)[0]
    assert (
        "<details><summary>Reasoning</summary>\n\nWeather needs a tool. &lt;/details> <b>x</b>\n\n</details>"
        in think
    )
    assert think.index("</details>\n\nSunny in Paris.") < think.index("**Tool call** `get_weather`")
    assert (
        '**Tool call** `get_weather` (id `call_1`)\n\n```json\n{\n  "city": "Paris"\n}\n```'
        in think
    )
    assert (
        '**Tool call** `broken` (id `call_2`), arguments not valid JSON:\n\n```text\n{"x\n```'
        in think
    )
    assert "output_token_details: reasoning 12" in think
    assert "Reasoning: first reasoning chunk at" in think and "reasoning tokens 12" in think
    no = md.split("## no", 1)[1]
    assert "**Refusal**:\n\n> I can't help." in no and "*(no text)*" not in no
    exported = [json.loads(x) for x in buf.getvalue().splitlines()[1:]]  # after the header
    channels = [
        x.get("channel") for x in exported if x["type"] == "chunk" and x["provider"] == "think"
    ]
    assert channels == ["reasoning"] * 2 + ["tool_call"] * 3 + [None, None, "meta"]
    refusal = [x for x in exported if x["type"] == "chunk" and x["provider"] == "no"]
    assert [(x.get("channel"), x["text"]) for x in refusal][:2] == [
        ("refusal", "I can't "),
        ("refusal", "help."),
    ]
