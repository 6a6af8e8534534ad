"""HistoryScreen driven by keys in a host app, on a real history database."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.widgets import DataTable, Static

from llmstream_tui.sessions.history import History, HistoryWriter, SessionRecord
from llmstream_tui.ui.screens.history import SEARCH_DELAY_S, HistoryScreen


def save(prompt: str, answers: dict[str, str], *, status: str = "end") -> str:
    """A session with one turn, each provider answering ``answers[name]``."""
    writer = HistoryWriter()
    lines: list[dict[str, Any]] = [{"type": "prompt", "turn": 0, "text": prompt}]
    for name, text in answers.items():
        lines += [
            {"type": "provider", "provider": name, "kind": "scripted", "model": ""},
            {"type": "run", "provider": name, "turn": 0},
            {"type": "chunk", "provider": name, "index": 0, "t": 0.01, "text": text},
        ]
        if status == "end":
            lines.append({"type": "end", "provider": name, "t": 0.02, "text": text})
    writer.apply(lines)
    writer.close()
    return writer.uid


class Host(App[None]):
    def __init__(self, history: History, page_size: int = 100) -> None:
        super().__init__()
        self.history = history
        self.page_size = page_size
        self.results: list[SessionRecord | None] = []

    def on_mount(self) -> None:
        self.push_screen(HistoryScreen(self.history, page_size=self.page_size), self.results.append)

    @property
    def screen_(self) -> HistoryScreen:
        screen = self.screen
        assert isinstance(screen, HistoryScreen)
        return screen


def titles(screen: HistoryScreen) -> list[str]:
    return [row.title for row in screen.rows]


def preview(screen: HistoryScreen) -> str:
    return str(screen.query_one("#history-preview", Static).render())


async def test_lists_sessions_newest_first_with_a_preview_of_the_highlighted_one() -> None:
    save("older prompt", {"a": "first answer"})
    save("newer prompt", {"a": "Spark", "b": "Bub"})
    history = History()
    app = Host(history)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        screen = app.screen_
        assert titles(screen) == ["newer prompt", "older prompt"]
        assert screen.table.row_count == 2
        assert "newer prompt" in preview(screen) and "Spark" in preview(screen)
        await pilot.press("down")
        assert "first answer" in preview(screen)
    history.close()


async def test_enter_reopens_the_highlighted_session() -> None:
    uid = save("the one", {"a": "hello", "b": "bye"})
    save("another", {"a": "x"})
    history = History()
    app = Host(history)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
    history.close()
    (record,) = app.results
    assert record is not None and record.uid == uid
    assert record.messages("b") == [
        {"role": "user", "content": "the one"},
        {"role": "assistant", "content": "bye"},
    ]


async def test_escape_closes_with_nothing() -> None:
    save("p", {"a": "x"})
    history = History()
    app = Host(history)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    history.close()
    assert app.results == [None]


async def test_typing_searches_prompts_and_answers() -> None:
    save("about tea", {"a": "green"})
    save("about coffee", {"a": "mentions TEAPOT"})
    save("about water", {"a": "bubbles"})
    history = History()
    app = Host(history)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        screen = app.screen_
        screen.query_one("#history-search").focus()
        await pilot.press(*"tea")
        await pilot.pause(SEARCH_DELAY_S + 0.1)
        assert titles(screen) == ["about coffee", "about tea"]
        await pilot.press(*"zzz")
        await pilot.pause(SEARCH_DELAY_S + 0.1)
        assert titles(screen) == [] and "No session contains 'teazzz'" in preview(screen)
    history.close()


async def test_pages_are_fetched_as_the_cursor_nears_the_end() -> None:
    for i in range(45):
        save(f"prompt {i:02d}", {"a": "x"})
    history = History()
    app = Host(history, page_size=20)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen_
        assert len(screen.rows) == 20 and titles(screen)[0] == "prompt 44"
        await pilot.press(*["down"] * 16)
        assert len(screen.rows) == 40
        await pilot.press(*["down"] * 20)
        assert len(screen.rows) == 45 and screen.exhausted
        assert titles(screen) == [f"prompt {i:02d}" for i in range(44, -1, -1)]
    history.close()


async def test_delete_needs_two_presses_and_removes_the_session() -> None:
    keep = save("keep", {"a": "x"})
    save("drop", {"a": "y"})
    history = History()
    app = Host(history)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        screen = app.screen_
        await pilot.press("delete")
        assert titles(screen) == ["drop", "keep"]  # only armed
        await pilot.press("down", "up", "delete")  # moving away disarmed it: armed again
        assert titles(screen) == ["drop", "keep"]
        await pilot.press("delete")
        assert titles(screen) == ["keep"] and screen.table.row_count == 1
    assert [r.uid for r in history.list_sessions()] == [keep]
    history.close()


async def test_untrusted_text_is_shown_inert() -> None:
    save("title \x1b[2J", {"a": "answer \x1b]52;c;aGk=\x07 [bold]not markup[/]"}, status="none")
    history = History()
    app = Host(history)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        screen = app.screen_
        shown = preview(screen)
        assert "\x1b" not in shown and "\x07" not in shown
        assert "\\x1b[2J" in shown and "[bold]not markup[/]" in shown
        assert "[streaming]" in shown
        cells = [str(c) for c in screen.query_one(DataTable).get_row_at(0)]
        assert "\x1b" not in "".join(cells)
    history.close()


async def test_an_empty_history_says_so() -> None:
    history = History()
    app = Host(history)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert "No saved sessions." in preview(app.screen_)
        await pilot.press("enter", "delete")  # nothing to act on: no error
        await pilot.pause()
    history.close()
    assert app.results == []


async def test_ten_thousand_sessions_open_on_one_page() -> None:
    from llmstream_tui.sessions.history import default_path
    from tests.sessions.test_history import bulk_sessions

    bulk_sessions(default_path(), 10_000)
    history = History()
    app = Host(history)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        screen = app.screen_
        assert len(screen.rows) == screen.page_size == 100
        assert screen.rows[0].title == "prompt number 10000"
    history.close()


async def test_typing_with_the_list_focused_searches_and_enter_reopens_the_match() -> None:
    """The list has the focus when the screen opens: typing still goes to the search box,
    and Enter (at once, before the search pause) reopens the session the search narrowed
    to, not the one highlighted before."""
    save("about water", {"a": "bubbles"})
    wanted = save("about tea", {"a": "green"})
    save("about coffee", {"a": "black"})
    history = History()
    app = Host(history)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        screen = app.screen_
        assert isinstance(screen.focused, DataTable)
        await pilot.press("down")  # "about tea" is second: move off the first row
        await pilot.press(*"water")
        assert screen.query_one("#history-search").value == "water"  # type: ignore[attr-defined]
        await pilot.press("enter")  # runs the search now, selects its first match
        await pilot.pause()
        assert titles(screen) == ["about water"]
        assert screen.highlighted is not None and screen.highlighted.title == "about water"
        await pilot.press("enter")
        await pilot.pause()
    (record,) = app.results
    assert record is not None and record.title == "about water" and record.uid != wanted
    history.close()
