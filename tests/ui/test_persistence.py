"""Saving the conversation and reopening a saved one, without an app (ui/persistence.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from llmstream_tui.core.messages import AIMessage, HumanMessage, ToolMessage
from llmstream_tui.errors import RecordingError
from llmstream_tui.sessions.history import History
from llmstream_tui.sessions.recorder import SessionRecorder
from llmstream_tui.sessions.records import ProviderRecord, RunRecord, SessionRecord
from llmstream_tui.ui.persistence import (
    CurrentRecorder,
    answer_chunks,
    open_recorder,
    reopened_exchanges,
    restore_pane,
    start_recording,
)


def saved_session(
    prompts: list[str],
    runs: list[tuple[int, str, str, str]],
    providers: list[ProviderRecord] | None = None,
) -> SessionRecord:
    """A SessionRecord with ``runs`` as (turn, provider, status, text)."""
    return SessionRecord(
        id=1,
        uid="u",
        title="",
        created=0.0,
        updated=0.0,
        prompts=prompts,
        providers=providers or [],
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


class SavedChunks:
    """What ``restore_pane`` reads of a ``History``: each run's chunks, by run id."""

    def __init__(self, chunks: dict[int, list[dict[str, Any]]]) -> None:
        self.chunks = chunks

    def iter_chunks(self, run_id: int) -> Iterator[dict[str, Any]]:
        return iter(self.chunks.get(run_id, []))

    def iter_side_chunks(self, run_id: int) -> Iterator[dict[str, Any]]:
        """The chunks that are more than answer text, as ``History`` selects them (a row
        with an ``extra`` column: any key besides ``text``)."""
        return (c for c in self.chunks.get(run_id, []) if set(c) - {"text"})


def as_history(chunks: dict[int, list[dict[str, Any]]]) -> History:
    return cast(History, SavedChunks(chunks))


def test_an_answer_is_its_text_chunks_in_order_without_reasoning_or_refusal() -> None:
    history = as_history(
        {
            7: [
                {"text": "Spark"},
                {"text": "thinking", "channel": "reasoning"},
                {"text": ""},
                {"text": "ling", "channel": "refusal"},
            ]
        }
    )
    assert answer_chunks(history, 7) == ["Spark"]


async def test_a_reopened_pane_gets_its_conversation_and_its_chunks_back() -> None:
    alpha = ProviderRecord("alpha", {"kind": "scripted", "model": "m"})
    record = saved_session(
        ["one", "two", "three"],
        [(0, "alpha", "done", "A1"), (1, "alpha", "cancelled", "A"), (2, "alpha", "error", "")],
        [alpha],
    )
    chunks = {0: [{"text": "A"}, {"text": "1"}], 1: [{"text": "A"}]}
    restored = await restore_pane(record, alpha, as_history(chunks), configured={"alpha"})
    assert restored.name == "alpha" and restored.table is None  # the config's alpha
    assert [(type(m), m.content) for m in restored.conversation] == [
        (HumanMessage, "one"),
        (AIMessage, "A1"),
        (HumanMessage, "two"),
        (AIMessage, "A"),  # a cancelled run keeps the text that arrived
    ]
    # the last run failed before any text: a retry sends "three" again, and replaces nothing
    assert restored.last_prompt == "three" and restored.recorded is False
    assert [(e.prompt, e.chunks, e.note, e.side) for e in restored.shown] == [
        ("one", ["A", "1"], None, None),
        ("two", ["A"], "(cancelled)", None),
        ("three", [], "(error)", None),
    ]


async def test_a_reopened_tool_call_is_back_in_the_conversation_and_the_next_prompt_answers_it() -> (
    None
):
    alpha = ProviderRecord("alpha", {"kind": "anthropic", "model": "m"})
    record = saved_session(
        ["weather?", "18C", "refuse this"],
        [(0, "alpha", "done", ""), (1, "alpha", "done", "Sunny."), (2, "alpha", "done", "")],
        [alpha],
    )
    thinking = {"type": "thinking", "thinking": "Need the tool.", "signature": "sig=="}
    chunks: dict[int, list[dict[str, Any]]] = {
        0: [
            {"text": "Need", "channel": "reasoning"},
            {"text": " the tool.", "channel": "reasoning"},
            {"text": "", "channel": "meta", "metadata": {"thinking_blocks": [thinking]}},
            {"text": "", "channel": "tool_call", "tool_call": {"name": "get_weather", "id": "toolu_1", "index": 1, "args": '{"city": '}},
            {"text": "", "channel": "tool_call", "tool_call": {"index": 1, "args": '"Paris"}'}},
            {"text": "", "channel": "meta", "metadata": {"finish_reason": "tool_use"}},
        ],
        1: [{"text": "Sunny."}],
        2: [{"text": "I can't", "channel": "refusal"}, {"text": " help.", "channel": "refusal"}],
    }  # fmt: skip
    restored = await restore_pane(record, alpha, as_history(chunks), configured={"alpha"})
    first, result, second, _, third = restored.conversation[1:6]
    assert isinstance(first, AIMessage)
    assert first.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "toolu_1", "type": "tool_call"}
    ]
    assert first.response_metadata["thinking_blocks"] == [thinking]
    assert first.additional_kwargs["reasoning_content"] == "Need the tool."
    assert isinstance(result, ToolMessage) and result.tool_call_id == "toolu_1"
    assert result.content == "18C"
    assert isinstance(second, AIMessage) and second.content == "Sunny." and not second.tool_calls
    assert isinstance(third, AIMessage) and third.additional_kwargs["refusal"] == "I can't help."
    shown = restored.shown
    assert shown[0].side is not None and shown[0].side.reasoning_chunks == ["Need", " the tool."]
    assert shown[0].chunks == [] and shown[1].side is None
    assert shown[2].chunks == [] and shown[2].side is not None
    assert shown[2].side.refusal == "I can't help."


