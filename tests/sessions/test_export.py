"""Exporting a saved session: Markdown sections with metrics, and the recording format."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from llmstream_tui.core.messages import AIMessageChunk
from llmstream_tui.core.recording import RecordingReader
from llmstream_tui.providers.registry import build_llm
from llmstream_tui.sessions.export import export_jsonl, export_markdown
from llmstream_tui.sessions.history import History
from llmstream_tui.sessions.recorder import SessionRecorder
from tests.sessions.support import record_turn

GOOD = {"kind": "scripted", "chunks": ["Spark", "ling", " water"], "delay_ms": 2}
BAD = {"kind": "scripted", "chunks": ["a", "b", "c"], "fail_at": 2, "fail_with": "overloaded"}


def session(tmp_path: Path, prompts: list[str]) -> str:
    """Saved to history and recorded to ``tmp_path/rec.jsonl`` by the same recorder."""
    recorder = SessionRecorder.open(record=tmp_path / "rec.jsonl", history=True)
    for prompt in prompts:
        asyncio.run(record_turn(recorder, prompt, [GOOD, BAD], names=["good", "bad"]))
    recorder.close()
    assert recorder.session_uid is not None
    return recorder.session_uid


def test_markdown_has_one_section_per_provider_with_its_metrics(tmp_path: Path) -> None:
    uid = session(tmp_path, ["Write me a song"])
    with History() as history:
        md = export_markdown(history, uid)
    assert md.startswith("# Write me a song\n")
    assert f"(`{uid}`)" in md and "Providers: good, bad." in md
    assert "> Write me a song" in md
    good = md.index("## good (scripted)")
    bad = md.index("## bad (scripted)")
    assert good < md.index("Sparkling water") < bad
    assert (
        md.count("| TTFT | total | chunks | chunks/s | gap p50 | gap p95 | tokens | stop reason |")
        == 2
    )
    assert "| 3 |" in md[good:bad] and "| stop |" in md[good:bad]
    assert "**failed**: bad: overloaded" in md[bad:]
    assert "\nab\n" in md[bad:]  # the partial text


def test_markdown_of_several_turns_has_a_heading_per_turn(tmp_path: Path) -> None:
    uid = session(tmp_path, ["one", "two"])
    with History() as history:
        md = export_markdown(history, uid)
    assert md.index("## Turn 1") < md.index("### good") < md.index("## Turn 2")
    assert md.count("### good") == 2 and md.count("### bad") == 2


def test_markdown_makes_control_characters_visible(tmp_path: Path) -> None:
    recorder = SessionRecorder.open(history=True)
    asyncio.run(
        record_turn(
            recorder,
            "clear \x1b[2J",
            [{"kind": "scripted", "chunks": ["bell\x07", " rtl\u202e"]}],
            names=["p"],
        )
    )
    recorder.close()
    with History() as history:
        md = export_markdown(history, history.list_sessions()[0].id)
    assert "\x1b" not in md and "\x07" not in md and "\u202e" not in md
    assert "clear \\x1b[2J" in md and "bell\\x07 rtl\\u202e" in md


def test_jsonl_export_is_the_recording_that_was_made_live(tmp_path: Path) -> None:
    uid = session(tmp_path, ["one", "two"])
    out = tmp_path / "export.jsonl"
    with History() as history:
        buf = io.StringIO()
        n = export_jsonl(history, uid, buf)
    out.write_text(buf.getvalue(), encoding="utf-8")
    exported = RecordingReader(out)
    assert exported.header["session"] == uid and n == len(buf.getvalue().splitlines())
    live = RecordingReader(tmp_path / "rec.jsonl")

    def content(reader: RecordingReader) -> dict[str, list[object]]:
        by_kind: dict[str, list[object]] = {}
        for line in reader:
            by_kind.setdefault(line["type"], []).append(line)
        for lines in by_kind.values():
            lines.sort(key=repr)  # the export groups runs; the live file interleaves
        return by_kind

    assert content(exported) == content(live)
    assert exported.problem_count == 0


def test_an_exported_session_replays(tmp_path: Path) -> None:
    uid = session(tmp_path, ["one"])
    out = tmp_path / "export.jsonl"
    with History() as history, out.open("w", encoding="utf-8") as fh:
        export_jsonl(history, uid, fh)
    replay = build_llm({"kind": "replay", "model": str(out), "provider": "good", "speed": 0})
    chunks = list(replay.stream("one"))
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert [c.content for c in chunks if isinstance(c, AIMessageChunk)][:3] == [
        "Spark",
        "ling",
        " water",
    ]
