"""Pilot tests: copying an answer, a code block or a selection, exporting the conversation,
and scrolling the selected pane, all with the prompt focused (issue 14's features).

Keys are sent as a terminal sends them (``terminal_key``): an alt+letter arrives with its
letter as the character, which the prompt would type if the app's binding did not win.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.command import CommandPalette
from textual.geometry import Offset
from textual.selection import Selection
from textual.widgets import Markdown, OptionList

from llmstream_tui.sessions.export import export_jsonl, export_markdown
from llmstream_tui.sessions.history import History
from llmstream_tui.ui.app import LLMStreamApp, make_app
from llmstream_tui.ui.copy_export import code_blocks
from llmstream_tui.ui.textual_internals import notification_messages
from tests.ui.conftest import make_settings, scripted
from tests.ui.test_app import SONG, two_scripted, type_and_send

CODE_ANSWER = [
    "Try this:\n\n```python\n",
    "print('one')\n",
    "```\n\nor this:\n\n~~~sh\necho two\n~~~\n",
]


def terminal_key(app: LLMStreamApp, key: str) -> None:
    """Post ``key`` as a terminal's parser makes it: ``alt+a`` carries the character ``a``."""
    char = key.rpartition("+")[2] if key.startswith("alt+") else None
    app.post_message(events.Key(key, char))


