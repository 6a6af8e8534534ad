"""Prompt history and remembered choices in the data dir."""

from __future__ import annotations

from pathlib import Path

from llmstream_tui.ui.state import Choices, PromptHistory


def test_history_keeps_multi_line_prompts_and_survives_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "prompt_history"
    history = PromptHistory(path)
    history.add("one\ntwo")
    history.add("three")
    history.add("three")  # a repeat of the last one is not stored twice
    history.add("   ")
    with path.open("a") as fh:
        fh.write('"torn')
    assert PromptHistory(path).entries == ["one\ntwo", "three"]


def test_history_is_bounded(tmp_path: Path) -> None:
    history = PromptHistory(tmp_path / "h", limit=3)
    for i in range(5):
        history.add(str(i))
    assert PromptHistory(tmp_path / "h", limit=3).entries == ["2", "3", "4"]


def test_an_unwritable_data_dir_costs_the_memory_not_the_session(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    history = PromptHistory(blocker / "sub" / "prompt_history")
    history.add("kept in memory")
    assert history.entries == ["kept in memory"]
    assert history.last_error is not None
    choices = Choices(blocker / "choices.json")
    choices.set("theme", "x")
    assert choices.get("theme") == "x" and choices.last_error is not None


def test_choices_round_trip(tmp_path: Path) -> None:
    Choices(tmp_path / "c.json").set("theme", "llmstream-light")
    assert Choices(tmp_path / "c.json").get("theme") == "llmstream-light"
    (tmp_path / "bad.json").write_text("{not json")
    assert Choices(tmp_path / "bad.json").get("theme") is None
