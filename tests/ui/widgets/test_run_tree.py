"""The events log's tree view: real LangChain/LangGraph events through the app's entry path.

The entries are pushed where a pane's worker puts them (``PaneSession.events``) and the app's
frame hands them to the log, as during a run; no widget is fed by hand.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from rich.color import Color
from rich.segment import Segment
from textual.pilot import Pilot

from llmstream_tui.core.events import EventFilter
from llmstream_tui.core.run_tree import RunNode
from llmstream_tui.ui.app import LLMStreamApp, make_app
from llmstream_tui.ui.widgets.events_log import EventsLog, LogFilter
from llmstream_tui.ui.widgets.run_tree import RunTreeView
from tests.support import run_graphs
from tests.ui.conftest import make_settings, scripted


def one_pane(name: str = "app") -> LLMStreamApp:
    return make_app(
        make_settings(
            providers={name: scripted(["Hel", "lo"])},
            default_providers=[name],
            ui={"events_open": "yes"},
        )
    )


async def arrive(app: LLMStreamApp, entries: list[run_graphs.Entry]) -> None:
    """``entries`` reach the log as a pane's run would deliver them: in the pane's event
    list, taken by the next frame."""
    app.panes[0].session.events.extend(entries)
    await app.settle()


async def open_tree(app: LLMStreamApp, pilot: Pilot[int], *keys: str) -> EventsLog:
    """The events log, focused, switched to the tree by its key, then ``keys`` pressed."""
    log = app.events_log
    log.focus()
    await pilot.press("t", *keys)
    await pilot.pause()
    return log


def backgrounds(segments: Iterable[Segment]) -> set[Color | None]:
    """The background colours a drawn line uses."""
    return {seg.style.bgcolor if seg.style is not None else None for seg in segments}


def state_of(node: RunNode) -> str:
    """The node's state, read again (not narrowed by an earlier assert)."""
    return node.state


def drawn(app: LLMStreamApp) -> str:
    log = app.events_log
    return "\n".join(
        "".join(seg.text for seg in log.render_line(y)) for y in range(log.size.height)
    )


async def test_the_t_key_shows_a_langgraph_run_as_a_tree_and_back() -> None:
    app = one_pane()
    async with app.run_test(size=(160, 40)) as pilot:
        await arrive(
            app,
            await run_graphs.collect(run_graphs.graph(), {"q": "x", "steps": []}, provider="app"),
        )
        log = await open_tree(app, pilot)
        assert log.tree_mode and str(log.border_title).startswith("events v2 · tree")
        rows = log.shown_tree
        assert [r.strip().split("  ")[0] for r in rows][:2] == [
            "▾ ✓ qa_graph chain",
            "▾ ✓ plan chain",
        ]
        assert rows[4].startswith("      ✓ GenericFakeChatModel chat_model")
        assert "×5" in rows[4]
        assert "qa_graph" in drawn(app)
        assert "on_chain_start" not in drawn(app)
        await pilot.press("t")
        await pilot.pause()
        assert not log.tree_mode and "on_chain_start" in drawn(app)
        assert str(log.border_title) == "events v2"


async def test_selecting_a_run_shows_its_fields_in_the_panel_and_enter_folds_it() -> None:
    app = one_pane()
    async with app.run_test(size=(160, 40)) as pilot:
        await arrive(app, await run_graphs.collect(run_graphs.graph(), {"q": "x", "steps": []}))
        log = app.events_log
        log.focus()
        await pilot.press("t", "up", "up")  # from nothing: the last row, then the one above
        await pilot.pause()
        selected = log.runs.selected
        assert selected is not None and selected.name == "answer"
        screen = drawn(app)
        for shown in ("inputs", "outputs", "metadata", "graph:step:2", "langgraph_node: 'answer'"):
            assert shown in screen
        before = len(log.runs.rows)
        await pilot.press("enter")
        assert len(log.runs.rows) == before - 1 and "▸ ✓ answer" in log.shown_tree[-1]
        await pilot.press("enter")
        assert len(log.runs.rows) == before


async def test_a_click_selects_a_run_and_a_second_click_folds_it() -> None:
    app = one_pane()
    async with app.run_test(size=(160, 40)) as pilot:
        await arrive(app, await run_graphs.collect(run_graphs.sequence(), {"q": "hi"}))
        log = await open_tree(app, pilot)
        await pilot.click(log, offset=(4, 1))
        assert log.runs.selected is not None and log.runs.selected.name == "RunnableSequence"
        await pilot.click(log, offset=(4, 1))
        assert log.runs.rows == [("app", log.runs.selected, 0)]


async def test_running_nodes_update_live_as_their_events_arrive() -> None:
    app = one_pane()
    entries = await run_graphs.collect(run_graphs.sequence(), {"q": "hi"})
    model_first = next(i for i, e in enumerate(entries) if e[2] == "on_chat_model_stream")
    async with app.run_test(size=(160, 40)) as pilot:
        log = await open_tree(app, pilot)
        await arrive(app, entries[: model_first + 1])
        model = next(n for _, n, _ in log.runs.rows if n.run_type == "chat_model")
        assert model.state == "running" and "▸ GenericFakeChatModel" in drawn(app)
        await arrive(app, entries[model_first + 1 :])
        assert state_of(model) == "done" and "✓ GenericFakeChatModel" in drawn(app)
        assert f"×{model.streams}" in drawn(app)


