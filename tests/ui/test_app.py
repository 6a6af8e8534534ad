"""Pilot tests: the app's flows end to end, driven by keys, with offline providers."""

from __future__ import annotations

import json
from contextlib import suppress
from pathlib import Path

from rich.text import Text
from textual.widgets import Markdown

from llmstream_tui.config import Settings
from llmstream_tui.core.messages import AIMessage, HumanMessage
from llmstream_tui.ui.app import LLMStreamApp, make_app
from llmstream_tui.ui.commands import pick_model, provider_commands
from llmstream_tui.ui.textual_internals import notification_messages
from llmstream_tui.ui.widgets.pane_grid import grid_columns
from llmstream_tui.ui.widgets.prompt import PromptArea
from llmstream_tui.ui.widgets.stream_pane import StreamPane
from tests.ui import timed as timed_module
from tests.ui.conftest import make_settings, scripted, timed

SONG = ["Spark", "ling", " water", ",", " oh", " so clear"]


def two_scripted(**ui: object) -> Settings:
    return make_settings(
        providers={"alpha": scripted(SONG), "beta": scripted(["Bub", "bles", "!"])},
        default_providers=["alpha", "beta"],
        ui=ui,
    )


async def type_and_send(pilot, text: str) -> None:
    await pilot.press(*text)
    await pilot.press("enter")
    app = pilot.app
    assert isinstance(app, LLMStreamApp)
    await app.settle()
    await pilot.pause()


async def finished(pane) -> None:
    """Wait for a pane's worker to end, however it ends, and draw the last frame."""
    with suppress(Exception):
        await pane.worker.wait()
    await pane.app._frame()


def rows(app: LLMStreamApp, index: int) -> list[str]:
    return app.panes[index].body.plain_rows


async def test_start_opens_on_the_two_simulated_providers_with_the_prompt_focused() -> None:
    app = make_app(make_settings())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert [p.session.name for p in app.panes] == ["swift", "steady"]
        assert isinstance(app.focused, PromptArea)
        assert all(p.session.state == "idle" for p in app.panes)
        assert "swift, steady" in str(app.query_one("#targets").render())


async def test_send_streams_every_pane_with_visible_chunk_boundaries() -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        assert rows(app, 0)[0] == "› hi"
        assert rows(app, 0)[1] == "|Spark|ling| water|,| oh| so clear|"
        assert rows(app, 1)[1] == "|Bub|bles|!|"
        assert [p.session.state for p in app.panes] == ["done", "done"]
        assert app.panes[0].session.timeline is not None
        assert app.panes[0].session.timeline.snapshot().chunks == len(SONG)
        assert "chunks 6" in app.panes[0].metrics.plain


async def test_delimiter_can_be_switched_off_and_tints_still_mark_chunks() -> None:
    settings = two_scripted()
    settings.delimiter = ""
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        assert rows(app, 0)[1] == "Sparkling water, oh so clear"
        kinds = [kind for _, kind in app.panes[0].body.chunk_text.row_runs(1)]
        assert kinds == [0, 1, 0, 1, 0, 1]  # alternating tints A/B, one run per chunk


async def test_prompt_given_at_start_streams_at_once() -> None:
    app = make_app(two_scripted(), providers=["beta"], prompt="go")
    async with app.run_test(size=(100, 30)) as pilot:
        await app.settle()
        await pilot.pause()
        assert [p.session.name for p in app.panes] == ["beta"]
        assert rows(app, 0)[:2] == ["› go", "|Bub|bles|!|"]
        # as if typed and sent: the box is empty, and up brings the prompt back
        assert app.prompt_area.text == ""
        await pilot.press("up")
        assert app.prompt_area.text == "go"


async def test_ctrl_j_inserts_a_newline_and_enter_sends_both_lines() -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("a", "ctrl+j", "b")
        assert app.prompt_area.text == "a\nb"
        await pilot.press("enter")
        await app.settle()
        assert app.panes[0].session.conversation[0].content == "a\nb"
        assert app.prompt_area.text == ""


