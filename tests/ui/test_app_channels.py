"""The app showing every channel: reasoning (open, collapsed, remembered), tool-call cards,
refusals, usage details, and the events log's times and expanded lines."""

from __future__ import annotations

from typing import Any

from llmstream_tui.config import Settings
from llmstream_tui.ui.app import LLMStreamApp, make_app
from llmstream_tui.ui.screens.event_detail import EventDetailScreen
from llmstream_tui.ui.widgets.stream_pane import StreamPane
from tests.ui.channeled import ChanneledModel
from tests.ui.conftest import make_settings

THINK = [
    {"channel": "reasoning", "text": "Hmm", "at_ms": 40},
    {"channel": "reasoning", "text": ", water.", "at_ms": 60},
    {"channel": "text", "text": "Fizz", "at_ms": 150},
    {"channel": "text", "text": "y!", "at_ms": 170},
]

CALLS = [
    {"channel": "tool_call", "at_ms": 50, "tool_call": {"name": "get_weather", "id": "call_a", "index": 0, "args": '{"city": '}},
    {"channel": "tool_call", "at_ms": 60, "tool_call": {"name": "get_time", "id": "call_b", "index": 1, "args": '{"tz"'}},
    {"channel": "tool_call", "at_ms": 70, "tool_call": {"index": 0, "args": '"Paris"}'}},
]  # fmt: skip


def one(parts: list[dict[str, Any]], **extra: Any) -> Settings:
    return make_settings(
        providers={"m": {"kind": "channeled", "parts": parts, **extra}},
        default_providers=["m"],
        ui={"events_open": "yes"},
    )


def model(pane: StreamPane) -> ChanneledModel:
    llm = pane.session.llm
    assert isinstance(llm, ChanneledModel)
    return llm


async def send(app: LLMStreamApp, text: str = "hi") -> None:
    app.prompt_area.load_text(text)
    await app.send(text)


async def held(app: LLMStreamApp) -> StreamPane:
    """Wait until the pane's stream holds (``hold_after``), then draw a frame."""
    pane = app.panes[0]
    await model(pane).held.wait()
    await app._frame()
    return pane


async def test_reasoning_streams_open_then_collapses_when_the_answer_starts() -> None:
    app = make_app(one(THINK, hold_after=2))
    async with app.run_test(size=(100, 30)) as pilot:
        await send(app)
        pane = await held(app)
        section = pane.reasoning
        assert section.view.display and section.open
        assert section.view.plain_rows == ["|Hmm|, water.|"]
        assert "▾ reasoning · 2 chunks" in section.header.label.plain
        model(pane).go_on.set()
        await app.settle()
        await pilot.pause()
        assert not section.open and not section.view.display
        assert section.header.display  # still there to open again
        assert "▸ reasoning" in section.header.label.plain
        assert pane.body.plain_rows[-1] == "|Fizz|y!|"


async def test_the_key_and_a_click_toggle_it_and_the_choice_is_kept_for_the_pane() -> None:
    app = make_app(one(THINK))
    async with app.run_test(size=(100, 30)) as pilot:
        await send(app)
        await app.settle()
        await pilot.pause()
        section = app.panes[0].reasoning
        assert not section.open
        await pilot.press("f6")
        await pilot.pause()
        assert section.open and section.view.display
        await pilot.click(section.header)
        await pilot.pause()
        assert not section.open
        await pilot.click(section.header)
        await pilot.pause()
        assert section.open
        # the user opened it: the next run's answer does not collapse it
        await send(app, "again")
        await app.settle()
        await pilot.pause()
        assert section.open and section.view.display
        assert section.view.plain_rows == ["|Hmm|, water.|"]  # this run's reasoning only


async def test_a_run_without_reasoning_shows_no_section() -> None:
    app = make_app(one([{"channel": "text", "text": "Hi", "at_ms": 10}]))
    async with app.run_test(size=(100, 30)) as pilot:
        await send(app)
        await app.settle()
        await pilot.pause()
        section = app.panes[0].reasoning
        assert not section.header.display and not section.view.display