async def test_a_provider_not_in_the_config_is_rebuilt_from_what_the_session_saved() -> None:
    gone = ProviderRecord("gone", {"kind": "scripted", "model": "m", "options": {"chunks": ["x"]}})
    record = saved_session(["q"], [(0, "gone", "done", "x")], [gone])
    restored = await restore_pane(record, gone, as_history({}), configured={"alpha"})
    assert restored.table == {"kind": "scripted", "model": "m", "chunks": ["x"]}
    assert restored.last_prompt == "q" and restored.recorded is True


async def test_a_provider_that_answered_nothing_comes_back_empty() -> None:
    late = ProviderRecord("late", {"kind": "scripted"})
    record = saved_session(["q"], [(0, "other", "done", "x")], [late])
    restored = await restore_pane(record, late, as_history({}), configured=())
    assert restored.conversation == [] and restored.shown == []
    assert restored.last_prompt is None and restored.recorded is False


def test_a_recording_gets_a_file_name_no_other_recording_has(tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    (folder / "20250101-120000.jsonl").write_text("")
    recorder = SessionRecorder.open(history=False)
    try:
        path = start_recording(recorder, folder, "20250101-120000")
        assert path == folder / "20250101-120000-2.jsonl"
        assert recorder.recording is not None and recorder.recording.path == path
        with pytest.raises(RecordingError):
            start_recording(recorder, folder, "20250101-120000")  # already recording
    finally:
        recorder.close()


def test_a_recording_folder_that_cannot_be_made_is_an_oserror(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    recorder = SessionRecorder.open(history=False)
    try:
        with pytest.raises(OSError):
            start_recording(recorder, blocker / "recordings", "stamp")
        assert recorder.recording is None
    finally:
        recorder.close()


def test_a_history_that_cannot_be_opened_leaves_a_recorder_saving_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(**kw: object) -> SessionRecorder:
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(SessionRecorder, "open", staticmethod(refuse))
    recorder = open_recorder(history=True)
    try:
        assert recorder.history is None and recorder.recording is None
        assert recorder.problems == [
            "history not saved: PermissionError: [Errno 13] Permission denied"
        ]
    finally:
        recorder.close()


def test_the_recorder_opens_at_first_use_and_a_new_one_after_close() -> None:
    warned: list[str] = []
    current = CurrentRecorder(history=False, warn=warned.append)
    assert current.recorder is None
    first = current.get()
    assert current.get() is first and current.recorder is first
    current.close()
    assert current.recorder is None
    second = current.get()
    assert second is not first
    current.close()
    current.close()  # closing with no conversation does nothing
    assert warned == []


def test_each_recorder_problem_is_reported_once_per_app_as_one_inert_line() -> None:
    warned: list[str] = []
    current = CurrentRecorder(history=False, warn=warned.append)
    recorder = current.get()
    current.report_problems()
    assert warned == []
    recorder.problems.append("history no longer saved:\n disk \x1b[2J full")
    current.report_problems()
    current.report_problems()
    assert warned == ["history no longer saved: disk \\x1b[2J full"]
    current.close()
    again = current.get()  # the next conversation meets the same failure
    again.problems.append("history no longer saved:\n disk \x1b[2J full")
    again.problems.append("recording no longer saved: gone")
    current.report_problems()
    assert warned[1:] == ["recording no longer saved: gone"]
    current.close()


def test_a_problem_met_while_closing_is_reported() -> None:
    warned: list[str] = []
    current = CurrentRecorder(history=False, warn=warned.append)
    recorder = current.get()
    recorder.problems.append("recording no longer saved: closed badly")
    current.close()
    assert warned == ["recording no longer saved: closed badly"]