async def test_escape_cancels_keeps_the_text_and_closes_the_stream() -> None:
    settings = make_settings(
        providers={"held": timed(["one", " two"], hold=True), "fast": scripted(["x"])},
        default_providers=["held", "fast"],
    )
    timed_module.CLOSED.clear()
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("h", "i", "enter")
        await finished(app.panes[1])
        held = app.panes[0]
        assert held.session.state == "streaming"
        await pilot.press("escape")
        await app.settle()
        await pilot.pause()
        assert str(held.session.state) == "cancelled"  # str(): mypy narrows across awaits
        assert rows(app, 0)[1] == "|one| two|"
        assert "(cancelled)" in rows(app, 0)
        assert timed_module.CLOSED == ["held"]
        # the partial answer stays in the conversation
        assert held.session.conversation[-1].content == "one two"
        assert app.panes[1].session.state == "done"


async def test_cancel_one_pane_leaves_the_other_streaming() -> None:
    settings = make_settings(
        providers={"a": timed(["a"], hold=True), "b": timed(["b"], hold=True)},
        default_providers=["a", "b"],
    )
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("x", "enter")
        await pilot.pause()
        await pilot.press("ctrl+f")  # select pane b
        await pilot.press("ctrl+g")
        await finished(app.panes[1])
        assert app.panes[1].session.state == "cancelled"
        assert app.panes[0].session.state == "streaming"
        await pilot.press("escape")
        await app.settle()


async def test_retry_replaces_the_last_exchange_of_the_selected_pane_only() -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        beta_runs = app.panes[1].session.runs
        await pilot.press("ctrl+r")
        await app.settle()
        await pilot.pause()
        alpha = app.panes[0].session
        assert alpha.runs == 2
        assert app.panes[1].session.runs == beta_runs
        assert [m.content for m in alpha.conversation] == ["hi", "Sparkling water, oh so clear"]
        assert rows(app, 0)[:2] == ["› hi", "|Spark|ling| water|,| oh| so clear|"]
        assert rows(app, 0).count("› hi") == 1


async def test_follow_up_goes_to_every_pane_with_its_own_conversation() -> None:
    app = make_app(two_scripted(events_open="yes"))
    async with app.run_test(size=(140, 40)) as pilot:
        await type_and_send(pilot, "one")
        await type_and_send(pilot, "two")
        for pane, answer in zip(
            app.panes, ["Sparkling water, oh so clear", "Bubbles!"], strict=True
        ):
            conversation = pane.session.conversation
            assert [type(m) for m in conversation] == [HumanMessage, AIMessage] * 2
            assert [m.content for m in conversation] == ["one", answer, "two", answer]
        # the second run's input carried the conversation: 3 messages
        starts = [e for e in app.events_log.entries if e[2] == "on_chat_model_start"]
        assert [len(e[4]["data"]["input"]) for e in starts] == [1, 1, 3, 3]


async def test_new_conversation_forgets_the_conversations_and_clears_the_panes() -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "one")
        assert app.panes[0].spark.data  # the run drew its gaps
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert all(p.session.conversation == [] for p in app.panes)
        assert rows(app, 0) == [""]
        for pane in app.panes:  # every per-run display is reset, the sparkline too
            assert not pane.spark.data, pane.spark.data
            assert pane.metrics.plain == "" and not pane.error_label.display
            assert not pane.tools.cards and not pane.reasoning.has_reasoning
        await type_and_send(pilot, "two")
        starts = [len(p.session.conversation) for p in app.panes]
        assert starts == [2, 2]


async def test_error_pane_shows_one_line_keeps_partial_text_and_others_go_on() -> None:
    settings = make_settings(
        providers={
            "broken": timed(["Spark", "ling", " water", " never"], fail_at=3, fail_auth=True),
            "fine": scripted(SONG),
        },
        default_providers=["broken", "fine"],
    )
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        broken, fine = app.panes
        assert broken.session.state == "error"
        assert broken.session.error == "auth: 401 Unauthorized (set OPENAI_API_KEY)"
        assert broken.error_label.display
        assert rows(app, 0)[1] == "|Spark|ling| water|"
        assert fine.session.state == "done"
        assert "Traceback" not in "".join(rows(app, 0))


