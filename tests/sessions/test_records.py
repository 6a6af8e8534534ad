"""The records History returns: a session's status, a provider table, the conversation."""

from __future__ import annotations

import pytest

from llmstream_tui.sessions.records import ProviderRecord, RunRecord, SessionRecord, SessionSummary


def run(provider: str, turn: int, text: str) -> RunRecord:
    return RunRecord(
        id=turn,
        turn=turn,
        provider=provider,
        status="done",
        started=0.0,
        t=1.0,
        text=text,
        finish_reason="stop",
        usage=None,
        metrics=None,
        error=None,
        chunks=1,
    )


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (None, "empty"),
        ("done", "done"),
        ("done,cancelled", "cancelled"),
        ("done,interrupted,cancelled", "interrupted"),
        ("interrupted,error", "error"),
        ("error,streaming", "streaming"),
        ("something new", "done"),
    ],
)
def test_a_session_shows_its_most_telling_run_status(statuses: str | None, expected: str) -> None:
    assert SessionSummary.status_of(statuses) == expected


def test_a_provider_record_rebuilds_its_table_without_header_values() -> None:
    record = ProviderRecord(
        "p",
        {
            "kind": "openai-chat",
            "model": "gpt",
            "base_url": "http://127.0.0.1:1",
            "api_key_env": "KEY_VAR",
            "params": {"temperature": 0.2},
            "options": {"timeout": 5},
            "headers": ["authorization"],
        },
    )
    assert record.table() == {
        "timeout": 5,
        "kind": "openai-chat",
        "model": "gpt",
        "base_url": "http://127.0.0.1:1",
        "api_key_env": "KEY_VAR",
        "params": {"temperature": 0.2},
    }


def test_a_providers_conversation_skips_turns_it_did_not_answer() -> None:
    session = SessionRecord(
        id=1,
        uid="u",
        title="t",
        created=0.0,
        updated=0.0,
        prompts=["one", "two"],
        providers=[ProviderRecord("a", {"kind": "scripted"})],
        runs=[run("a", 1, "second answer"), run("b", 0, "b's answer")],
    )
    assert session.messages("a") == [
        {"role": "user", "content": "one"},
        {"role": "user", "content": "two"},
        {"role": "assistant", "content": "second answer"},
    ]
    assert session.provider("a") == session.providers[0] and session.provider("b") is None
    assert session.run("b", 0) is not None and session.run("b", 1) is None