async def test_tool_cards_stream_their_arguments_then_pretty_print_or_flag_them() -> None:
    app = make_app(one(CALLS, hold_after=2))
    async with app.run_test(size=(100, 30)) as pilot:
        await send(app)
        pane = await held(app)
        await pilot.pause()
        cards = pane.tools.cards
        assert [c.name_ for c in cards] == ["get_weather", "get_time"]
        assert [c.call_id for c in cards] == ["call_a", "call_b"]
        first = str(cards[0].render())
        assert '{"city": …' in first and "not valid JSON" not in first
        model(pane).go_on.set()
        await app.settle()
        await pilot.pause()
        weather, clock = (str(c.render()) for c in cards)
        assert '{\n  "city": "Paris"\n}' in weather and "not valid JSON" not in weather
        assert "⚠ arguments are not valid JSON" in clock and '{"tz"' in clock
        # a new run starts with no cards
        model(pane).go_on.clear()
        model(pane).held.clear()
        await send(app, "again")
        assert pane.tools.cards == [] and not pane.tools.display
        await held(app)
        assert [c.name_ for c in pane.tools.cards] == ["get_weather", "get_time"]
        model(pane).go_on.set()
        await app.settle()


async def test_a_refusal_has_its_own_label_and_is_not_the_answer() -> None:
    parts = [
        {"channel": "refusal", "text": "I can't", "at_ms": 30},
        {"channel": "refusal", "text": " help.", "at_ms": 40},
    ]
    app = make_app(one(parts))
    async with app.run_test(size=(100, 30)) as pilot:
        await send(app)
        await app.settle()
        await pilot.pause()
        pane = app.panes[0]
        assert pane.body.plain_rows[-1] == "⊘ refusal I can't help."  # no lone opening delimiter
        assert pane.session.conversation[-1].content == ""


async def test_usage_details_and_ttfr_reach_the_metrics_line() -> None:
    usage = {
        "input_tokens": 9,
        "output_tokens": 7,
        "total_tokens": 16,
        "input_token_details": {"cache_read": 4},
        "output_token_details": {"reasoning": 5},
    }
    parts = [*THINK, {"channel": "meta", "at_ms": 180, "usage": usage}]
    app = make_app(one(parts))
    async with app.run_test(size=(140, 30)) as pilot:
        await send(app)
        await app.settle()
        await pilot.pause()
        line = app.panes[0].metrics.plain
        assert line.startswith("TTFT 150ms TTFR 40ms")
        assert "reasoning tok 5" in line and "cached in 4" in line


async def test_the_events_log_stamps_arrival_and_expands_a_line_to_its_full_data() -> None:
    long = "a long thought " * 20
    parts = [{"channel": "reasoning", "text": long, "at_ms": 30}, *THINK[2:]]
    app = make_app(one(parts))
    async with app.run_test(size=(140, 30)) as pilot:
        await send(app)
        await app.settle()
        await pilot.pause()
        log = app.events_log
        lines = log.shown_lines
        assert lines[1].lstrip().startswith("0.030s")
        assert 'reasoning "a long thought' in lines[1] and "…" in lines[1]
        log.focus()
        await pilot.pause()
        for _ in range(len(lines) - 1):  # Up from nothing selects the last line
            await pilot.press("up")
        assert log.selected_entry is not None and log.selected_entry[2] == "on_chat_model_stream"
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EventDetailScreen)
        assert ("reasoning", long) in screen.sections
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, EventDetailScreen)


async def test_a_click_selects_an_event_and_a_second_click_expands_it() -> None:
    app = make_app(one(THINK))
    async with app.run_test(size=(140, 30)) as pilot:
        await send(app)
        await app.settle()
        await pilot.pause()
        log = app.events_log
        await pilot.click(log, offset=(10, 1))
        await pilot.pause()
        entry = log.selected_entry
        assert entry is not None and entry[1] == 40 * 1_000_000  # the first reasoning delta
        assert not isinstance(app.screen, EventDetailScreen)
        await pilot.click(log, offset=(10, 1))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EventDetailScreen)
        assert ("reasoning", "Hmm") in screen.sections