async def test_unknown_provider_becomes_an_error_pane_not_a_crash() -> None:
    app = make_app(two_scripted(), providers=["alpha", "nosuchkind:model"])
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        alpha, bad = app.panes
        assert alpha.session.state == "done"
        assert bad.session.state == "error"
        assert bad.session.error is not None and "nosuchkind" in bad.session.error
        assert "\n" not in bad.session.error


async def test_add_and_remove_panes_from_the_providers_key() -> None:
    app = make_app(two_scripted(), providers=["alpha"])
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press(*"Add pane: beta")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [p.session.name for p in app.panes] == ["alpha", "beta"]
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press(*"Remove pane: alpha")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [p.session.name for p in app.panes] == ["beta"]
        assert "beta" in str(app.query_one("#targets").render())


async def test_a_typed_kind_model_works_in_the_providers_key_as_in_the_palette() -> None:
    for key in ("ctrl+o", "ctrl+p"):
        app = make_app(two_scripted(), providers=["alpha"])
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press(key)
            await pilot.pause()
            await pilot.press(*"simulated:steady")
            await pilot.pause(0.3)  # the palette searches after a short debounce
            await pilot.press("enter")
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert [p.session.describe for p in app.panes][1:] == ["simulated:steady"], key


async def test_ad_hoc_kind_model_reference_adds_a_pane() -> None:
    app = make_app(two_scripted(), providers=["alpha"])
    async with app.run_test(size=(120, 30)) as pilot:
        pane = await app.add_pane("simulated:steady")
        assert pane is not None
        assert pane.session.describe == "simulated:steady"
        assert await app.add_pane("nosuchkind:x") is None
        assert len(app.panes) == 2
        await pilot.pause()


def test_grid_columns_side_by_side_up_to_three_then_a_grid() -> None:
    assert [grid_columns(n, 120) for n in (1, 2, 3, 4, 5, 6)] == [1, 2, 3, 2, 3, 3]


