"""Pilot tests: the search bar over a pane's answer and over the events log, driven by keys."""

from __future__ import annotations

from rich.style import Style
from textual.strip import Strip

from llmstream_tui.ui.app import LLMStreamApp, make_app
from llmstream_tui.ui.widgets._styles import blended_style
from llmstream_tui.ui.widgets.chunk_view import ChunkView
from llmstream_tui.ui.widgets.events_log import EventsLog
from llmstream_tui.ui.widgets.prompt import PromptArea
from llmstream_tui.ui.widgets.search_bar import SearchBar, count_label
from tests.ui.test_app import two_scripted, type_and_send


def styled(strip: Strip) -> list[tuple[str, Style | None]]:
    return [(seg.text, seg.style) for seg in strip]


def pieces_with(view: ChunkView | EventsLog, cls: str) -> list[str]:
    """The text of every drawn segment whose background is component class ``cls``'s."""
    want = blended_style(view, cls).bgcolor
    out = []
    for y in range(view.scrollable_content_region.height):
        for text, style in styled(view.render_line(y)):
            if style is not None and style.bgcolor == want:
                out.append(text)
    return out


def bar(app: LLMStreamApp) -> SearchBar:
    return app.screen.query_one(SearchBar)


async def test_a_pane_search_finds_a_match_across_a_chunk_boundary_and_highlights_it() -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(120, 30)) as pilot:
        await type_and_send(pilot, "go")
        view = app.panes[0].body
        assert "Spark|ling" in "".join(view.plain_rows)
        await pilot.press("f12")
        await pilot.pause()
        assert bar(app).input.has_focus
        await pilot.press(*"sparkling")
        await pilot.pause()
        assert bar(app).count_text == "1/1"
        # both pieces are highlighted, the delimiter between them keeps its own style
        assert pieces_with(view, "chunk-view--match-current") == ["Spark", "ling"]
        assert pieces_with(view, "chunk-view--match") == []
        # the other pane is not searched
        assert app.panes[1].body.text_search is None


async def test_next_and_previous_wrap_and_escape_clears_the_highlights() -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(120, 30)) as pilot:
        await type_and_send(pilot, "go")
        view = app.panes[0].body
        text = "".join(view.plain_rows).replace("|", "").lower()
        found = text.count("o")
        assert found >= 3  # "go" echoed, "oh", "so"
        await pilot.press("f12", "o")
        await pilot.pause()
        assert bar(app).count_text == f"1/{found}"
        assert len(pieces_with(view, "chunk-view--match")) == found - 1
        shown = []
        for _ in range(found):
            await pilot.press("enter")
            shown.append(bar(app).count_text)
        assert shown == [f"{i}/{found}" for i in range(2, found + 1)] + [f"1/{found}"]
        await pilot.press("up")
        assert bar(app).count_text == f"{found}/{found}"
        await pilot.press("down")
        assert bar(app).count_text == f"1/{found}"
        await pilot.press(*"zzz")
        assert bar(app).count_text == "no match"
        await pilot.press("escape")
        await pilot.pause()
        assert not app.screen.query(SearchBar)
        assert view.text_search is None
        assert pieces_with(view, "chunk-view--match") == []
        assert pieces_with(view, "chunk-view--match-current") == []
        # the focus went back where it was, and escape no longer belongs to the bar
        assert app.query_one("#prompt", PromptArea).has_focus


async def test_the_events_log_is_searched_from_its_own_key() -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(160, 40)) as pilot:
        await type_and_send(pilot, "go")
        log = app.events_log
        if not log.display:
            await pilot.press("ctrl+l")
        log.show()
        await pilot.pause()
        assert log.display
        log.focus()
        await pilot.press("slash")
        await pilot.pause()
        assert bar(app).label == "find in events"
        await pilot.press(*"chat_model_end")
        await pilot.pause()
        ends = sum("chat_model_end" in line for line in log.shown_lines)
        assert ends == 2  # one per pane
        assert bar(app).count_text == f"1/{ends}"
        assert pieces_with(log, "events-log--match-current") == ["chat_model_end"]
        assert pieces_with(log, "events-log--match") == ["chat_model_end"]
        await pilot.press("enter")
        assert bar(app).count_text == f"2/{ends}"
        # F12 from the bar moves the search to the selected pane, keeping the query
        app.action_search(False)
        await pilot.pause()
        assert bar(app).label.startswith("find in alpha")
        assert pieces_with(log, "events-log--match") == []
        await pilot.press("escape")
        await pilot.pause()
        assert not app.screen.query(SearchBar)
        assert log.has_focus


async def test_the_run_tree_is_searched_as_drawn_and_the_current_match_selects_its_run() -> None:
    app = make_app(two_scripted(events_open="yes"))
    async with app.run_test(size=(160, 40)) as pilot:
        await type_and_send(pilot, "go")
        log = app.events_log
        log.focus()
        await pilot.press("t")
        await pilot.pause()
        assert log.tree_mode and len(log.shown_tree) == 2
        await pilot.press("slash", *"chat_MODEL")
        await pilot.pause()
        assert bar(app).count_text == "1/2"
        assert log.runs.cursor == 0
        assert pieces_with(log, "events-log--match-current") == ["chat_model"]
        assert pieces_with(log, "events-log--match") == ["chat_model"]
        # the selected run's row keeps the cursor's background around its match
        assert any("alpha" in piece for piece in pieces_with(log, "events-log--cursor"))
        await pilot.press("enter")
        assert bar(app).count_text == "2/2"
        assert log.runs.cursor == 1
        # back to the flat view: the tree's matches are not drawn over the log's lines
        log.action_toggle_tree()
        await pilot.pause()
        assert pieces_with(log, "events-log--match-current") == []
        await pilot.press("escape")
        await pilot.pause()
        assert not app.screen.query(SearchBar)


def test_the_count_reads_as_position_of_total() -> None:
    assert count_label(2, 17, "x") == "3/17"
    assert count_label(-1, 0, "x") == "no match"
    assert count_label(-1, 0, "") == ""
