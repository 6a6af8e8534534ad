"""PaneSession: a run consumed from astream_events, without any widget."""

from __future__ import annotations

import asyncio

from llmstream_tui import build_llm
from llmstream_tui.core.messages import AIMessage, HumanMessage
from llmstream_tui.errors import AuthError
from llmstream_tui.ui.session import YIELD_EVERY, PaneSession, error_line


def session(**table: object) -> PaneSession:
    spec = {"kind": "scripted", "chunks": ["Spark", "ling"], **table}
    return PaneSession("s", "s", build_llm(spec, name="s"))


async def test_a_run_buffers_chunks_and_events_and_records_the_exchange() -> None:
    s = session()
    await s.run("hi")
    assert s.state == "done"
    assert s.take_pending() == ["Spark", "ling"]
    assert s.take_pending() == []
    names = [e[2] for e in s.take_events()]
    assert names == ["on_chat_model_start"] + ["on_chat_model_stream"] * 3 + ["on_chat_model_end"]
    assert [type(m) for m in s.history] == [HumanMessage, AIMessage]
    assert s.history[1].content == "Sparkling"


async def test_follow_up_sends_the_history() -> None:
    s = session()
    await s.run("one")
    await s.run("two")
    start = [e for e in s.take_events() if e[2] == "on_chat_model_start"][-1]
    assert [m.content for m in start[4]["data"]["input"]] == ["one", "Sparkling", "two"]


async def test_a_fast_stream_yields_to_the_event_loop() -> None:
    s = session(repeat=YIELD_EVERY * 2)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while s.state != "done":
            ticks += 1
            await asyncio.sleep(0)

    await asyncio.gather(s.run("hi"), ticker())
    assert ticks >= 2


async def test_cancelling_keeps_the_partial_answer() -> None:
    s = PaneSession("s", "s", build_llm({"kind": "timed", "chunks": ["a"], "hold": True}))
    task = asyncio.create_task(s.run("hi"))
    await asyncio.sleep(0)  # one step: the held stream delivers "a" and waits
    assert s.state == "streaming"
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert s.state == "cancelled"
    assert s.history[-1].content == "a"
    assert s.forget_last_exchange() == "hi" and s.history == []


async def test_a_failure_is_one_line_and_keeps_text() -> None:
    s = session(chunks=["a", "b"], fail_at=1, fail_with="bad\nthing")
    await s.run("hi")
    assert s.state == "error"
    assert s.error == "scripted: bad thing"
    assert s.history[-1].content == "a"
    assert s.take_events()[-1][2] == "error"


def test_error_line_forms() -> None:
    assert error_line(AuthError("401 Unauthorized", hint="set KEY")) == (
        "auth: 401 Unauthorized (set KEY)")
    assert error_line(ValueError("\x1b[2Jx")) == "ValueError: \\x1b[2Jx"