async def test_four_panes_fit_a_grid_at_80x24() -> None:
    providers = {f"p{i}": scripted(["x"]) for i in range(4)}
    app = make_app(make_settings(providers=providers, default_providers=list(providers)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        regions = [p.region for p in app.panes]
        assert len({r.x for r in regions}) == 2 and len({r.y for r in regions}) == 2
        assert all(r.height >= 5 and r.width >= 30 for r in regions)


async def test_keymap_override_remaps_send() -> None:
    settings = two_scripted()
    settings.keymap = {"send": "ctrl+s", "newline": "enter"}
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("a", "enter", "b")
        assert app.prompt_area.text == "a\nb"
        assert app.panes[0].session.runs == 0
        await pilot.press("ctrl+s")
        await app.settle()
        assert app.panes[0].session.conversation[0].content == "a\nb"


async def test_unknown_keymap_id_is_reported() -> None:
    settings = two_scripted()
    settings.keymap = {"no_such_binding": "f12"}
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        messages = list(notification_messages(app))
        assert any("no_such_binding" in m for m in messages)


async def test_theme_switch_is_remembered_across_runs(data_dir: Path) -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.theme == "llmstream-dark"
        app.theme = "llmstream-light"
        await pilot.pause()
        assert app.current_theme.dark is False
    assert json.loads((data_dir / "choices.json").read_text())["theme"] == "llmstream-light"
    again = make_app(two_scripted())
    async with again.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert again.theme == "llmstream-light"
        # the app's own variables come from the theme file
        assert again.get_css_variables()["delimiter"] == "#c05a00"


async def test_pane_state_is_coloured_by_the_current_theme() -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.panes[0]

        def subtitle_colour() -> str | None:
            subtitle = Text.from_markup(str(pane.border_subtitle))  # Textual keeps markup
            assert subtitle.plain.endswith("idle")
            color = subtitle.get_style_at_offset(app.console, 0).color
            return color.triplet.hex if color is not None and color.triplet else None

        assert subtitle_colour() == app.get_css_variables()["state-idle"]
        app.theme = "llmstream-light"
        await pilot.pause()
        assert subtitle_colour() == app.get_css_variables()["state-idle"] == "#6a6f78"


async def test_theme_picked_from_the_palette() -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        app.search_themes()
        await pilot.pause()
        await pilot.press(*"llmstream-dusk")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "llmstream-dusk"


async def test_bad_user_theme_file_notifies_and_falls_back(data_dir: Path) -> None:
    themes = data_dir / "themes"
    themes.mkdir(parents=True)
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "not-a-colour"\n')
    settings = two_scripted()
    settings.theme = "broken"
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.theme == "llmstream-dark"
        messages = " ".join(notification_messages(app))
        assert "broken.toml" in messages and "primary" in messages


async def test_user_theme_is_loaded(data_dir: Path) -> None:
    themes = data_dir / "themes"
    themes.mkdir(parents=True)
    (themes / "mine.toml").write_text(
        'name = "mine"\nprimary = "#ff0000"\n[variables]\ndelimiter = "#00ff00"\n'
    )
    settings = two_scripted()
    settings.theme = "mine"
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.theme == "mine"
        assert app.get_css_variables()["delimiter"] == "#00ff00"
        # a variable the file does not set falls back to the app's default
        assert "chunk-tint-a" in app.get_css_variables()


HOSTILE = [
    "\x1b[31mred\x1b[0m",
    " [bold]not bold[/bold]",
    " [link=https://evil.example]x[/link]",
    " $accent",
    " \x1b]52;c;ZXZpbA==\x07",
    " \u202eevil",
    " \x9b2J",
]


async def test_hostile_text_is_shown_inert_in_panes_and_events() -> None:
    settings = make_settings(
        providers={
            "evil": scripted(HOSTILE, fail_at=len(HOSTILE), fail_with="\x1b[2Jboom [red]x[/red]")
        },
        default_providers=["evil"],
        ui={"events_open": "yes"},
    )
    app = make_app(settings)
    async with app.run_test(size=(160, 40)) as pilot:
        await type_and_send(pilot, "hi")
        pane = app.panes[0]
        body = pane.body
        drawn: list[str] = []
        for y in range(body.size.height):
            strip = body.render_line(y)
            drawn.extend(seg.text for seg in strip)
        log = app.events_log
        for y in range(log.size.height):
            drawn.extend(seg.text for seg in log.render_line(y))
        text = "".join(drawn)
        for bad in ("\x1b", "\x07", "\x9b", "\u202e"):
            assert bad not in text
        assert "[bold]not bold[/bold]" in text
        assert "[link=https://evil.example]x[/link]" in text
        assert "$accent" in text
        assert "\\x1b[31mred" in text and "\\u202eevil" in text
        assert pane.session.error == "scripted: \\x1b[2Jboom [red]x[/red]"
        screen = app.export_screenshot()
        assert "\x1b" not in screen and "[red]x[/red]" in screen.replace("&#160;", " ")


async def test_recalled_prompts_survive_a_restart() -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "first")
        await type_and_send(pilot, "second")
    again = make_app(two_scripted())
    async with again.run_test(size=(100, 30)) as pilot:
        await pilot.press("up")
        assert again.prompt_area.text == "second"
        await pilot.press("up")
        assert again.prompt_area.text == "first"
        await pilot.press("down")
        assert again.prompt_area.text == "second"
        await pilot.press("down")
        assert again.prompt_area.text == ""


async def test_compare_summary_ranks_providers_when_all_finish() -> None:
    settings = make_settings(
        providers={
            "quick": timed(["a", "b", "c"], ttft_ms=50, gaps_ms=[5]),
            "slow": timed(["a", "b", "c"], ttft_ms=400, gaps_ms=[50]),
        },
        default_providers=["slow", "quick"],
    )
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "go")
        summary = app.query_one("#summary")
        assert summary.display
        ranks = {e.name: e for e in summary.entries}  # type: ignore[attr-defined]
        assert set(ranks) == {"quick", "slow"}
        from llmstream_tui.ui.widgets.compare import ranks as rank_of

        entries = summary.entries  # type: ignore[attr-defined]
        by_name = dict(zip([e.name for e in entries], rank_of(entries), strict=True))
        assert by_name["quick"] == {"TTFT": 1, "chunks/s": 1, "total": 1}
        assert by_name["slow"] == {"TTFT": 2, "chunks/s": 2, "total": 2}