async def exported(app: LLMStreamApp, pilot: Any) -> str | None:  # pilot: Pilot[int]
    """Wait for the export worker and return the session's uid (None before a prompt)."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    recorder = app.recorder
    return recorder.session_uid if recorder is not None else None


def messages(app: LLMStreamApp) -> list[str]:
    return list(notification_messages(app))


def one_pane(chunks: list[str], **settings: object) -> LLMStreamApp:
    return make_app(
        make_settings(
            providers={"alpha": scripted(chunks)}, default_providers=["alpha"], **settings
        )
    )


# -- copy ---------------------------------------------------------------------------------------


async def test_alt_a_copies_the_selected_panes_answer_as_streamed_with_the_prompt_focused() -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        terminal_key(app, "alt+a")
        await pilot.pause()
        assert app.clipboard == "".join(SONG)
        assert app.prompt_area.text == ""  # the alt key's letter was not typed
        assert app.focused is app.prompt_area
        assert messages(app)[-1] == "copied alpha's answer (28 chars)"
        await pilot.press("ctrl+f")  # the other pane
        terminal_key(app, "alt+a")
        await pilot.pause()
        assert app.clipboard == "Bubbles!"


async def test_copying_before_any_answer_copies_nothing_and_says_so() -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        terminal_key(app, "alt+a")
        terminal_key(app, "alt+c")
        terminal_key(app, "alt+s")
        await pilot.pause()
        assert app.clipboard == ""
        assert messages(app) == [
            "alpha: no answer to copy yet",
            "alpha: no code block in the last answer",
            "nothing selected: drag the mouse over a pane's text first",
        ]


def test_code_blocks_are_read_as_commonmark_fences() -> None:
    text = "a\n````md\n```py\ninner\n```\n````\n~~~\ntilde\n~~~\n```\nunclosed"
    blocks = code_blocks(text)
    assert [(b.lang, b.text) for b in blocks] == [
        ("md", "```py\ninner\n```\n"),
        ("", "tilde\n"),
        ("", "unclosed"),  # an unclosed fence runs to the end
    ]
    assert code_blocks("no code, `inline` only") == []


def test_a_code_blocks_preview_is_its_first_line_shortened_and_inert() -> None:
    (block,) = code_blocks("```\n\n  x = '\x1b[31m" + "y" * 80 + "'\n```\n")
    assert block.preview.startswith("x = '")
    assert "\x1b" not in block.preview
    assert len(block.preview) == 48 and block.preview.endswith("…")


async def test_alt_c_copies_the_only_code_block() -> None:
    app = one_pane(["Here:\n```python\nx = 1\n", "y = 2\n```\n"])
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "code")
        terminal_key(app, "alt+c")
        await pilot.pause()
        assert app.clipboard == "x = 1\ny = 2\n"
        assert messages(app)[-1] == "copied code block 1 (python) of alpha's answer (12 chars)"


async def test_alt_c_lists_several_code_blocks_last_first_and_copies_the_one_picked() -> None:
    app = one_pane(CODE_ANSWER)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "code")
        terminal_key(app, "alt+c")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        assert app.clipboard == ""
        listed = app.screen.query_one(OptionList)
        prompts = [str(listed.get_option_at_index(i).prompt) for i in range(listed.option_count)]
        assert [p.partition("\n")[0] for p in prompts] == [
            "Copy code block 2 (sh): echo two",
            "Copy code block 1 (python): print('one')",
        ]
        assert "1 line, 9 chars" in prompts[0]
        await pilot.press(*"block 1")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.clipboard == "print('one')\n"
        assert messages(app)[-1] == "copied code block 1 (python) of alpha's answer (13 chars)"
        terminal_key(app, "alt+c")
        await pilot.pause()
        await pilot.press("enter")  # the first entry is the last block
        await pilot.pause()
        assert app.clipboard == "echo two\n"


async def test_a_mouse_selection_in_a_pane_is_copied_without_the_chunk_delimiters() -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        body = app.panes[0].body
        answer_row = body.plain_rows.index("|Spark|ling| water|,| oh| so clear|")
        await pilot.mouse_down(body, offset=(1, answer_row))
        await pilot.hover(body, offset=(18, answer_row))  # to the end of " water"
        await pilot.mouse_up(body, offset=(18, answer_row))
        assert app.screen.get_selected_text() == "Sparkling water"
        # the selected cells are drawn in the selection style, over the chunk tints
        selected = app.screen.get_component_rich_style("screen--selection")
        line = body.render_line(answer_row - int(body.scroll_y))
        styles = {seg.text: seg.style for seg in line if seg.style is not None}
        assert styles["Spark"].bgcolor == selected.bgcolor
        assert styles[" so clear"].bgcolor != selected.bgcolor
        # the text keeps its colour (Textual's selection foreground is transparent)
        assert styles["Spark"].color == styles[" so clear"].color is not None
        terminal_key(app, "alt+s")
        await pilot.pause()
        assert app.clipboard == "Sparkling water"
        assert messages(app)[-1] == "copied the selection (15 chars)"


async def test_ctrl_c_copies_a_pane_selection_too_with_the_prompt_focused() -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        body = app.panes[1].body
        row = body.plain_rows.index("|Bub|bles|!|")
        app.screen.selections = {body: Selection(Offset(1, row), Offset(9, row))}
        app.prompt_area.focus()
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app.clipboard == "Bubbles"


async def test_a_wrapped_answer_is_copied_as_one_line_from_a_selection() -> None:
    app = one_pane(["word " * 30])
    async with app.run_test(size=(60, 30)) as pilot:
        await type_and_send(pilot, "long")
        body = app.panes[0].body
        first = next(i for i, r in enumerate(body.plain_rows) if r.startswith("|word"))
        assert len(body.plain_rows) > first + 1  # the answer wraps
        app.screen.selections = {body: Selection(Offset(1, first), None)}
        assert app.screen.get_selected_text() == "word " * 30  # no break where it wrapped


async def test_the_prompts_own_selection_is_copied_when_nothing_else_is_selected() -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        app.prompt_area.load_text("draft prompt")
        app.prompt_area.select_all()
        terminal_key(app, "alt+s")
        await pilot.pause()
        assert app.clipboard == "draft prompt"
        assert app.prompt_area.text == "draft prompt"


# -- export -------------------------------------------------------------------------------------


async def test_alt_e_exports_the_session_as_the_cli_does_to_a_file_and_the_clipboard(
    data_dir: Path,
) -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        await type_and_send(pilot, "again")
        terminal_key(app, "alt+e")
        uid = await exported(app, pilot)
        (path,) = (data_dir / "exports").iterdir()
        assert uid is not None
        with History() as history:
            expected = export_markdown(history, uid)
        assert path.suffix == ".md"
        assert path.read_text(encoding="utf-8") == expected
        assert app.clipboard == expected
        assert "## Turn 2" in expected and "Sparkling water, oh so clear" in expected
        assert messages(app)[-1] == f"exported to {path} and copied ({len(expected):,} chars)"
        assert app.prompt_area.text == ""


async def test_the_palette_exports_a_recording_as_sessions_export_writes_it(
    data_dir: Path,
) -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Export as recording")
        await pilot.pause()
        await pilot.press("enter")
        uid = await exported(app, pilot)
        (path,) = (data_dir / "exports").iterdir()
        assert uid is not None
        out = data_dir / "cli.jsonl"
        with History() as history, out.open("w", encoding="utf-8") as f:
            export_jsonl(history, uid, f)
        assert path.suffix == ".jsonl"
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        expected = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        for header in (lines[0], expected[0]):
            header.pop("created")  # when each export ran (to the second)
        assert lines == expected
        assert any(line.get("text") == "Spark" for line in lines)
        assert app.clipboard == ""  # a recording is a file, not something to paste
        assert messages(app)[-1] == f"exported the recording to {path}"


async def test_export_with_the_history_off_says_so_in_one_line(data_dir: Path) -> None:
    app = one_pane(SONG, history=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        terminal_key(app, "alt+e")
        await exported(app, pilot)
        assert not (data_dir / "exports").exists()
        (said,) = [m for m in messages(app) if "export" in m]
        assert "history = false" in said and "\n" not in said


async def test_export_before_the_first_prompt_exports_nothing(data_dir: Path) -> None:
    app = one_pane(SONG)
    async with app.run_test(size=(100, 30)) as pilot:
        terminal_key(app, "alt+e")
        await exported(app, pilot)
        assert not (data_dir / "exports").exists()
        assert messages(app) == ["nothing to export yet: send a prompt first"]


# -- scrolling the selected pane ------------------------------------------------------------------


async def test_scroll_keys_move_the_selected_pane_while_the_prompt_keeps_the_focus() -> None:
    app = one_pane([f"line {i}\n" for i in range(80)])
    async with app.run_test(size=(80, 24)) as pilot:
        await type_and_send(pilot, "long")
        body = app.panes[0].body
        bottom = body.max_scroll_y
        assert bottom > 20 and body.scroll_y == bottom  # it followed the answer
        terminal_key(app, "shift+pageup")
        await pilot.pause()
        page_up = body.scroll_y
        assert 0 < page_up < bottom
        terminal_key(app, "ctrl+up")
        await pilot.pause()
        assert body.scroll_y < page_up
        terminal_key(app, "ctrl+home")
        await pilot.pause()
        assert body.scroll_y == 0
        terminal_key(app, "shift+pagedown")
        await pilot.pause()
        assert body.scroll_y > 0
        terminal_key(app, "ctrl+end")
        await pilot.pause()
        assert body.scroll_y == body.max_scroll_y
        assert app.focused is app.prompt_area
        assert app.prompt_area.text == ""


async def test_the_mouse_wheel_scrolls_a_pane() -> None:
    app = one_pane([f"line {i}\n" for i in range(80)])
    async with app.run_test(size=(80, 24)) as pilot:
        await type_and_send(pilot, "long")
        body = app.panes[0].body
        bottom = body.scroll_y
        for _ in range(3):  # what the screen hands the widget under the mouse for a wheel turn
            body.post_message(events.MouseScrollUp(body, 2, 2, 0, 0, 0, False, False, False))
        await pilot.pause()
        assert body.scroll_y < bottom


async def test_scroll_keys_scroll_the_markdown_view_when_it_is_on() -> None:
    app = one_pane([f"paragraph {i}\n\n" for i in range(60)])
    async with app.run_test(size=(80, 24)) as pilot:
        await type_and_send(pilot, "long")
        await pilot.press("ctrl+t")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        (md,) = app.panes[0].query(Markdown)
        assert md.max_scroll_y > 0
        terminal_key(app, "ctrl+end")
        await pilot.pause()
        assert md.scroll_y == md.max_scroll_y
        terminal_key(app, "ctrl+home")
        await pilot.pause()
        assert md.scroll_y == 0


async def test_exports_carry_no_api_key(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-0123456789abcdef"
    monkeypatch.setenv("ALPHA_KEY", secret)
    table = scripted(SONG, api_key_env="ALPHA_KEY", headers={"Authorization": f"Bearer {secret}"})
    app = make_app(make_settings(providers={"alpha": table}, default_providers=["alpha"]))
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        terminal_key(app, "alt+e")
        await exported(app, pilot)
        await app.run_action("export('jsonl')")
        await exported(app, pilot)
        files = sorted((data_dir / "exports").iterdir(), key=lambda f: f.suffix)
        assert [f.suffix for f in files] == [".jsonl", ".md"]
        for f in files:
            text = f.read_text(encoding="utf-8")
            assert "Spark" in text
            assert secret not in text
        assert secret not in app.clipboard


async def test_a_mouse_selection_in_the_events_log_is_copied_with_the_lines_it_cut() -> None:
    """The events log selects like the panes: drag over lines, alt+s copies; a line cut with
    ``…`` on screen comes whole when the selection reaches its end."""
    settings = make_settings(
        providers={"alpha": scripted(["Spark", "ling", " water" * 20])},
        default_providers=["alpha"],
        ui={"events_open": "yes"},
    )
    app = make_app(settings)
    async with app.run_test(size=(140, 30)) as pilot:
        await type_and_send(pilot, "hi")
        log = app.events_log
        lines = log.shown_lines
        first = next(i for i, line in enumerate(lines) if line.endswith('"Spark"'))
        width = log.scrollable_content_region.width
        left = log.content_region.x - log.region.x
        top = log.content_region.y - log.region.y - int(log.scroll_y)
        assert len(lines[first + 2]) > width  # the third line is cut on screen
        await pilot.mouse_down(log, offset=(left, top + first))
        await pilot.hover(log, offset=(left + width - 1, top + first + 2))
        await pilot.mouse_up(log, offset=(left + width - 1, top + first + 2))
        text = app.screen.get_selected_text()
        assert text == "\n".join(lines[first : first + 3])
        assert text.endswith("finish=stop")  # the cut line, whole
        terminal_key(app, "alt+s")
        await pilot.pause()
        assert app.clipboard == text
