"""RunRecorder on its own (a list as its queue), and how a backend is described."""

from __future__ import annotations

from typing import Any

from llmstream_tui.core.runnable import LanguageModel
from llmstream_tui.providers.registry import build_llm
from llmstream_tui.sessions.recorder import ConfiguredModel, describe_model
from llmstream_tui.sessions.run_recorder import RunRecorder, chunk_lines


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