async def test_markdown_view_toggles_for_the_selected_pane() -> None:
    settings = make_settings(
        providers={
            "md": scripted(["# Title", "\n\n", "Some ", "**bold**", " text"]),
            "plain": scripted(["x"]),
        },
        default_providers=["md", "plain"],
    )
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        await pilot.press("ctrl+t")
        await pilot.pause()
        await pilot.pause()
        pane = app.panes[0]
        md = pane.query_one(Markdown)
        assert md.display and not pane.body.display
        assert "Some **bold** text" in md.source
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert pane.body.display and not md.display
        assert not app.panes[1].query(Markdown)


async def test_events_log_filter_and_fold() -> None:
    app = make_app(two_scripted(events_open="yes"))
    async with app.run_test(size=(160, 40)) as pilot:
        await type_and_send(pilot, "hi")
        log = app.events_log
        # start, one stream event per chunk plus the closing empty chunk, end
        assert len(log.entries) == (len(SONG) + 3) + (3 + 3)
        from llmstream_tui.ui.widgets.events_log import LogFilter

        log.set_filter(LogFilter(providers=frozenset({"beta"})))
        assert all(" beta " in line for line in log.shown_lines)
        assert len(log.shown_lines) == 6
        log.set_filter(LogFilter(phases=frozenset({"start", "end"})))
        assert len(log.shown_lines) == 4
        await pilot.press("f9")  # fold stream events
        assert log.filter.fold
        assert len(log.shown_lines) == 4
        log.set_filter(LogFilter(fold=True))
        folded = [line for line in log.shown_lines if "×" in line]
        # one folded line per provider (their events interleave by arrival time)
        assert len(folded) == 2
        assert {(" alpha " in f, "×7" in f) for f in folded} == {(True, True), (False, False)}


async def test_events_log_filter_screen_applies_a_provider_filter() -> None:
    app = make_app(two_scripted(events_open="yes"))
    async with app.run_test(size=(160, 40)) as pilot:
        await type_and_send(pilot, "hi")
        await pilot.press("f8")
        await pilot.pause()
        from textual.widgets import SelectionList

        screen = app.screen
        providers = screen.query_one("#providers", SelectionList)
        providers.deselect("alpha")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.events_log.filter.providers == frozenset({"beta"})


async def test_events_log_opens_by_default_only_on_wide_terminals() -> None:
    for width, shown in ((120, True), (100, False)):
        app = make_app(two_scripted(events_open="auto"))
        async with app.run_test(size=(width, 30)) as pilot:
            await pilot.pause()
            assert app.events_log.display is shown
            await pilot.press("ctrl+l")
            assert app.events_log.display is not shown


async def test_events_v1_is_selectable() -> None:
    app = make_app(two_scripted(events_version="v1", events_open="yes"))
    async with app.run_test(size=(160, 40)) as pilot:
        await type_and_send(pilot, "hi")
        ends = [e for e in app.events_log.entries if e[2] == "on_chat_model_end"]
        # v1 has no ls_* metadata
        assert ends and all("ls_provider" not in e[4]["metadata"] for e in ends)


async def test_help_screen_lists_every_binding_with_remapped_keys() -> None:
    settings = two_scripted()
    settings.keymap = {"retry": "f6"}
    app = make_app(settings)
    async with app.run_test(size=(120, 90)) as pilot:  # tall enough for the whole list
        await pilot.press("f1")
        await pilot.pause()
        from llmstream_tui.ui.keys import KEYS
        from llmstream_tui.ui.screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        shown = app.export_screenshot()
        for spec in KEYS:
            assert spec.id in shown
        assert "f6" in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_a_bug_in_a_backend_is_one_line_not_a_traceback() -> None:
    settings = make_settings(
        providers={"buggy": timed(["a", "b"], crash=True), "fine": scripted(["x"])},
        default_providers=["buggy", "fine"],
    )
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        buggy, fine = app.panes
        assert buggy.session.state == "error"
        assert buggy.session.error == "RuntimeError: boom second line"
        assert rows(app, 0)[1] == "|a|b|"
        assert fine.session.state == "done"


