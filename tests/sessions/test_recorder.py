"""SessionRecorder / RunRecorder: what observing a run writes, whatever the flavour or API."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llmstream_tui.core.messages import AIMessage
from llmstream_tui.core.metrics import StreamTimeline
from llmstream_tui.core.recording import RecordingReader
from llmstream_tui.errors import RecordingError, StreamTimeout
from llmstream_tui.providers.registry import build_llm
from llmstream_tui.sessions.history import History
from llmstream_tui.sessions.recorder import FLUSH_INTERVAL_S, SessionRecorder
from tests.sessions.support import chunk_lines, lines_of, record_turn

PIECES = ["Spark", "ling", " water"]
SLOWISH = {"kind": "scripted", "chunks": PIECES, "delay_ms": 5}


def record(
    path: Path,
    providers: list[Any],
    *,
    version: str = "v2",
    names: list[str] | None = None,
    events: bool = False,
) -> SessionRecorder:
    recorder = SessionRecorder.open(record=path, history=False, events=events)
    asyncio.run(record_turn(recorder, "q", providers, names=names, version=version))
    recorder.close()
    return recorder


@pytest.mark.parametrize("flavor", ["chat", "llm"])
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_chunks_and_end_are_the_same_whatever_the_flavour_or_event_version(
    tmp_path: Path, flavor: str, version: str
) -> None:
    path = tmp_path / "r.jsonl"
    record(
        path,
        [{"kind": "scripted", "chunks": PIECES, "flavor": flavor}],
        version=version,
        names=["p"],
    )
    chunks = chunk_lines(path)
    assert [(c["index"], c["text"]) for c in chunks] == list(enumerate(PIECES))
    assert all(c["provider"] == "p" for c in chunks)
    assert [c["t"] for c in chunks] == sorted(c["t"] for c in chunks)
    (end,) = lines_of(path, "end")
    # v1's end event of a text LLM is the bare string: LangChain drops the stop reason there.
    expected_finish = None if (version, flavor) == ("v1", "llm") else "stop"
    assert end["text"] == "Sparkling water" and end["finish_reason"] == expected_finish
    assert end["metrics"]["chunks"] == 3 and end["t"] >= chunks[-1]["t"]
    run_line = lines_of(path, "run")
    assert run_line == [{"type": "run", "provider": "p", "turn": 0}]


def test_a_run_that_does_not_stream_is_one_chunk_with_the_whole_answer(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    record(path, [{"kind": "scripted", "chunks": PIECES, "stream": False}], names=["p"])
    assert [c["text"] for c in chunk_lines(path)] == ["Sparkling water"]


def test_the_same_provider_twice_in_a_turn_gets_distinct_names(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    record(
        path,
        [{"kind": "scripted", "chunks": ["a"]}, {"kind": "scripted", "chunks": ["b"]}],
        names=["p", "p"],
    )
    assert sorted((c["provider"], c["text"]) for c in chunk_lines(path)) == [
        ("p", "a"),
        ("p#2", "b"),
    ]
    assert [x["provider"] for x in lines_of(path, "provider")] == ["p", "p#2"]


def test_event_lines_are_recorded_when_asked_and_are_plain_json(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    record(path, [{"kind": "scripted", "chunks": PIECES}], names=["p"], events=True)
    events = lines_of(path, "event")
    kinds = [e["event"]["event"] for e in events]
    assert kinds == ["on_chat_model_start"] + ["on_chat_model_stream"] * 4 + ["on_chat_model_end"]
    assert events[1]["event"]["data"]["chunk"]["content"] == "Spark"
    assert events[1]["event"]["data"]["chunk"]["type"] == "AIMessageChunk"


def test_an_error_keeps_kind_message_hint_and_partial_text(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    recorder = SessionRecorder.open(record=path, history=False)
    recorder.begin_turn("q")
    run = recorder.start_run("p", description={"kind": "openai-chat", "model": "m"})
    run.chunk("par")
    run.error(StreamTimeout("no data for 60s", provider="p", hint="raise timeout"), "par")
    run.chunk("ignored after the end")
    run.end("ignored too")
    recorder.close()
    (error,) = lines_of(path, "error")
    assert error["text"] == "par"
    assert error["error"] == {
        "kind": "timeout",
        "message": "p: no data for 60s (raise timeout)",
        "status": None,
        "detail": "no data for 60s",
        "hint": "raise timeout",
    }
    assert [c["text"] for c in chunk_lines(path)] == ["par"] and not lines_of(path, "end")
    (provider,) = lines_of(path, "provider")
    assert provider == {"type": "provider", "provider": "p", "kind": "openai-chat", "model": "m"}


def test_a_cancelled_run_is_saved_as_cancelled(tmp_path: Path) -> None:
    recorder = SessionRecorder.open(record=tmp_path / "r.jsonl", history=True)
    recorder.begin_turn("q")
    run = recorder.start_run("p")
    run.chunk("so far")
    run.cancel("so far")
    recorder.close()
    (error,) = lines_of(tmp_path / "r.jsonl", "error")
    assert error["error"]["kind"] == "cancelled"
    with History() as history:
        (row,) = history.list_sessions()
        assert row.status == "cancelled"
        assert history.load(row.id).runs[0].text == "so far"


def test_chunk_times_count_from_the_timeline_start(tmp_path: Path) -> None:
    """With a timeline, ``t`` matches the run's metrics (TTFT is the first chunk's t)."""
    path = tmp_path / "r.jsonl"
    record(path, [{"kind": "scripted", "chunks": PIECES, "ttft_ms": 60}], names=["p"])
    first = chunk_lines(path)[0]
    (end,) = lines_of(path, "end")
    assert first["t"] >= 0.055 and abs(first["t"] - end["metrics"]["ttft_s"]) < 0.002


async def test_lines_reach_the_file_within_the_flush_interval_while_running(
    tmp_path: Path,
) -> None:
    path = tmp_path / "r.jsonl"
    recorder = SessionRecorder.open(record=path, history=False)
    recorder.begin_turn("q")
    run = recorder.start_run("p")
    run.chunk("early")
    started = time.perf_counter()
    while "early" not in path.read_text(encoding="utf-8"):
        assert time.perf_counter() - started < 1.0, "never flushed"
        await asyncio.sleep(0.005)
    waited = time.perf_counter() - started
    recorder.close()
    assert waited <= FLUSH_INTERVAL_S + 0.05


def test_close_is_idempotent_and_a_second_recording_on_the_same_path_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "r.jsonl"
    recorder = record(path, [{"kind": "scripted", "chunks": PIECES}])
    recorder.close()
    before = path.read_bytes()
    with pytest.raises(RecordingError):
        SessionRecorder.open(record=path, history=False)
    assert path.read_bytes() == before


def test_provider_settings_are_described_from_the_backend(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    recorder = SessionRecorder.open(record=path, history=False)
    recorder.begin_turn("q")
    llm = build_llm(
        {"kind": "simulated", "model": "steady", "params": {"temperature": 0.3}}, name="sim"
    )
    timeline = StreamTimeline()
    recorder.start_run(llm, timeline=timeline).end("x")
    recorder.close()
    (line,) = lines_of(path, "provider")
    assert (line["provider"], line["kind"], line["model"], line["flavor"]) == (
        "sim",
        "simulated",
        "steady",
        "chat",
    )
    assert line["params"] == {"temperature": 0.3}
    assert json.dumps(line)  # plain JSON
    assert RecordingReader(path).index().runs == {("sim", 0): "done"}


def test_recording_started_mid_session_holds_the_following_turns_whole(tmp_path: Path) -> None:
    recorder = SessionRecorder.open(history=True)
    asyncio.run(
        record_turn(recorder, "before", [{"kind": "scripted", "chunks": ["a"]}], names=["p"])
    )
    path = tmp_path / "later.jsonl"
    recorder.start_recording(path)
    with pytest.raises(RecordingError):
        recorder.start_recording(tmp_path / "second.jsonl")
    asyncio.run(
        record_turn(
            recorder,
            "after",
            [{"kind": "scripted", "chunks": ["b", "c"]}, {"kind": "scripted", "chunks": ["d"]}],
            names=["p", "q"],
        )
    )
    recorder.close()
    index = RecordingReader(path).index()
    assert index.prompts == ["after"]
    assert list(index.providers) == ["p", "q"]
    assert index.runs == {("p", 1): "done", ("q", 1): "done"}
    replay = build_llm({"kind": "replay", "model": str(path), "turn": 1, "speed": 0})
    answer = replay.invoke("after")
    assert isinstance(answer, AIMessage) and answer.content == "bc"


ODD_TEXTS = ["Spark", "", "a\x00b", "\u2028", '"quoted" \\ back', "😀 emoji", "\x1b[2J", "tab\t"]


def batched_session(
    path: Path | None, *, history: bool, trace: Callable[[str], None] | None = None
) -> SessionRecorder:
    """One turn whose text arrives as two ``texts`` batches around a chunk with metadata
    (``trace``: sees every SQL statement the history's writer runs)."""
    recorder = SessionRecorder.open(record=path, history=history)
    if trace is not None:
        assert recorder.history is not None
        recorder.history._conn.set_trace_callback(trace)
    recorder.begin_turn("q")
    timeline = StreamTimeline()
    timeline.start_ns = 1_000_000_000
    run = recorder.start_run("p", timeline=timeline)
    run.texts(ODD_TEXTS[:4], [1_000_000_000 + i * 2_000 for i in range(4)])
    run.chunk("stop", metadata={"finish_reason": "stop"})
    run.texts(ODD_TEXTS[4:], [1_000_010_000 + i * 1_000 for i in range(4)])
    run.end("".join(ODD_TEXTS) + "stop", "stop")
    recorder.close()
    return recorder


def test_text_batches_are_chunk_lines_in_order_in_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    batched_session(path, history=False)
    chunks = chunk_lines(path)
    assert [c["text"] for c in chunks] == ODD_TEXTS[:4] + ["stop"] + ODD_TEXTS[4:]
    assert [c["index"] for c in chunks] == list(range(9))
    assert [c["t"] for c in chunks[:4]] == [0.0, 2e-06, 4e-06, 6e-06]
    assert [c["t"] for c in chunks[5:]] == [1e-05, 1.1e-05, 1.2e-05, 1.3e-05]
    assert chunks[4]["metadata"] == {"finish_reason": "stop"}


def test_text_batches_are_chunk_rows_in_order_in_the_history() -> None:
    recorder = batched_session(None, history=True)
    with History() as history:
        record = history.load(recorder.session_uid or "")
        (run,) = record.runs
        assert run.chunks == 9 and run.status == "done"
        saved = list(history.iter_chunks(run.id))
    assert [c["text"] for c in saved] == ODD_TEXTS[:4] + ["stop"] + ODD_TEXTS[4:]
    assert [c["t"] for c in saved[:4]] == [0.0, 2e-06, 4e-06, 6e-06]
    assert saved[4]["metadata"] == {"finish_reason": "stop"}


def test_text_batches_need_no_sqlite_json_functions() -> None:
    """An SQLite built without JSON functions saves as well: the writer's SQL uses none
    (a batch row's JSON is made and read in Python)."""
    statements: list[str] = []
    recorder = batched_session(None, history=True, trace=statements.append)
    assert recorder.problems == [] and any("chunk_batches" in s for s in statements)
    assert not [s for s in statements if "json" in s.lower()]
    with History() as history:
        (run,) = history.load(recorder.session_uid or "").runs
        assert [c["text"] for c in history.iter_chunks(run.id)][-4:] == ODD_TEXTS[4:]


# -- sinks that fail ---------------------------------------------------------------------------


def test_an_unusable_history_does_not_stop_a_run(data_dir: Path, tmp_path: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "history.sqlite3").write_bytes(b"garbage" * 1000)
    recorder = SessionRecorder.open(record=tmp_path / "r.jsonl", history=True)
    asyncio.run(record_turn(recorder, "q", [SLOWISH]))
    recorder.close()
    assert len(recorder.problems) == 1 and recorder.problems[0].startswith("history not saved")
    assert "Sparkling water" in (tmp_path / "r.jsonl").read_text(encoding="utf-8")


def test_a_sink_failing_mid_session_is_dropped_and_the_other_goes_on(tmp_path: Path) -> None:
    recorder = SessionRecorder.open(record=tmp_path / "r.jsonl", history=True)
    assert recorder.history is not None

    def broken(lines: list[dict[str, Any]]) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    recorder._sinks["history"] = broken
    asyncio.run(record_turn(recorder, "q", [SLOWISH]))
    recorder.close()
    assert recorder.problems == ["history no longer saved: OperationalError: disk I/O error"]
    assert "Sparkling water" in (tmp_path / "r.jsonl").read_text(encoding="utf-8")


def test_plain_text_chunks_are_one_insert_per_flush_not_one_row_each() -> None:
    """The CLI's path (``chunk`` per streamed piece): answer text with nothing else on it
    is queued as one batch per flush, which the history saves with one statement; the
    recording still gets one ``chunk`` line each, with the same index and time."""
    from llmstream_tui.sessions.writer import HistoryWriter

    recorder = SessionRecorder(history=HistoryWriter(), flush_interval=3600)
    recorder.begin_turn("q")
    timeline = StreamTimeline()
    timeline.start_ns = time.perf_counter_ns()
    run = recorder.start_run("p", timeline=timeline)
    recorder.flush()
    assert recorder.history is not None
    statements: list[str] = []
    recorder.history._conn.set_trace_callback(statements.append)
    for i in range(1_000):
        run.chunk(f"c{i}")
    recorder.flush()
    recorder.history._conn.set_trace_callback(None)
    run.end("")
    recorder.close()
    assert len([s for s in statements if s.startswith("INSERT")]) == 1
    with History() as history:
        (saved,) = history.load(recorder.session_uid or "").runs
        chunks = list(history.iter_chunks(saved.id))
    assert [(c["index"], c["text"]) for c in chunks] == [(i, f"c{i}") for i in range(1_000)]
    assert [c["t"] for c in chunks] == sorted(c["t"] for c in chunks)


def test_batched_text_keeps_its_place_around_other_chunks_and_flushes(tmp_path: Path) -> None:
    """A flush takes the batch as it stands (a stalled stream's last chunks are saved at
    once); a chunk with metadata, or the end, closes it, so indices and order are those of
    the calls, in the history and in the recording alike."""
    path = tmp_path / "r.jsonl"
    recorder = SessionRecorder.open(record=path, history=True)
    recorder.begin_turn("q")
    timeline = StreamTimeline()
    timeline.start_ns = time.perf_counter_ns()
    run = recorder.start_run("p", timeline=timeline)
    run.chunk("a")
    recorder.flush()
    with History() as history:
        (live,) = history.load(recorder.session_uid or "").runs
        assert [c["text"] for c in history.iter_chunks(live.id)] == ["a"]
    run.chunk("b")
    run.chunk("", "meta", metadata={"finish_reason": "stop"})
    run.chunk("c")
    recorder.flush()
    run.chunk("d")
    run.end("abcd", "stop")
    recorder.close()
    expected = [(0, "a"), (1, "b"), (2, ""), (3, "c"), (4, "d")]
    recorded = chunk_lines(path)
    assert [(c["index"], c["text"]) for c in recorded] == expected
    assert recorded[2]["metadata"] == {"finish_reason": "stop"}
    with History() as history:
        (done,) = history.load(recorder.session_uid or "").runs
        saved = list(history.iter_chunks(done.id))
    assert done.chunks == 5 and done.status == "done"
    assert [(c["index"], c["text"]) for c in saved] == expected
    assert [c["t"] for c in saved] == [c["t"] for c in recorded]
    assert saved[2]["metadata"] == {"finish_reason": "stop"}


def test_text_batches_taken_while_the_run_appends_lose_and_repeat_nothing(
    tmp_path: Path,
) -> None:
    """The run appends to its open batch without a lock while another thread drains the
    queue as fast as it can: every chunk reaches the recording once, in order, and a batch
    is started again past ``BATCH_CHUNKS``."""
    import threading

    from llmstream_tui.sessions.run_recorder import BATCH_CHUNKS

    path = tmp_path / "r.jsonl"
    recorder = SessionRecorder.open(record=path, history=False)
    recorder.begin_turn("q")
    timeline = StreamTimeline()
    timeline.start_ns = time.perf_counter_ns()
    run = recorder.start_run("p", timeline=timeline)
    done = threading.Event()

    def drain() -> None:
        while not done.is_set():
            recorder.flush()

    drainer = threading.Thread(target=drain)
    drainer.start()
    total = BATCH_CHUNKS + 20_000
    try:
        for i in range(total):
            run.chunk(str(i))
            if i % 30_000 == 0:
                run.chunk("", "meta", metadata={"at": i})
    finally:
        done.set()
        drainer.join()
    run.end("")
    recorder.close()
    recorded = chunk_lines(path)
    assert [c["index"] for c in recorded] == list(range(len(recorded)))
    assert [c["text"] for c in recorded if "channel" not in c] == [str(i) for i in range(total)]
    metas = [c for c in recorded if "channel" in c]
    assert [c["metadata"]["at"] for c in metas] == list(range(0, total, 30_000))
    assert all(recorded[c["index"] - 1]["text"] == str(c["metadata"]["at"]) for c in metas)
