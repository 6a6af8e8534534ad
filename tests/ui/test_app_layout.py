"""Pilot tests: what the app shows follows the terminal and the user's choices (issue 14):
the events log that opened on a wide terminal follows resizes until it is toggled; a
compare summary the user hid stays hidden; at 80x24 the summary leaves the panes their rows."""

from __future__ import annotations

from typing import Any

from llmstream_tui.ui.app import make_app
from llmstream_tui.ui.widgets.compare import CompareSummary
from tests.ui.conftest import make_settings, scripted
from tests.ui.test_app import two_scripted, type_and_send


async def test_the_auto_events_log_follows_resizes_until_the_user_toggles_it() -> None:
    app = make_app(two_scripted(events_open="auto"))
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        assert app.events_log.display
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not app.events_log.display  # the panes get the width back
        assert all(p.size.width >= 30 for p in app.panes)
        await pilot.resize_terminal(140, 40)
        await pilot.pause()
        assert app.events_log.display
        await pilot.press("ctrl+l")  # the user's choice now holds, whatever the width
        await pilot.resize_terminal(200, 50)
        await pilot.pause()
        assert not app.events_log.display


async def test_a_configured_events_log_ignores_the_width() -> None:
    app = make_app(two_scripted(events_open="yes"))
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.events_log.display


async def test_a_hidden_compare_summary_stays_hidden_after_later_runs() -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        summary = app.query_one("#summary", CompareSummary)
        await type_and_send(pilot, "one")
        assert summary.display
        await pilot.press("ctrl+s")
        assert not summary.display
        await type_and_send(pilot, "two")
        assert not summary.display  # hidden until the user shows it again
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert summary.display
        await type_and_send(pilot, "three")
        assert summary.display


async def test_at_80x24_four_panes_keep_their_text_rows_beside_the_summary() -> None:
    settings = make_settings(
        providers={n: scripted(["a", "b"]) for n in ("p1", "p2", "p3", "p4")},
        default_providers=["p1", "p2", "p3", "p4"],
    )
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_and_send(pilot, "go")
        summary = app.query_one("#summary", CompareSummary)
        assert summary.display
        assert summary.size.height <= 24 // 3
        assert all(p.body.size.height >= 2 for p in app.panes), [p.body.size for p in app.panes]


async def test_a_long_error_is_readable_to_its_end_in_a_narrow_pane(monkeypatch: Any) -> None:
    """The actionable part of an error is at its end (the hint): a pane's error area shows
    the whole line, wrapped, not its first three rows."""
    from tests.support.loopback import LoopbackServer, Reply

    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    body = {
        "error": {
            "message": "Incorrect API key provided: sk-wrong. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
        }
    }
    async with LoopbackServer(Reply.json(body, status=401)) as server:
        settings = make_settings(
            providers={
                "oa": {"kind": "openai-chat", "model": "gpt-4o", "base_url": f"{server.url}/v1"},
                "fine": scripted(["ok"]),
            },
            default_providers=["oa", "fine"],
        )
        app = make_app(settings)
        async with app.run_test(size=(80, 30)) as pilot:
            await type_and_send(pilot, "go")
            pane = app.panes[0]
            error = pane.session.error
            assert error is not None and error.endswith("OPENAI_API_KEY)"), error
            label = pane.error_label
            assert label.content_region.width * 3 < len(error)  # more than three rows
            rows = [line.text for line in label.render_lines(label.region.reset_offset)]
            assert "".join(r.strip() for r in rows).endswith("OPENAI_API_KEY)"), rows


async def test_the_targets_line_fits_the_prompt_box_at_80_columns() -> None:
    names = [f"provider-number-{i}" for i in range(6)]
    settings = make_settings(providers={n: scripted(["x"]) for n in names}, default_providers=names)
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        from textual.widgets import Static

        targets = app.query_one("#targets", Static)
        line = str(targets.render()).rstrip()
        assert line.endswith(" more") and not line.rstrip(" more0123456789+").endswith(",,")
        assert len(line) <= targets.content_region.width


async def test_five_panes_fill_the_grid_without_an_empty_cell() -> None:
    names = [f"p{i}" for i in range(5)]
    settings = make_settings(providers={n: scripted(["x"]) for n in names}, default_providers=names)
    app = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        grid = app.query_one("#panes")
        first, last = app.panes[:3], app.panes[3:]
        assert len({p.region.y for p in first}) == 1 and len({p.region.y for p in last}) == 1
        # the last row's two panes share the whole width the first row's three take
        right = max(p.region.right for p in first)
        assert max(p.region.right for p in last) == right
        assert min(p.region.x for p in last) == min(p.region.x for p in first)
        assert all(p.region.width > first[0].region.width for p in last)
        assert grid.region.right >= right
        await app.remove_pane(app.panes[-1])  # four: a 2x2 grid again, no spans left
        await pilot.pause()
        assert {p.region.width for p in app.panes} == {app.panes[0].region.width}


def test_one_frames_events_of_several_panes_are_merged_in_arrival_order_on_one_clock() -> None:
    """The log's time column is one clock: every line counts from the first run's start
    (pane b's run started 500 ns after a's, so its +100 is shown as 600), so the times of
    lines of different panes read in order."""
    from llmstream_tui.ui.widgets.events_log import on_one_clock

    # pane a's run started at 1000 ns, b's at 1500: b's event at +100 came before a's at +700
    a = [("a", 0, "on_chat_model_start", "ra", {}), ("a", 700, "on_chat_model_stream", "ra", "x")]
    b = [("b", 100, "on_chat_model_start", "rb", {}), ("b", 150, "on_chat_model_stream", "rb", "y")]
    merged = on_one_clock([(1000, a), (1500, b)], 1000)
    assert [(e[0], e[1]) for e in merged] == [("a", 0), ("b", 600), ("b", 650), ("a", 700)]
    assert on_one_clock([(1000, a)], 1000) == a


async def test_the_events_logs_times_read_in_order_across_panes() -> None:
    """Runs sent together start a few milliseconds apart: the log's times still only grow
    from line to line (before, each line counted from its own run's start)."""
    settings = make_settings(
        providers={n: scripted(["a", "b", "c", "d"] * 10) for n in ("p1", "p2", "p3")},
        default_providers=["p1", "p2", "p3"],
        ui={"events_open": "yes"},
    )
    app = make_app(settings)
    async with app.run_test(size=(160, 40)) as pilot:
        for prompt in ("one", "two"):
            app.prompt_area.load_text(prompt)
            await pilot.press("enter")
            await app.settle()
        entries = list(app.events_log.entries)
        providers = {e[0] for e in entries}
        assert len(providers) == 3
        starts = [i for i, e in enumerate(entries) if e[2] == "on_chat_model_start"]
        second = min(i for i in starts if i >= len(entries) // 2)
        for turn in (entries[:second], entries[second:]):
            times = [e[1] for e in turn]
            assert times == sorted(times) and times[0] == 0
