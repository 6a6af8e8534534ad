"""PaneSession: a run consumed from astream_events, without any widget."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from llmstream_tui import build_llm
from llmstream_tui.core.messages import AIMessage, HumanMessage
from llmstream_tui.core.recording import RecordingReader
from llmstream_tui.core.runnable import LanguageModel
from llmstream_tui.errors import AuthError
from llmstream_tui.sessions.recorder import SessionRecorder
from llmstream_tui.ui.session import (
    CHECK_EVERY,
    YIELD_EVERY,
    PaneSession,
    build_session,
    error_summary,
    kept_in_conversation,
)
from tests.ui.conftest import make_settings, scripted


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
    assert [type(m) for m in s.conversation] == [HumanMessage, AIMessage]
    assert s.conversation[1].content == "Sparkling"


async def test_follow_up_sends_the_conversation() -> None:
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


async def test_a_fast_stream_yields_once_its_time_slice_is_spent() -> None:
    """A run whose events take long (here a clock on which every reading is 0.25 ms later)
    yields to the loop once per ``SLICE_NS``, not once per ``YIELD_EVERY`` events: what is
    waiting for the loop (a key, a frame) runs before the stream ends."""
    now = 0

    def slow_clock() -> int:
        nonlocal now
        now += 250_000
        return now

    spec = {"kind": "scripted", "chunks": ["Spark", "ling"], "repeat": YIELD_EVERY // 4}
    s = PaneSession("s", "s", build_llm(spec, name="s"), clock=slow_clock)
    seen: list[int] = []

    async def key_handler() -> None:
        while s.state != "done":
            seen.append(len(s.pending))
            await asyncio.sleep(0)

    await asyncio.gather(s.run("hi"), key_handler())
    assert len(s.pending) == YIELD_EVERY // 2  # fewer events than one count-based yield
    during = [n for n in seen if 0 < n < YIELD_EVERY // 2]
    assert len(during) >= 4  # the handler ran several times while chunks were arriving
    assert max(b - a for a, b in zip([0, *during], during, strict=False)) <= 2 * CHECK_EVERY


async def test_cancelling_keeps_the_partial_answer() -> None:
    s = PaneSession("s", "s", build_llm({"kind": "timed", "chunks": ["a"], "hold": True}))
    task = asyncio.create_task(s.run("hi"))
    await asyncio.sleep(0)  # one step: the held stream delivers "a" and waits
    assert s.state == "streaming"
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert str(s.state) == "cancelled"  # str(): mypy keeps the narrowing across the await
    assert s.conversation[-1].content == "a"
    assert s.forget_last_exchange() == "hi" and s.conversation == []


async def test_a_failure_is_one_line_and_keeps_text() -> None:
    s = session(chunks=["a", "b"], fail_at=1, fail_with="bad\nthing")
    await s.run("hi")
    assert s.state == "error"
    assert s.error == "scripted: bad thing"
    assert s.conversation[-1].content == "a"
    assert s.take_events()[-1][2] == "error"


def test_error_summary_forms() -> None:
    assert error_summary(AuthError("401 Unauthorized", hint="set KEY")) == (
        "auth: 401 Unauthorized (set KEY)"
    )
    assert error_summary(ValueError("\x1b[2Jx")) == "ValueError: \\x1b[2Jx"


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


def test_an_exchange_stays_in_the_conversation_when_it_finished_or_left_text() -> None:
    assert kept_in_conversation("error", "") is False
    assert kept_in_conversation("cancelled", "par") and kept_in_conversation("done", "")


def test_a_session_is_built_from_a_reference_or_shows_why_not() -> None:
    settings = make_settings(providers={"alpha": scripted(["a"], model="m1")})
    alpha = build_session("alpha", settings)
    assert alpha.llm is not None and alpha.name == "alpha" and alpha.state == "idle"
    assert alpha.describe == "scripted:m1"  # the kind the user wrote, and the model
    broken = build_session("nope:x", settings)
    assert broken.llm is None and broken.state == "error"
    assert broken.error is not None and "unknown provider 'nope:x'" in broken.error
    assert broken.describe == "nope:x"


def test_a_backend_without_a_spec_is_described_by_its_family() -> None:
    class Bare(LanguageModel):
        ls_provider = "bare"

    assert PaneSession("b", "b", Bare(name="b", model="m")).describe == "bare:m"
    assert PaneSession("b", "b", Bare(name="b")).describe == "bare"


def test_a_pane_that_cannot_be_built_never_shows_the_credentials_of_its_url() -> None:
    from llmstream_tui.config import Settings
    from llmstream_tui.ui.session import build_session

    for ref in (
        "openai-chat:m@http://user:S3CRETPASS99@127.0.0.1:99999/v1",
        "nokind:m@http://user:S3CRETPASS99@127.0.0.1/v1",
    ):
        session = build_session(ref, Settings())
        assert session.llm is None and session.error
        shown = f"{session.name} {session.ref} {session.error}"
        assert "S3CRETPASS99" not in shown, shown
