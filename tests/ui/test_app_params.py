"""Pilot tests: a pane's system prompt, parameters and model set from the app (issue 14):
the next request carries them, the conversation goes on, the header says what is set, the
session saves them, and a bad value is one line in the dialog with nothing lost."""

from __future__ import annotations

from typing import Any

import pytest

from llmstream_tui.sessions.history import History
from llmstream_tui.ui.app import make_app
from llmstream_tui.ui.pane_params import ParamsError, badge, parse_values
from llmstream_tui.ui.screens.params import ParamsScreen
from tests.support.loopback import LoopbackServer, Reply
from tests.support.paths import WIRE
from tests.ui.conftest import make_settings, scripted
from tests.ui.test_app import type_and_send


def test_values_are_checked_by_the_config_s_own_model() -> None:
    assert parse_values({"temperature": " 0.2 ", "max_tokens": "512", "system": "Be brief."}) == {
        "temperature": 0.2,
        "max_tokens": 512,
        "system": "Be brief.",
    }
    assert parse_values({"temperature": ""}) == {}  # empty: unset
    with pytest.raises(ParamsError, match="max_tokens"):
        parse_values({"max_tokens": "0"})
    with pytest.raises(ParamsError, match="seed"):
        parse_values({"seed": "abc"})


async def fill(pilot: Any, screen: ParamsScreen, **values: str) -> None:
    from textual.widgets import Input

    for name, value in values.items():
        field = screen.query_one(f"#param-{name}", Input)
        field.value = value
    await pilot.pause()


async def test_f11_sets_the_selected_panes_parameters_for_the_next_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    reply = Reply.sse_file(WIRE / "openai-chat" / "content-short.sse")
    async with LoopbackServer(reply) as server:
        settings = make_settings(
            providers={
                "oa": {"kind": "openai-chat", "model": "gpt-4o", "base_url": f"{server.url}/v1"},
                "other": scripted(["x"]),
            },
            default_providers=["oa", "other"],
        )
        app = make_app(settings)
        async with app.run_test(size=(120, 36)) as pilot:
            await type_and_send(pilot, "one")
            await pilot.press("f11")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, ParamsScreen)
            await fill(
                pilot, screen, system="Answer in French.", temperature="0.2", model="gpt-4.1"
            )
            await pilot.press("ctrl+s")
            await app.workers.wait_for_complete()
            await pilot.pause()
            pane = app.panes[0]
            assert badge(pane.session.llm) == "T0.2 sys"
            assert "gpt-4.1" in str(pane.border_title) and "T0.2 sys" in str(pane.border_title)
            assert app.panes[1].session.llm is not None
            assert app.panes[1].session.llm.params == {}  # only the selected pane
            await type_and_send(pilot, "two")
            assert pane.session.state == "done"
    # the dialog asked the server for its models (GET /v1/models) besides the two runs
    assert any(r.method == "GET" and r.route == "/v1/models" for r in server.requests)
    first, second = [r.json() for r in server.requests if r.method == "POST"]
    assert "temperature" not in first and first["model"] == "gpt-4o"
    assert second["model"] == "gpt-4.1" and second["temperature"] == 0.2
    roles = [m["role"] for m in second["messages"]]
    assert roles == ["system", "user", "assistant", "user"]  # the conversation went on
    assert second["messages"][0]["content"] == "Answer in French."
    with History() as history:
        record = history.load(history.list_sessions()[0].uid)
        saved = {p.name: p.settings for p in record.providers}
    assert saved["oa"]["model"] == "gpt-4.1" and saved["oa"]["params"]["temperature"] == 0.2


async def test_a_bad_value_is_one_line_and_the_dialog_stays_open() -> None:
    app = make_app(make_settings(providers={"a": scripted(["x"])}, default_providers=["a"]))
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.press("f11")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ParamsScreen)
        await fill(pilot, screen, max_tokens="-5")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen  # still open, the values still there
        from textual.widgets import Input, Static

        error = str(screen.query_one("#params-error", Static).render())
        assert "max_tokens" in error and "\n" not in error.strip()
        assert screen.query_one("#param-max_tokens", Input).value == "-5"
        await pilot.press("escape")
        await pilot.pause()
        assert app.panes[0].session.llm is not None
        assert app.panes[0].session.llm.params == {}


async def test_every_pane_at_once() -> None:
    settings = make_settings(
        providers={"a": scripted(["x"]), "b": scripted(["y"])}, default_providers=["a", "b"]
    )
    app = make_app(settings)
    async with app.run_test(size=(100, 36)) as pilot:
        app.action_params(True)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ParamsScreen)
        await fill(pilot, screen, seed="7")
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [p.session.llm.params for p in app.panes if p.session.llm] == [
            {"seed": 7},
            {"seed": 7},
        ]


async def test_a_reopened_session_goes_on_with_the_parameters_it_last_used() -> None:
    """A configured provider whose parameters were changed with F11 comes back with them
    when the session is reopened (the config's kind and keys, the session's parameters)."""
    from llmstream_tui.ui.session_keys import reopen

    settings = make_settings(
        providers={"a": scripted(["x"]), "b": scripted(["y"], params={"temperature": 0.5})},
        default_providers=["a", "b"],
    )
    app = make_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f11")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ParamsScreen)
        await fill(pilot, screen, temperature="0.3", system="Be brief.")
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await type_and_send(pilot, "one")
    again = make_app(settings)
    async with again.run_test(size=(120, 36)) as pilot:
        with History() as history:
            await reopen(again, history.load(history.list_sessions()[0].uid), history)
        await pilot.pause()
        a, b = again.panes
        assert a.session.llm is not None and b.session.llm is not None
        assert a.session.llm.params == {"temperature": 0.3, "system": "Be brief."}
        assert badge(a.session.llm) in str(a.border_title)
        assert b.session.llm.params == {"temperature": 0.5}  # as configured: never changed


async def test_the_dialog_offers_the_models_the_server_serves() -> None:
    """F11 asks the pane's server for its models: listed under the model field, filtered as
    it is typed; picking one fills the field and applying switches the pane's model."""
    from textual.widgets import Input, OptionList

    from tests.ui.conftest import timed

    models = ["gpt-4.1", "gpt-4.1-mini", "o3", "[bold]odd[/]"]
    settings = make_settings(providers={"m": timed(["x"], models=models)}, default_providers=["m"])
    app = make_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f11")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ParamsScreen)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        listing = screen.query_one("#params-models", OptionList)
        assert listing.option_count == 4 and listing.display
        assert "4 models on the server" in str(screen.query_one("#params-models-note").render())
        field = screen.query_one("#param-model", Input)
        field.focus()
        field.value = "mini"
        await pilot.pause()
        assert [
            str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)
        ] == ["gpt-4.1-mini"]
        listing.focus()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert field.value == "gpt-4.1-mini"
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.panes[0].session.llm is not None
        assert app.panes[0].session.llm.model == "gpt-4.1-mini"


async def test_a_server_that_cannot_list_models_is_one_line_in_the_dialog() -> None:
    settings = make_settings(
        providers={
            "oa": {"kind": "openai-chat", "model": "m", "base_url": "http://127.0.0.1:9/v1"}
        },
        default_providers=["oa"],
    )
    app = make_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f11")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ParamsScreen)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        note = str(screen.query_one("#params-models-note").render())
        assert note.startswith("the server's models: ") and "\n" not in note
        assert not screen.query_one("#params-models").display
