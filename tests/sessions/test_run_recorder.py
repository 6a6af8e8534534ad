"""RunRecorder on its own (a list as its queue), and how a backend is described."""

from __future__ import annotations

from typing import Any

from llmstream_tui.core.messages import AIMessageChunk
from llmstream_tui.core.metrics import StreamTimeline
from llmstream_tui.core.runnable import LanguageModel
from llmstream_tui.providers.registry import build_llm
from llmstream_tui.sessions.recorder import ConfiguredModel, describe_model
from llmstream_tui.sessions.run_recorder import LineQueue, RunRecorder, chunk_lines


def recorder(*, events: bool = False) -> tuple[RunRecorder, list[dict[str, Any]]]:
    lines: list[dict[str, Any]] = []
    return RunRecorder(lines.append, "p", 3, None, events=events), lines


def test_a_text_batch_spells_out_as_the_chunk_lines_it_stands_for() -> None:
    run, lines = recorder()
    run.chunk("a")
    run.texts(["b", "c"], [1, 2])  # the clock's values: any ints on the run's clock
    assert run.chunks == 3
    first, batch = lines
    assert (first["index"], first["text"]) == (0, "a")
    start = batch["start_ns"]
    assert chunk_lines(batch) == [
        {
            "type": "chunk",
            "provider": "p",
            "index": 1,
            "t": round((1 - start) / 1e9, 6),
            "text": "b",
        },
        {
            "type": "chunk",
            "provider": "p",
            "index": 2,
            "t": round((2 - start) / 1e9, 6),
            "text": "c",
        },
    ]


def test_after_the_end_every_call_is_ignored() -> None:
    run, lines = recorder()
    run.end("done", "stop")
    run.chunk("late")
    run.texts(["late"], [0])
    run.error(RuntimeError("late"))
    run.cancel("late")
    assert [line["type"] for line in lines] == ["end"]
    assert lines[0]["finish_reason"] == "stop" and lines[0]["metrics"] is None


def test_event_lines_only_when_asked() -> None:
    event = {"event": "on_chat_model_start", "data": {}}
    quiet, quiet_lines = recorder()
    quiet.observe(event)
    loud, loud_lines = recorder(events=True)
    loud.observe(event)
    assert quiet_lines == [] and [line["type"] for line in loud_lines] == ["event"]


class HandBuilt(LanguageModel):
    """A backend made in code, not from a provider table: it keeps no spec."""

    ls_provider = "handmade"


def test_a_built_backend_is_described_from_the_spec_it_keeps() -> None:
    llm = build_llm({"kind": "scripted", "model": "m", "params": {"seed": 7}}, name="s")
    assert isinstance(llm, ConfiguredModel)
    line = describe_model(llm)
    assert (line["kind"], line["model"], line["params"]) == ("scripted", "m", {"seed": 7})


def test_a_backend_without_a_spec_is_described_from_what_it_says_of_itself() -> None:
    llm = HandBuilt(name="not a reference!", model="x", flavor="llm", params={"top_p": 0.5})
    assert not isinstance(llm, ConfiguredModel)
    assert describe_model(llm) == {
        "kind": "handmade",
        "model": "x",
        "flavor": "llm",
        "params": {"top_p": 0.5},
    }


def test_plain_text_chunks_are_stamped_with_the_instant_the_timeline_took() -> None:
    """A chunk's saved time is the one its run's timeline stamped as it arrived (the
    instant TTFT and the gaps count), not a second clock read when the recorder sees it."""
    ticks = iter(range(1_000_000, 100_000_000, 1_000_001))  # the timeline's clock: 1 ms apart
    timeline = StreamTimeline(clock=lambda: next(ticks))
    timeline.start()
    queue = LineQueue(lambda: None)
    run = RunRecorder(queue.put, "p", 0, timeline, queue=queue)
    stamps = []
    for text in ("Spark", "ling", " water"):
        stamps.append(timeline.chunk(text))
        event = {"event": "on_chat_model_stream", "data": {"chunk": AIMessageChunk(text)}}
        run.observe(event)
    run.end("Sparkling water")
    batch, end = queue.take()
    lines = chunk_lines(batch)
    assert [line["text"] for line in lines] == ["Spark", "ling", " water"]
    assert [line["t"] for line in lines] == [round((ns - 1_000_000) / 1e9, 6) for ns in stamps]
    assert [line["t"] for line in lines] == [0.001, 0.002, 0.003]
    assert end["type"] == "end"
