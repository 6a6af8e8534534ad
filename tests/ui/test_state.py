"""Prompts to recall and remembered choices in the data dir."""

from __future__ import annotations

from pathlib import Path

from llmstream_tui.ui.state import Choices, PromptRecall


def test_recall_keeps_multi_line_prompts_and_survives_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "prompt_history"
    recall = PromptRecall(path)
    recall.add("one\ntwo")
    recall.add("three")
    recall.add("three")  # a repeat of the last one is not stored twice
    recall.add("   ")
    with path.open("a") as fh:
        fh.write('"torn')
    assert PromptRecall(path).entries == ["one\ntwo", "three"]


def test_recall_is_bounded(tmp_path: Path) -> None:
    recall = PromptRecall(tmp_path / "h", limit=3)
    for i in range(5):
        recall.add(str(i))
    assert PromptRecall(tmp_path / "h", limit=3).entries == ["2", "3", "4"]


def test_an_unwritable_data_dir_costs_the_memory_not_the_session(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    recall = PromptRecall(blocker / "sub" / "prompt_history")
    recall.add("kept in memory")
    assert recall.entries == ["kept in memory"]
    assert recall.last_error is not None
    choices = Choices(blocker / "choices.json")
    choices.set("theme", "x")
    assert choices.get("theme") == "x" and choices.last_error is not None


def test_choices_round_trip(tmp_path: Path) -> None:
    Choices(tmp_path / "c.json").set("theme", "llmstream-light")
    assert Choices(tmp_path / "c.json").get("theme") == "llmstream-light"
    (tmp_path / "bad.json").write_text("{not json")
    assert Choices(tmp_path / "bad.json").get("theme") is None