async def test_whitespace_mode_shows_blank_chunks_and_newlines() -> None:
    settings = make_settings(
        providers={"ws": scripted(["a", " ", "b\nc", "\n", "\t"])},
        default_providers=["ws"],
        ui={"show_whitespace": True},
    )
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        assert rows(app, 0)[1:4] == ["|a|␣|b↵", "c|↵", "|⇥|"]
        await pilot.press("f4")  # plain whitespace: what is shown is redrawn at once
        await pilot.pause()
        assert rows(app, 0)[1:4] == ["|a| |b", "c|", "|    |"]
        await type_and_send(pilot, "again")
        assert "|a| |b" in rows(app, 0)
        await pilot.press("ctrl+r")  # a retry still replaces just the last answer
        await pilot.pause()
        await app.settle()
        assert sum(row.startswith("› again") for row in rows(app, 0)) == 1
        await pilot.press("f4")
        await pilot.pause()
        shown = rows(app, 0)
        assert shown[1:4] == ["|a|␣|b↵", "c|↵", "|⇥|"]
        assert sum(row == "|a|␣|b↵" for row in shown) == 2


async def test_events_log_memory_is_bounded() -> None:
    settings = make_settings(
        providers={"many": scripted(["x"], repeat=700)},
        default_providers=["many"],
        ui={"events_max_lines": 100, "events_open": "yes"},
    )
    app = make_app(settings)
    async with app.run_test(size=(160, 30)) as pilot:
        await type_and_send(pilot, "hi")
        log = app.events_log
        assert len(log.entries) == 100
        assert log.entries[-1][2] == "on_chat_model_end"
        assert len(log.shown_lines) == 100


async def test_views_follow_the_bottom_until_the_user_scrolls_up() -> None:
    settings = make_settings(
        providers={"long": scripted(["line\n"], repeat=200)},
        default_providers=["long"],
    )
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "one")
        body = app.panes[0].body
        assert body.max_scroll_y > 0 and body.scroll_y == body.max_scroll_y
        body.focus()
        await pilot.press("pageup")
        await pilot.pause()
        held = body.scroll_y
        assert held < body.max_scroll_y
        app.prompt_area.focus()
        await type_and_send(pilot, "two")
        assert body.scroll_y == held  # the user's place is kept while text arrives
        body.focus()
        await pilot.press("end")
        await pilot.pause()
        await type_and_send(pilot, "three")
        assert body.scroll_y == body.max_scroll_y


async def test_markdown_view_streams_while_the_answer_arrives() -> None:
    settings = make_settings(
        providers={
            "slow": scripted(["# Head", "\n\n", "one", " two", " three"], delay_ms=30),
            "other": scripted(["x"]),
        },
        default_providers=["slow", "other"],
    )
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("h", "i", "enter")
        await pilot.pause()
        await pilot.press("ctrl+t")  # switch while streaming
        await app.settle()
        await pilot.pause()
        md = app.panes[0].query_one(Markdown)
        assert md.source.endswith("# Head\n\none two three")


async def test_models_listed_by_the_server_become_panes() -> None:
    settings = make_settings(
        providers={"lister": timed(["x"], models=["m-small", "m-large"])},
        default_providers=["lister"],
    )
    app = make_app(settings)
    async with app.run_test(size=(120, 30)) as pilot:
        names = [name for name, _, _ in provider_commands(app)]
        assert "Models of lister…" in names
        pick_model(app, "lister")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press(*"m-large")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        added = app.panes[-1].session
        assert added.name == "lister:m-large"
        assert added.describe == "timed:m-large"


async def test_fold_from_the_config_can_be_toggled_off() -> None:
    app = make_app(two_scripted(fold_stream_events=True, events_open="yes"))
    async with app.run_test(size=(160, 40)) as pilot:
        await type_and_send(pilot, "hi")
        log = app.events_log
        assert log.filter.fold and len(log.shown_lines) == 6  # start, ×N, end per pane
        await pilot.press("f9")
        assert not log.filter.fold and len(log.shown_lines) == len(log.entries)


async def test_the_clock_given_to_make_app_times_every_run() -> None:
    app = make_app(two_scripted(), clock=lambda: 5_000_000_000)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        snap = app.panes[0].session.timeline.snapshot()  # type: ignore[union-attr]
        assert snap.ttft_s == 0.0 and snap.total_s == 0.0
        assert "TTFT 0µs" in app.panes[0].metrics.plain