async def test_an_error_and_model_text_show_inert() -> None:
    app = one_pane()
    async with app.run_test(size=(160, 40)) as pilot:
        await arrive(app, await run_graphs.collect(run_graphs.failing(), {"q": "[bold]x[/bold]"}))
        await open_tree(app, pilot, "up")
        screen = drawn(app)
        assert "✗ boom" in screen and "✗! RunnableSequence" in screen
        assert "\\x1b[2J" in screen and "\x1b" not in screen
        await pilot.press("up", "up")
        assert "[bold]x[/bold]" in drawn(app)


async def test_the_runs_filter_applies_to_the_flat_log_and_the_tree() -> None:
    app = one_pane()
    async with app.run_test(size=(160, 40)) as pilot:
        await arrive(app, await run_graphs.collect(run_graphs.graph(), {"q": "x", "steps": []}))
        log = app.events_log
        only_models = EventFilter(include_types=("chat_model",))
        log.set_filter(LogFilter(runs=only_models))
        assert log.shown_lines and all(
            "GenericFakeChatModel" in line or "chat_model" in line or '"' in line
            for line in log.shown_lines
        )
        assert {e[3] for e in log.view} == {
            n.run_id for n in log.runs.trees["app"].walk() if n.run_type == "chat_model"
        }
        log.focus()
        await pilot.press("t")
        assert [r.split()[1:3] for r in log.shown_tree] == [["GenericFakeChatModel", "chat_model"]]
        assert "+type:chat_model" in str(log.border_title)


async def test_our_own_backend_shows_as_a_one_node_tree() -> None:
    app = one_pane("solo")
    async with app.run_test(size=(160, 40)) as pilot:
        app.prompt_area.load_text("hi")
        await pilot.press("enter")
        await app.settle()
        log = await open_tree(app, pilot)
        assert len(log.shown_tree) == 1 and "✓ solo chat_model" in log.shown_tree[0]
        assert "×" in log.shown_tree[0]


async def test_a_narrow_log_puts_the_panel_under_the_tree() -> None:
    app = one_pane()
    async with app.run_test(size=(100, 40)) as pilot:
        await arrive(app, await run_graphs.collect(run_graphs.sequence(), {"q": "hi"}))
        log = await open_tree(app, pilot, "up")
        assert log._panel_width() == 0 and log._panel_lines() > 0
        lines = drawn(app).splitlines()
        assert any(line.startswith("─") for line in lines)
        assert any(line.startswith("outputs") for line in lines)


def test_rows_are_laid_out_again_only_when_a_shape_changes() -> None:
    view = RunTreeView()
    view.feed([("p", 0, "on_chain_start", "r", {"name": "app", "parent_ids": []})])
    assert view.layout() and not view.layout()
    view.feed([("p", 1, "on_chain_stream", "r", "x")] * 100)
    assert not view.layout() and view.rows[0][1].streams == 100
    view.feed([("p", 2, "on_chain_end", "r", {})])
    assert view.layout()


@pytest.mark.parametrize("width", [20, 40, 80])
def test_a_row_always_fits_its_width(width: int) -> None:
    view = RunTreeView()
    view.feed([("p", 0, "on_chain_start", "r", {"name": "n" * 200, "parent_ids": []})])
    view.layout()
    pieces = view.row_pieces(view.rows[0], width, many=False)
    assert sum(len(t) for t, _ in pieces) == width


async def test_the_selected_line_is_highlighted_in_both_views() -> None:
    """The cursor's background shows over each line's own (it used to be applied under it,
    so a selected event looked like any other)."""
    app = one_pane()
    async with app.run_test(size=(160, 40)) as pilot:
        await arrive(app, await run_graphs.collect(run_graphs.sequence(), {"q": "hi"}))
        log = app.events_log
        log.focus()
        await pilot.press("up")
        last = len(log.view) - 1 - int(log.scroll_offset.y)
        cursor = log._style("cursor").bgcolor
        assert backgrounds(log.render_line(last)) == {cursor}
        assert cursor not in backgrounds(log.render_line(last - 1))
        await pilot.press("t", "up")
        row = log.runs.cursor
        assert row is not None
        tree_width = log.scrollable_content_region.width
        selected = list(log.render_line(row - int(log.scroll_offset.y)).crop(0, tree_width))
        assert backgrounds(selected) == {cursor}


@pytest.mark.filterwarnings("ignore:astream_events version='v1':DeprecationWarning")
async def test_v1_events_show_flat_under_the_root_and_the_panel_says_why() -> None:
    app = one_pane()
    entries = await run_graphs.collect(run_graphs.graph(), {"q": "x", "steps": []}, version="v1")
    async with app.run_test(size=(160, 40)) as pilot:
        await arrive(app, entries)
        log = await open_tree(app, pilot, "up")
        assert [d for _, _, d in log.runs.rows] == [0, 1, 1, 1, 1]
        assert "(parent not known: v1)" in drawn(app)
