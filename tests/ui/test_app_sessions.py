"""Pilot tests: the app saves every conversation, reopens it, records it, and never falls
over when saving fails (issue 5, the app's side)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from llmstream_tui.cli import main
from llmstream_tui.core.recording import RecordingReader
from llmstream_tui.sessions.history import History, HistoryWriter
from llmstream_tui.ui.app import LLMStreamApp, make_app
from llmstream_tui.ui.screens.history import HistoryScreen
from llmstream_tui.ui.textual_internals import notification_messages
from tests.ui.conftest import make_settings, scripted
from tests.ui.test_app import SONG, rows, two_scripted, type_and_send

BUBBLES = ["Bub", "bles", "!"]


def messages(app: LLMStreamApp) -> list[str]:
    return list(notification_messages(app))


async def reopen_last(app: LLMStreamApp, pilot: Any) -> None:  # pilot: Pilot[int]
    """Open the history with its key and reopen the newest session."""
    await pilot.press("f3")
    await pilot.pause()
    assert isinstance(app.screen, HistoryScreen)
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_a_sent_prompt_is_saved_with_each_providers_text_and_chunk_times() -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        recorder = app.recorder
        assert recorder is not None
        recorder.flush()
        with History() as history:
            (summary,) = history.list_sessions()
            assert summary.uid == recorder.session_uid
            assert (summary.title, summary.providers, summary.status) == (
                "hi",
                ["alpha", "beta"],
                "done",
            )
            record = history.load(summary.uid)
            for name, chunks in (("alpha", SONG), ("beta", BUBBLES)):
                run = record.run(name, 0)
                assert run is not None
                assert (run.status, run.text, run.chunks) == ("done", "".join(chunks), len(chunks))
                saved = list(history.iter_chunks(run.id))
                assert [c["text"] for c in saved] == chunks
                times = [c["t"] for c in saved]
                assert times == sorted(times) and times[0] >= 0
            assert {p.name: p.settings["kind"] for p in record.providers} == {
                "alpha": "scripted",
                "beta": "scripted",
            }


async def test_reopen_restores_the_panes_and_a_follow_up_carries_each_history() -> None:
    first = make_app(two_scripted())
    async with first.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "one")
    # alpha is configured here (it is built from the config); beta is not: it is rebuilt
    # from the settings the session saved
    settings = make_settings(
        providers={"alpha": scripted(SONG), "gamma": scripted(["g"])},
        default_providers=["gamma"],
        ui={"events_open": "yes"},
    )
    app = make_app(settings)
    async with app.run_test(size=(140, 40)) as pilot:
        await reopen_last(app, pilot)
        assert [p.session.name for p in app.panes] == ["alpha", "beta"]
        assert rows(app, 0)[:2] == ["› one", "|Spark|ling| water|,| oh| so clear|"]
        assert rows(app, 1)[:2] == ["› one", "|Bub|bles|!|"]
        assert [m.content for m in app.panes[1].session.conversation] == ["one", "Bubbles!"]
        assert any("reopened session" in m for m in messages(app))
        await type_and_send(pilot, "two")
        starts = [e for e in app.events_log.entries if e[2] == "on_chat_model_start"]
        assert [[m.content for m in e[4]["data"]["input"]] for e in starts] == [
            ["one", "Sparkling water, oh so clear", "two"],
            ["one", "Bubbles!", "two"],
        ]
        assert rows(app, 1)[2:4] == ["› two", "|Bub|bles|!|"]
    with History() as history:
        assert history.count_sessions() == 1  # continued, not a new session
        record = history.load(history.list_sessions()[0].uid)
        assert record.prompts == ["one", "two"]
        assert [(r.turn, r.provider, r.text) for r in record.runs] == [
            (0, "alpha", "Sparkling water, oh so clear"),
            (0, "beta", "Bubbles!"),
            (1, "alpha", "Sparkling water, oh so clear"),
            (1, "beta", "Bubbles!"),
        ]


async def test_a_retry_is_saved_as_a_new_turn_and_reopens_as_the_pane_left_it() -> None:
    first = make_app(two_scripted())
    async with first.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        await pilot.press("ctrl+r")  # retry alpha (the selected pane)
        await first.settle()
    with History() as history:
        record = history.load(history.list_sessions()[0].uid)
        assert record.prompts == ["hi", "hi"]
        assert [(r.turn, r.provider) for r in record.runs] == [
            (0, "alpha"),
            (0, "beta"),
            (1, "alpha"),
        ]
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await reopen_last(app, pilot)
        for pane in app.panes:
            assert [type(m).__name__ for m in pane.session.conversation] == [
                "HumanMessage",
                "AIMessage",
            ]
        assert rows(app, 0).count("› hi") == 1


async def test_two_panes_of_one_provider_are_saved_apart_and_reopen_apart() -> None:
    first = make_app(two_scripted(), providers=["beta", "beta"])
    async with first.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await reopen_last(app, pilot)
        assert [p.session.record_name for p in app.panes] == ["beta", "beta#2"]
        assert all(rows(app, i)[1] == "|Bub|bles|!|" for i in (0, 1))


async def test_record_key_writes_a_readable_recording_from_the_next_prompt(
    data_dir: Path,
) -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "before")
        await pilot.press("f2")
        (note,) = [m for m in messages(app) if m.startswith("recording to ")]
        path = Path(note.removeprefix("recording to ").partition(" (from the next prompt")[0])
        assert path.parent == data_dir / "recordings" and path.suffix == ".jsonl"
        await type_and_send(pilot, "recorded")
        drawn = {p.session.name: rows(app, app.panes.index(p))[-1] for p in app.panes}
        await pilot.press("ctrl+n")  # a new conversation ends the recording
        assert any(f"recording ended: {path}" in m for m in messages(app))
    lines = list(RecordingReader(path))
    assert [x["text"] for x in lines if x["type"] == "prompt"] == ["recorded"]
    for name, chunks in (("alpha", SONG), ("beta", BUBBLES)):
        texts = [x["text"] for x in lines if x["type"] == "chunk" and x["provider"] == name]
        assert texts == chunks
        assert drawn[name] == "|" + "|".join(chunks) + "|"
    assert sorted(x["provider"] for x in lines if x["type"] == "end") == ["alpha", "beta"]


async def test_f2_toggles_recording_and_the_prompt_box_shows_it(data_dir: Path) -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        box = app.query_one("#prompt-box")
        assert not box.has_class("-recording") and not box.border_title
        await pilot.press("f2")
        await pilot.pause()
        assert box.has_class("-recording")
        assert "● REC" in str(box.border_title)
        await type_and_send(pilot, "recorded")
        await pilot.press("f2")  # again: the file ends, the conversation goes on
        await pilot.pause()
        assert not box.has_class("-recording") and not box.border_title
        (note,) = [m for m in messages(app) if m.startswith("recording saved: ")]
        path = Path(note.removeprefix("recording saved: "))
        await type_and_send(pilot, "not recorded")
        assert app.recorder is not None and app.recorder.recording is None
    lines = list(RecordingReader(path))
    assert [x["text"] for x in lines if x["type"] == "prompt"] == ["recorded"]
    assert sorted(x["provider"] for x in lines if x["type"] == "end") == ["alpha", "beta"]


async def test_an_unwritable_data_dir_is_one_notification_and_the_app_goes_on(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(blocker / "data"))
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        await type_and_send(pilot, "again")
        assert [p.session.state for p in app.panes] == ["done", "done"]
        assert rows(app, 1)[-1] == "|Bub|bles|!|"
        saved = [m for m in messages(app) if "history not saved" in m]
        assert len(saved) == 1 and "\n" not in saved[0]
        await pilot.press("f2")
        assert any(m.startswith("cannot record: ") for m in messages(app))
        await pilot.press("f3")
        await pilot.pause()
        assert not isinstance(app.screen, HistoryScreen)
        assert any(m.startswith("history: ") for m in messages(app))


async def test_a_history_that_fails_mid_session_is_one_notification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def full(self: HistoryWriter, lines: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(HistoryWriter, "apply", full)
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        assert app.recorder is not None
        app.recorder.flush()
        await app._frame()
        await type_and_send(pilot, "again")
        failed = [m for m in messages(app) if "no longer saved" in m]
        assert failed == ["history no longer saved: OperationalError: database or disk is full"]
        assert [p.session.state for p in app.panes] == ["done", "done"]


async def test_history_and_record_are_remappable_and_listed_in_help() -> None:
    settings = two_scripted()
    # (not f6/f7: the prompt, a TextArea, selects with those while it has the focus)
    settings.keymap = {"history": "f10", "record": "f11"}
    app = make_app(settings)
    async with app.run_test(size=(120, 90)) as pilot:
        await pilot.press("f10")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        await pilot.press("escape")
        await pilot.press("f11")
        assert any(m.startswith("recording to ") for m in messages(app))
        await pilot.press("f1")
        await pilot.pause()
        shown = app.export_screenshot().replace("&#160;", " ")
        assert "history" in shown and "record" in shown and "f10" in shown and "f11" in shown


ODD = ["Spark", "ling", " ", "wa|ter", "\n", "  two  ", "é😀", ",", "\n\n", "end."]


def test_a_stream_record_recording_replays_in_the_app_with_its_chunk_boundaries(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[providers.odd]\nkind = "scripted"\nchunks = {json.dumps(ODD, ensure_ascii=False)}\n'
        '[providers.song]\nkind = "scripted"\n',
        encoding="utf-8",
    )
    path = tmp_path / "run.jsonl"
    assert (
        main(
            [
                "stream",
                "--config",
                str(config),
                "-p",
                "odd",
                "-p",
                "song",
                "--record",
                str(path),
                "--no-history",
                "the prompt",
            ]
        )
        == 0
    )
    capsys.readouterr()
    recorded: dict[str, list[str]] = {}
    for line in RecordingReader(path):
        if line["type"] == "chunk":
            recorded.setdefault(line["provider"], []).append(line["text"])
    assert recorded["odd"] == ODD

    opened: list[dict[str, Any]] = []

    def fake_run_app(settings: Any, providers: Any = None, prompt: Any = None) -> int:
        opened.append({"settings": settings, "providers": providers, "prompt": prompt})
        return 0

    monkeypatch.setattr("llmstream_tui.ui.app.run_app", fake_run_app)
    monkeypatch.setattr("llmstream_tui.cli.terminal_problem", lambda: None)  # pytest has no tty
    assert main(["replay", str(path), "--speed", "0"]) == 0
    (call,) = opened
    app = make_app(call["settings"], providers=call["providers"], prompt=call["prompt"])

    async def play() -> None:  # the CLI above runs its own event loop: this one comes after
        async with app.run_test(size=(160, 40)) as pilot:
            await app.settle()
            await pilot.pause()
            assert [p.session.name for p in app.panes] == ["odd", "song"]
            assert [p.session.state for p in app.panes] == ["done", "done"]
            for pane in app.panes:
                streamed = [
                    e[4] if isinstance(e[4], str) else e[4].content
                    for e in app.events_log.entries
                    if e[0] == pane.session.name and e[2] == "on_chat_model_stream"
                ]
                assert [t for t in streamed if t] == recorded[pane.session.name]
            assert rows(app, 0)[:2] == ["› the prompt", "|Spark|ling| |wa|ter|"]
            assert app.recorder is not None and app.recorder.history is None

    asyncio.run(play())
    with History() as history:
        assert history.count_sessions() == 0  # a replay is not a new session
