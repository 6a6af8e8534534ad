"""Snapshots of the events log's run tree: a LangGraph graph and a LangChain sequence in two
panes, a run selected, its side panel; dark and light themes, the panel under the tree and
beside it. The events are the libraries' own (``tests/support/run_graphs.py``) with run ids
from a counter and times from a tick, so every picture is the same on every run. Update
with ``--snapshot-update``, render the SVGs to PNG and look at them before committing.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from llmstream_tui.ui.app import LLMStreamApp, make_app
from tests.support import run_graphs
from tests.ui.conftest import make_settings, scripted


@pytest.fixture(autouse=True)
def _counted(counted_run_ids: None) -> None:
    """Run ids of our own backends from a counter (tests/conftest.py)."""


def two_apps(theme: str = "llmstream-dark") -> LLMStreamApp:
    return make_app(
        make_settings(
            providers={"graph": scripted(["x"]), "qa": scripted(["y"])},
            default_providers=["graph", "qa"],
            theme=theme,
            ui={"events_open": "yes"},
        )
    )


async def tree_with_a_selection(pilot: Pilot[int]) -> None:
    """Both panes' runs arrive as a frame delivers them; the tree opens; the sequence's
    chat model is selected (its metadata is free of LangGraph's per-run checkpoint ids)."""
    app = pilot.app
    assert isinstance(app, LLMStreamApp)
    graph = await run_graphs.collect(run_graphs.graph(), {"q": "x", "steps": []}, provider="graph")
    qa = await run_graphs.collect(run_graphs.sequence(), {"q": "[bold]hi[/bold]"}, provider="qa")
    graph_pane, qa_pane = app.panes
    graph_pane.session.events.extend(run_graphs.stable_ids(graph))
    qa_pane.session.events.extend(run_graphs.stable_ids(qa))
    await app.settle()
    log = app.events_log
    log.focus()
    await pilot.press("t")
    rows = log.runs.rows
    log.select_run(
        next(
            i
            for i, (p, n, _) in enumerate(rows)
            if p == "qa" and n.depth == 1 and n.run_type == "chat_model"
        )
    )
    await pilot.pause()


def test_run_tree_dark_panel_under(snap_compare) -> None:
    assert snap_compare(two_apps(), terminal_size=(160, 44), run_before=tree_with_a_selection)


def test_run_tree_light_panel_under(snap_compare) -> None:
    assert snap_compare(
        two_apps("llmstream-light"), terminal_size=(160, 44), run_before=tree_with_a_selection
    )


def test_run_tree_wide_panel_beside(snap_compare) -> None:
    assert snap_compare(two_apps(), terminal_size=(230, 40), run_before=tree_with_a_selection)
