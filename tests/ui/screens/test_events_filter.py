"""The events filter dialog: include/exclude names, types and tags, as astream_events has them."""

from __future__ import annotations

from llmstream_tui.core.events import EventFilter
from llmstream_tui.ui.screens.events_filter import EventsFilterScreen, comma_list, runs_filter
from llmstream_tui.ui.widgets.events_log import LogFilter
from tests.support import run_graphs
from tests.ui.widgets.test_run_tree import arrive, one_pane


def test_fields_are_comma_lists_and_empty_fields_filter_nothing() -> None:
    assert comma_list(" a, b ,,a ") == ("a", "b")
    assert comma_list("  ") is None
    assert runs_filter({"include_names": "", "exclude_tags": ""}) is None
    assert runs_filter({"include_names": "x", "exclude_tags": "t"}) == EventFilter(
        include_names=("x",), exclude_tags=("t",)
    )


async def test_the_dialog_applies_a_type_include_and_a_name_exclude_to_both_views() -> None:
    app = one_pane()
    async with app.run_test(size=(160, 50)) as pilot:
        await arrive(app, await run_graphs.collect(run_graphs.graph(), {"q": "x", "steps": []}))
        await pilot.press("f8")
        await pilot.pause()
        assert isinstance(app.screen, EventsFilterScreen)
        app.screen.query_one("#include_types").focus()
        await pilot.press(*"chain")
        app.screen.query_one("#exclude_names").focus()
        await pilot.press(*"route")
        await pilot.press("ctrl+s")
        await pilot.pause()
        log = app.events_log
        assert log.filter.runs == EventFilter(include_types=("chain",), exclude_names=("route",))
        assert "+type:chain -name:route" in str(log.border_title)
        names = {e[4]["name"] for e in log.view if isinstance(e[4], dict)}
        assert names == {"qa_graph", "plan", "answer"}
        log.focus()
        await pilot.press("t")
        assert [r.split()[2] for r in log.shown_tree] == ["qa_graph", "plan", "answer"]
        await pilot.press("f8")
        await pilot.pause()
        assert app.screen.query_one("#exclude_names").value == "route"  # type: ignore[attr-defined]


async def test_clearing_the_fields_shows_every_run_again() -> None:
    app = one_pane()
    async with app.run_test(size=(160, 50)) as pilot:
        log = app.events_log
        log.set_filter(LogFilter(runs=EventFilter(include_tags=("qa",))))
        await pilot.press("f8")
        await pilot.pause()
        app.screen.query_one("#include_tags").value = ""  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert log.filter.runs is None and log.filter.is_open