async def test_a_follow_up_after_a_tool_call_carries_the_call_and_answers_it(
    monkeypatch: Any,
) -> None:
    """The second prompt goes back with the assistant's tool calls (and, for Anthropic, its
    ``tool_use`` block) in history, and is sent as the calls' result: OpenAI and Anthropic
    both refuse a new user turn after an unanswered call."""
    from tests.support.loopback import LoopbackServer, Reply
    from tests.support.paths import WIRE

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    openai_server = LoopbackServer(
        Reply.sse_file(WIRE / "openai-chat" / "tool-calls-a.sse"),
        Reply.sse_file(WIRE / "openai-chat" / "content-short.sse"),
    )
    anthropic_server = LoopbackServer(
        Reply.sse_file(WIRE / "anthropic" / "tool-use-response.sse"),
        Reply.sse_file(WIRE / "anthropic" / "basic-response.sse"),
    )
    async with openai_server as o, anthropic_server as a:
        settings = make_settings(
            providers={
                "oa": {"kind": "openai-chat", "model": "gpt-4o", "base_url": f"{o.url}/v1"},
                "an": {"kind": "anthropic", "model": "claude-x", "base_url": a.url},
            },
            default_providers=["oa", "an"],
        )
        app = make_app(settings)
        async with app.run_test(size=(120, 30)) as pilot:
            await send(app, "weather in Paris?")
            await app.settle()
            await pilot.pause()
            for pane in app.panes:
                assert pane.session.state == "done", pane.session.error
                assert pane.session.pending_tool_calls(), pane.session.name
            await send(app, "18C and sunny")
            await app.settle()
            await pilot.pause()
            assert [p.session.state for p in app.panes] == ["done", "done"]

    first_call = o.requests[0].json()
    messages = o.requests[1].json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool"]
    (call,) = messages[1]["tool_calls"]
    assert call["id"] == "call_4XzlGBLtUe9dy3GVNV4jhq7h"
    assert call["function"]["name"] == "get_weather"
    assert messages[2] == {
        "role": "tool",
        "content": "18C and sunny",
        "tool_call_id": "call_4XzlGBLtUe9dy3GVNV4jhq7h",
    }
    assert first_call["messages"] == messages[:1]

    sent = a.requests[1].json()["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    blocks = sent[1]["content"]
    tool_use = [b for b in blocks if b["type"] == "tool_use"]
    assert [b["id"] for b in tool_use] == ["toolu_01NRLabsLyVHZPKxbKvkfSMn"]
    assert sent[2]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_01NRLabsLyVHZPKxbKvkfSMn",
            "content": "18C and sunny",
        }
    ]
    # and the pane's conversation now ends with an ordinary answer: the next prompt is a user turn
    assert not app.panes[0].session.pending_tool_calls()


async def test_f10_counts_every_channel_in_the_metrics_and_the_sparkline_and_says_so() -> None:
    app = make_app(one(THINK))
    async with app.run_test(size=(120, 30)) as pilot:
        await send(app)
        await app.settle()
        await pilot.pause()
        pane = app.panes[0]
        assert "answer chunks 2" in pane.metrics.plain
        assert len(pane.spark.data or []) == 1  # two answer chunks: one gap
        await pilot.press("f10")
        await pilot.pause()
        assert "all chunks 4" in pane.metrics.plain
        assert len(pane.spark.data or []) == 3  # two reasoning + two answer chunks
        assert app.ui.chunk_scope == "answer"  # the setting is the start value only
        await pilot.press("f10")
        await pilot.pause()
        assert "answer chunks 2" in pane.metrics.plain


async def test_a_reopened_session_shows_reasoning_cards_and_refusal_and_so_does_markdown() -> None:
    from tests.ui.test_app_sessions import reopen_last

    parts = [*THINK[:2], *CALLS]
    refusal = [{"channel": "refusal", "text": "No.", "at_ms": 10}]
    settings = make_settings(
        providers={
            "m": {"kind": "channeled", "parts": parts},
            "r": {"kind": "channeled", "parts": refusal},
        },
        default_providers=["m", "r"],
    )
    first = make_app(settings)
    async with first.run_test(size=(120, 36)) as pilot:
        await send(first, "weather and time?")
        await first.settle()
        await pilot.pause()
    app = make_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await reopen_last(app, pilot)
        pane, refused = app.panes
        assert "▸ reasoning · 2 chunks" in pane.reasoning.header.label.plain
        assert pane.reasoning.view.plain_rows == ["|Hmm|, water.|"]
        cards = pane.tools.cards
        assert [(c.name_, c.call_id) for c in cards] == [
            ("get_weather", "call_a"),
            ("get_time", "call_b"),
        ]
        assert cards[0].valid and not cards[1].valid  # '{"tz"' never completed
        assert any("⊘ refusal No." in row for row in refused.body.plain_rows)
        (call_a, call_b) = pane.session.pending_tool_calls()
        assert call_a["args"] == {"city": "Paris"} and call_b["args"] == {"__raw__": '{"tz"'}
        document, _ = pane._markdown_document()
        assert "**Reasoning**" in document and "> Hmm, water." in document
        assert "**Tool call** `get_weather` (id `call_a`)" in document
        assert '"city": "Paris"' in document
        assert "**Refusal**:" in refused._markdown_document()[0]
