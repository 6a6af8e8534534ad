"""PaneSession: a run consumed from astream_events, without any widget."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from llmstream_tui import build_llm
from llmstream_tui.core.messages import AIMessage, HumanMessage
from llmstream_tui.core.recording import RecordingReader
from llmstream_tui.errors import AuthError
from llmstream_tui.sessions.history import RunRecord, SessionRecord
from llmstream_tui.sessions.recorder import SessionRecorder
from llmstream_tui.ui.session import (
    YIELD_EVERY,
    PaneSession,
    error_line,
    kept_in_conversation,
    reopened_exchanges,
)


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
        "auth: 401 Unauthorized (set KEY)"
    )
    assert error_line(ValueError("\x1b[2Jx")) == "ValueError: \\x1b[2Jx"


# -- saving runs (SessionRecorder) -------------------------------------------------------------


async def run_saved(s: PaneSession, prompt: str, path: Path, *, frames: bool = True) -> None:
    """Run ``s`` once into a new recording at ``path``, taking pending text every few
    events as the app's frames do (``frames``), then close the recorder."""
    recorder = SessionRecorder.open(record=path, history=False)
    recorder.begin_turn(prompt)
    task = asyncio.create_task(s.run(prompt, recorder=recorder))
    while not task.done():
        await asyncio.sleep(0)
        if frames:
            s.take_pending()
    await task
    s.take_pending()
    recorder.close()


def recorded(path: Path, kind: str) -> list[dict[str, Any]]:
    return [obj for obj in RecordingReader(path) if obj["type"] == kind]


async def test_a_saved_run_keeps_every_chunk_in_order_with_its_metadata(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    chunks = [f"c{i} " for i in range(3 * YIELD_EVERY + 7)]
    s = session(chunks=chunks)
    await run_saved(s, "hi", path)
    lines = recorded(path, "chunk")
    assert [c["text"] for c in lines] == chunks
    assert [c["index"] for c in lines] == list(range(len(chunks)))
    times = [c["t"] for c in lines]
    assert times == sorted(times) and times[0] >= 0
    # the last chunk carries the stop reason: recorded on its own, after the batched text
    assert lines[-1]["metadata"] == {"finish_reason": "stop"}
    assert all("metadata" not in c for c in lines[:-1])
    (end,) = recorded(path, "end")
    assert end["text"] == "".join(chunks) and end["finish_reason"] == "stop"


async def test_a_saved_run_without_frames_hands_its_text_over_before_the_end(
    tmp_path: Path,
) -> None:
    path = tmp_path / "r.jsonl"
    s = session(chunks=["a", "b", "c"], finish_reason=None)
    await run_saved(s, "hi", path, frames=False)
    assert [c["text"] for c in recorded(path, "chunk")] == ["a", "b", "c"]
    assert [obj["type"] for obj in RecordingReader(path)][-4:] == ["chunk", "chunk", "chunk", "end"]


async def test_a_failed_run_is_saved_with_its_partial_text(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    s = session(chunks=["a", "b", "c"], fail_at=2, fail_with="dropped")
    await run_saved(s, "hi", path)
    assert [c["text"] for c in recorded(path, "chunk")] == ["a", "b"]
    (error,) = recorded(path, "error")
    assert error["text"] == "ab" and "dropped" in error["error"]["message"]


async def test_a_cancelled_run_is_saved_as_cancelled_with_what_arrived(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    recorder = SessionRecorder.open(record=path, history=False)
    recorder.begin_turn("hi")
    s = PaneSession("s", "s", build_llm({"kind": "timed", "chunks": ["a", "b"], "hold": True}))
    task = asyncio.create_task(s.run("hi", recorder=recorder))
    await asyncio.sleep(0)
    assert s.state == "streaming"
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    recorder.close()
    assert [c["text"] for c in recorded(path, "chunk")] == ["a", "b"]
    (error,) = recorded(path, "error")
    assert error["error"]["kind"] == "cancelled" and error["text"] == "ab"


async def test_a_recorder_keeping_events_sees_every_event(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    recorder = SessionRecorder.open(record=path, history=False, events=True)
    recorder.begin_turn("hi")
    s = session()
    await s.run("hi", recorder=recorder)
    recorder.close()
    assert [c["text"] for c in recorded(path, "chunk")] == ["Spark", "ling"]
    assert len(recorded(path, "event")) == 5


def saved_session(prompts: list[str], runs: list[tuple[int, str, str, str]]) -> SessionRecord:
    """A SessionRecord with ``runs`` as (turn, provider, status, text)."""
    return SessionRecord(
        id=1,
        uid="u",
        title="",
        created=0.0,
        updated=0.0,
        prompts=prompts,
        providers=[],
        runs=[
            RunRecord(
                id=i,
                turn=turn,
                provider=p,
                status=status,
                started=0.0,
                t=None,
                text=text,
                finish_reason=None,
                usage=None,
                metrics=None,
                error=None,
                chunks=1,
            )
            for i, (turn, p, status, text) in enumerate(runs)
        ],
    )


def test_reopened_exchanges_skip_turns_a_pane_did_not_answer_and_follow_retries() -> None:
    record = saved_session(
        ["q1", "q1", "q2", "q2"],
        [
            (0, "a", "done", "a1"),
            (0, "b", "done", "b1"),
            (1, "b", "done", "b1 again"),  # b retried
            (2, "a", "done", "a2"),
            (2, "b", "error", ""),
            (3, "c", "done", "c2"),
        ],  # c added later
    )
    shown = {p: [(q, r.text) for q, r in reopened_exchanges(record, p)] for p in "abc"}
    assert shown["a"] == [("q1", "a1"), ("q2", "a2")]
    assert shown["b"] == [("q1", "b1 again"), ("q2", "")]
    assert shown["c"] == [("q2", "c2")]
    assert kept_in_conversation("error", "") is False
    assert kept_in_conversation("cancelled", "par") and kept_in_conversation("done", "")


def test_the_same_prompt_sent_again_to_every_pane_is_not_a_retry() -> None:
    record = saved_session(
        ["more", "more"],
        [
            (0, "a", "done", "1"),
            (0, "b", "done", "x"),
            (1, "a", "done", "2"),
            (1, "b", "done", "y"),
        ],
    )
    assert [r.text for _, r in reopened_exchanges(record, "a")] == ["1", "2"]
