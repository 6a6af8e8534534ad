"""Issue 15, the app's small files on disk: a user theme with a value Textual cannot use,
a ``prompt_history`` file with bytes that are not UTF-8. The app stays up, says what is
wrong once (file and key), and loses nothing it could read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llmstream_tui.config import Settings
from llmstream_tui.ui.app import make_app
from llmstream_tui.ui.state import RECALL_FILE, PromptRecall
from llmstream_tui.ui.textual_internals import notification_messages
from llmstream_tui.ui.themes import DEFAULT_THEME, ThemeFileError, load_theme_file, theme_from_table
from tests.ui.conftest import make_settings, scripted


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own data dir (themes, prompt history)."""
    folder = tmp_path / "data"
    monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(folder))
    return folder


def one_pane() -> Settings:
    return make_settings(providers={"alpha": scripted(["A", "B"])}, default_providers=["alpha"])


# -- item 7: a theme variable Textual cannot parse ---------------------------------------------

BAD_THEME = """\
name = "mine"
dark = true
primary = "#5fa8ff"
[variables]
delimiter = "#f5a742"
scrollbar = "zzz"
"""


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("scrollbar", "zzz"),  # a Textual component colour
        ("footer-key-foreground", "#12345"),
        ("block-cursor-text-style", "zzz"),  # a Textual text style
        ("link-style", "bold blinking"),
        ("input-selection-background", "red 250%"),
    ],
)
def test_every_textual_variable_of_a_theme_is_checked(key: str, value: str) -> None:
    table = {"name": "mine", "primary": "#5fa8ff", "variables": {key: value}}
    with pytest.raises(ThemeFileError) as caught:
        theme_from_table(table, "mine.toml")
    assert str(caught.value).startswith(f"mine.toml: variables.{key}: ")
    assert repr(value) in str(caught.value) and "\n" not in str(caught.value)


def test_good_textual_variables_still_load(tmp_path: Path) -> None:
    path = tmp_path / "fine.toml"
    path.write_text(
        'name = "fine"\nprimary = "#5fa8ff"\n[variables]\nscrollbar = "#334455 60%"\n'
        'block-cursor-text-style = "b reverse"\nlink-background = "initial"\n'
        'text-muted = "auto 60%"\nmy-own-unused = "anything"\n',
        encoding="utf-8",
    )
    theme = load_theme_file(path)
    assert theme.variables["block-cursor-text-style"] == "b reverse"
    assert theme.variables["scrollbar"] == "#334455 60%"


async def test_a_user_theme_textual_cannot_use_falls_back_to_the_default(data_dir: Path) -> None:
    themes = data_dir / "themes"
    themes.mkdir(parents=True)
    (themes / "mine.toml").write_text(BAD_THEME, encoding="utf-8")
    settings = make_settings(
        providers={"alpha": scripted(["A", "B"])}, default_providers=["alpha"], theme="mine"
    )
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == DEFAULT_THEME
        messages = list(notification_messages(app))
        bad = [m for m in messages if "variables.scrollbar" in m]
        assert len(bad) == 1 and str(themes / "mine.toml") in bad[0] and "'zzz'" in bad[0]
        assert any(f"theme 'mine' not found; using {DEFAULT_THEME}" in m for m in messages)
        await pilot.press("A", "enter")
        await app.settle()
        assert app.panes[0].session.state == "done"
    assert app.return_code in (None, 0)


# -- item 8: a prompt_history file with bytes that are not UTF-8 --------------------------------

DAMAGED_RECALL = b'"first prompt"\n"caf\xe9 \xff broken"\n"second \\u00e9 prompt"\n\xc3\n"third"'


def test_recall_reads_the_good_lines_keeps_the_file_and_says_so_once(tmp_path: Path) -> None:
    path = tmp_path / RECALL_FILE
    path.write_bytes(DAMAGED_RECALL)
    recall = PromptRecall(path)
    assert recall.entries == ["first prompt", "second \u00e9 prompt", "third"]
    assert recall.last_error is not None and str(path) in recall.last_error
    assert "2 lines" in recall.last_error and "\n" not in recall.last_error
    recall.add("fourth")
    # the file is only appended to: the unreadable lines stay (and the torn last line is
    # not glued to the new one)
    assert path.read_bytes() == DAMAGED_RECALL + b'\n"fourth"\n'
    assert PromptRecall(path).entries[-2:] == ["third", "fourth"]


def test_recall_over_its_limit_does_not_rewrite_a_file_it_could_not_read(tmp_path: Path) -> None:
    path = tmp_path / RECALL_FILE
    path.write_bytes(DAMAGED_RECALL)
    recall = PromptRecall(path, limit=3)
    recall.add("fourth")
    assert recall.entries == ["second \u00e9 prompt", "third", "fourth"]
    assert path.read_bytes().startswith(DAMAGED_RECALL)


async def test_the_app_starts_on_a_prompt_history_that_is_not_utf8(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / RECALL_FILE).write_bytes(DAMAGED_RECALL)
    app = make_app(one_pane())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.prompt_recall.entries == ["first prompt", "second \u00e9 prompt", "third"]
        told = [m for m in notification_messages(app) if RECALL_FILE in m]
        assert len(told) == 1 and told[0].startswith("prompt history: ")
        await pilot.press("up")
        assert app.prompt_area.text == "third"
    assert (data_dir / RECALL_FILE).read_bytes() == DAMAGED_RECALL
