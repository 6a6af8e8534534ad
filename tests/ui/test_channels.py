"""What a run streams besides its answer, without an app: RunChannels, the session's event
times, the events log's data column and the expanded view of a line."""

from __future__ import annotations

from typing import Any

from llmstream_tui import build_llm
from llmstream_tui.core.messages import AIMessageChunk
from llmstream_tui.ui.channels import RunChannels
from llmstream_tui.ui.event_detail import event_sections
from llmstream_tui.ui.format import event_data
from llmstream_tui.ui.session import PaneSession
from llmstream_tui.ui.widgets.tool_cards import pretty_arguments

MS = 1_000_000


def channeled(parts: list[dict[str, Any]], **extra: Any) -> PaneSession:
    spec = {"kind": "channeled", "parts": parts, **extra}
    return PaneSession("c", "c", build_llm(spec, name="c"))


THINK_THEN_CALL = [
    {"channel": "reasoning", "text": "Let me", "at_ms": 50},
    {"channel": "reasoning", "text": " think.", "at_ms": 80},
    {"channel": "text", "text": "Checking.", "at_ms": 200},
    {
        "channel": "tool_call",
        "at_ms": 230,
        "tool_call": {"name": "get_weather", "id": "call_1", "index": 0, "args": '{"ci'},
    },
    {"channel": "tool_call", "at_ms": 260, "tool_call": {"index": 0, "args": 'ty": "Paris"}'}},
    {
        "channel": "meta",
        "at_ms": 270,
        "usage": {
            "input_tokens": 10,
            "output_tokens": 20,
            "total_tokens": 30,
            "input_token_details": {"cache_read": 6, "cache_creation": 2},
            "output_token_details": {"reasoning": 12},
        },
    },
]


async def test_every_stream_event_is_stamped_when_it_arrived() -> None:
    s = channeled(THINK_THEN_CALL)
    await s.run("hi")
    stream = [e for e in s.take_events() if e[2] == "on_chat_model_stream"]
    # reasoning at its own times (not 0.000s), tool-call deltas at theirs (not the last
    # text chunk's), and the final empty chunk when it came, after the stream ended
    assert [e[1] // MS for e in stream] == [50, 80, 200, 230, 260, 270, 275]


async def test_side_channels_are_kept_apart_from_the_answer() -> None:
    s = channeled(THINK_THEN_CALL)
    await s.run("hi")
    assert s.take_pending() == ["Checking."]
    ch = s.channels
    assert ch.take_reasoning() == ["Let me", " think."]
    assert [c["args"] for c in ch.take_tool_chunks()] == ['{"ci', 'ty": "Paris"}']
    assert ch.first_reasoning_ns == 50 * MS
    assert ch.usage_parts() == [("reasoning tok", "12"), ("cached in", "6"), ("cache write", "2")]
    assert s.conversation[-1].content == "Checking."


async def test_a_refusal_is_never_answer_text() -> None:
    s = channeled([{"channel": "refusal", "text": "I can't.", "at_ms": 40}])
    await s.run("hi")
    assert s.take_pending() == []
    assert s.channels.take_refusal() == ["I can't."]
    assert s.state == "done"


def test_a_refusal_repeated_in_content_is_read_from_additional_kwargs_only() -> None:
    ch = RunChannels()
    chunk = AIMessageChunk("", additional_kwargs={"refusal": "No."})
    assert ch.observe(chunk, 0) is True
    assert ch.take_refusal() == ["No."]


def test_the_data_column_names_each_channel_with_its_text() -> None:
    reasoning = AIMessageChunk("", additional_kwargs={"reasoning_content": "Let me think"})
    call = AIMessageChunk(
        "", tool_call_chunks=[{"name": "get_weather", "args": '{"c', "id": "x", "index": 0}]
    )
    refusal = AIMessageChunk("", additional_kwargs={"refusal": "No way"})
    name = "on_chat_model_stream"
    assert event_data(name, reasoning) == 'reasoning "Let me think"'
    assert event_data(name, call) == 'tool_call get_weather#0 "{"c"'
    assert event_data(name, refusal) == 'refusal "No way"'
    assert event_data(name, "plain") == '"plain"'


def test_an_expanded_line_holds_the_whole_text_inert() -> None:
    long = "x" * 500 + "\x1b[2J" + "[bold]y[/bold]"
    chunk = AIMessageChunk("", additional_kwargs={"reasoning_content": long})
    title, sections = event_sections(("p", 5 * MS, "on_chat_model_stream", "run-1", chunk))
    assert title.startswith("0.005s  p  on_chat_model_stream  run-1")
    shown = dict(sections)
    assert shown["reasoning"] == "x" * 500 + "\\x1b[2J[bold]y[/bold]"
    assert not any("\x1b" in text for _, text in sections)


def test_arguments_are_pretty_printed_or_flagged() -> None:
    assert pretty_arguments('{"a":1}') == ('{\n  "a": 1\n}', True)
    assert pretty_arguments('{"a":') == ('{"a":', False)
    assert pretty_arguments("") == ("(no arguments)", True)