async def test_palette_shows_provider_and_model_names_literally() -> None:
    settings = make_settings(
        providers={"odd[b]name": timed(["x"], models=["[red]m[/red]"])},
        default_providers=["odd[b]name"],
    )
    app = make_app(settings)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("ctrl+o")
        await pilot.pause()
        shown = app.export_screenshot().replace("&#160;", " ")
        assert "Remove pane: odd[b]name" in shown
        await pilot.press("escape")
        pick_model(app, "odd[b]name")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "[red]m[/red]" in app.export_screenshot()
        await pilot.press("escape")


async def test_config_can_open_panes_in_markdown_and_without_tints() -> None:
    app = make_app(two_scripted(markdown=True, tints=False))
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        await pilot.pause()
        pane = app.panes[0]
        assert pane.markdown_on and pane.query_one(Markdown).display
        assert "Sparkling water, oh so clear" in pane.query_one(Markdown).source
        styles = pane.body._kind_styles()
        assert styles[0] == styles[1]  # tints A and B look the same


async def test_ctrl_q_quits_even_while_streaming() -> None:
    settings = make_settings(
        providers={"held": timed(["a"], hold=True)}, default_providers=["held"]
    )
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("x", "enter")
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_keys_arriving_in_one_burst_are_handled_in_order() -> None:
    """ "hi", ctrl+j, "yo", enter in one read (a paste without bracketed paste, a fast
    script): enter and ctrl+j are priority bindings, yet they must act after the keys
    queued before them, not on the text as it was when they arrived."""
    from textual import events

    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        for key, char in [
            ("h", "h"),
            ("i", "i"),
            ("ctrl+j", None),
            ("y", "y"),
            ("o", "o"),
            ("enter", "\r"),
        ]:
            app.post_message(events.Key(key, char))
        await pilot.pause()
        await app.settle()
        assert app.panes[0].session.conversation[0].content == "hi\nyo"
        assert app.prompt_area.text == ""


async def test_system_commands_run_the_apps_actions() -> None:
    app = make_app(two_scripted(events_open="yes"))
    async with app.run_test(size=(120, 30)):
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert "Events schema v2" not in commands  # only the schema not in use is offered
        await commands["Events schema v1"].callback()
        assert app.events_version == "v1"
        assert str(app.events_log.border_title).startswith("events v1")
        shown = app.events_log.display
        await commands["Events log"].callback()
        assert app.events_log.display is not shown


async def test_a_run_that_ends_before_the_first_layout_still_draws_its_whole_sparkline() -> None:
    """The sparkline holds one gap per cell of the pane's width: a run that finished
    before the pane was laid out (a fast provider sent at start) must not keep the one gap
    a zero width held; a resize redraws it too."""
    from tests.ui.conftest import timed

    settings = make_settings(
        providers={"t": timed(["a", "b", "c", "d", "e", "f"], gaps_ms=[10.0, 30.0])},
        default_providers=["t"],
    )
    app = make_app(settings, prompt="go")
    async with app.run_test(size=(100, 30)) as pilot:
        await app.settle()
        await pilot.pause()
        pane = app.panes[0]
        assert pane.spark.data == [10.0, 30.0, 10.0, 30.0, 10.0]
        pane._show_gaps([])  # as a run drawn at zero width left it
        await pilot.resize_terminal(90, 30)
        await pilot.pause()
        assert pane.spark.data == [10.0, 30.0, 10.0, 30.0, 10.0]


async def test_a_pane_whose_run_ends_after_it_was_removed_does_not_crash_the_frame() -> None:
    """A run cancelled as its pane is torn down (the app exiting, render --at, a pane
    removed mid-stream) is painted once more by the frame: without component styles."""
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        pane = app.panes[0]
        await app.remove_pane(pane)
        pane.session.state = "cancelled"
        pane._show_state()
        assert str(pane.border_subtitle).endswith("cancelled")


async def test_a_run_ending_after_the_screen_is_torn_down_is_no_traceback() -> None:
    """The app closing while its runs end (quit as the last chunk arrives, a script's
    run_test ending): a pane's Finished handled after the summary has gone does nothing."""
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        await app.query_one("#summary").remove()
        app.post_message(StreamPane.Finished(app.panes[0]))
        await pilot.pause()
        assert app.return_code is None  # still running: no exception ended it
