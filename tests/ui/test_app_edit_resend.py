"""Edit and resend (alt+p): pick an earlier prompt, edit it, resend; the conversation forks
there on screen, in each pane's conversation and in the history (a new saved session, the
original untouched)."""

from __future__ import annotations

from textual.command import CommandPalette

from llmstream_tui.core.messages import AIMessage, HumanMessage
from llmstream_tui.sessions.history import History
from llmstream_tui.ui.app import LLMStreamApp, make_app

from .conftest import make_settings, scripted
from .test_app import rows, type_and_send


def two_panes() -> LLMStreamApp:
    return make_app(
        make_settings(
            providers={"a": scripted(["x", "y"]), "b": scripted(["p", "q"])},
            default_providers=["a", "b"],
        )
    )


async def pick(pilot, entry: str) -> None:
    """Open the edit list (alt+p) and choose ``entry`` by typing it."""
    await pilot.press("alt+p")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CommandPalette)
    await pilot.press(*entry)
    await pilot.pause(0.3)
    await pilot.press("enter")
    await pilot.pause()


def texts(app: LLMStreamApp, index: int) -> list[tuple[str, str]]:
    return [(type(m).__name__, str(m.content)) for m in app.panes[index].session.conversation]


async def test_an_edited_prompt_forks_every_pane_that_holds_it() -> None:
    app = two_panes()
    async with app.run_test(size=(100, 30)) as pilot:
        for prompt in ("one", "two", "three"):
            await type_and_send(pilot, prompt)
        await pick(pilot, "Edit prompt 2 (a, b)")
        assert app.prompt_area.text == "two"
        assert "✎ editing prompt 2 (Esc leaves); Enter resends to a, b" in str(
            app.query_one("#targets").render()
        )
        await pilot.press("backspace", "backspace", "backspace", *"TWO!", "enter")
        await app.settle()
        await pilot.pause()
        assert rows(app, 0) == ["› one", "|x|y|", "› TWO!", "|x|y|"]
        assert rows(app, 1) == ["› one", "|p|q|", "› TWO!", "|p|q|"]
        assert texts(app, 0) == [
            ("HumanMessage", "one"),
            ("AIMessage", "xy"),
            ("HumanMessage", "TWO!"),
            ("AIMessage", "xy"),
        ]
        assert [ex.prompt for ex in app.panes[1].exchanges] == ["one", "TWO!"]
        forked = app.recorder.session_uid if app.recorder else None
        app.recorder.flush() if app.recorder else None
        with History() as history:
            sessions = {s.uid: s for s in history.list_sessions()}
            assert len(sessions) == 2 and forked in sessions
            fork = history.load(forked)
            (original,) = [history.load(uid) for uid in sessions if uid != forked]
            assert original.prompts == ["one", "two", "three"]
            assert fork.prompts == ["one", "TWO!"]
            for name, chunks in (("a", ["x", "y"]), ("b", ["p", "q"])):
                copied, again = fork.run(name, 0), fork.run(name, 1)
                assert copied is not None and again is not None
                assert [c["text"] for c in history.iter_chunks(copied.id)] == chunks
                assert again.text == "".join(chunks)
        # the next prompt continues the fork, in the same saved session
        await type_and_send(pilot, "four")
        assert rows(app, 0)[-2:] == ["› four", "|x|y|"]
        assert app.recorder is not None and app.recorder.session_uid == forked


async def test_an_edit_for_the_selected_pane_only_leaves_the_others_as_they_were() -> None:
    app = two_panes()
    async with app.run_test(size=(100, 30)) as pilot:
        for prompt in ("one", "two"):
            await type_and_send(pilot, prompt)
        before = rows(app, 1)
        await pick(pilot, "Edit prompt 1 (a only)")
        app.prompt_area.load_text("uno")
        await pilot.press("enter")
        await app.settle()
        await pilot.pause()
        assert rows(app, 0) == ["› uno", "|x|y|"]
        assert rows(app, 1) == before
        assert texts(app, 1)[0] == ("HumanMessage", "one")


async def test_escape_leaves_an_edit_and_nothing_changes() -> None:
    app = two_panes()
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "one")
        shown = rows(app, 0)
        await pick(pilot, "Edit prompt 1 (a, b)")
        await pilot.press("escape")
        await pilot.pause()
        assert app.editing is None and app.prompt_area.text == ""
        await type_and_send(pilot, "two")
        assert rows(app, 0) == [*shown, "› two", "|x|y|"]
        assert isinstance(app.panes[0].session.conversation[-1], AIMessage)
        assert isinstance(app.panes[0].session.conversation[-2], HumanMessage)


async def test_an_edit_after_f4_cuts_at_the_same_place() -> None:
    """F4 redraws the text: the places the exchanges start move with it."""
    app = two_panes()
    async with app.run_test(size=(100, 30)) as pilot:
        for prompt in ("one", "two", "three"):
            await type_and_send(pilot, prompt)
        await pilot.press("f4")
        await pilot.pause()
        await pick(pilot, "Edit prompt 3 (a, b)")
        app.prompt_area.load_text("drei")
        await pilot.press("enter")
        await app.settle()
        await pilot.pause()
        assert rows(app, 0) == ["› one", "|x|y|", "› two", "|x|y|", "› drei", "|x|y|"]


async def test_a_retry_replaces_the_last_answer_without_a_blank_line() -> None:
    app = two_panes()
    async with app.run_test(size=(100, 30)) as pilot:
        for prompt in ("one", "two"):
            await type_and_send(pilot, prompt)
        await pilot.press("ctrl+r")
        await pilot.pause()
        await app.settle()
        await pilot.pause()
        assert rows(app, 0) == ["› one", "|x|y|", "› two", "|x|y|"]


async def test_with_nothing_sent_the_edit_key_says_so() -> None:
    app = two_panes()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("alt+p")
        await pilot.pause()
        assert not isinstance(app.screen, CommandPalette)
        assert any("no prompt to edit" in str(n.message) for n in app._notifications)
