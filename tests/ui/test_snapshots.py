"""Snapshot tests: the whole app, built by ``make_app`` from a sample config, as an SVG.

Deterministic by construction: the ``timed`` kind states when each chunk arrives (a virtual
clock, so every metric is the same on every run), run ids come from a counter, the cursor
does not blink. Update with ``pytest tests/ui/test_snapshots.py --snapshot-update`` and look
at every changed picture before committing it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from llmstream_tui.config import load_settings
from llmstream_tui.ui.app import LLMStreamApp, make_app
from llmstream_tui.ui.widgets.events_log import LogFilter

SAMPLES = Path(__file__).resolve().parents[1] / "sample-configs"
PROMPT = "Write me a 1 verse song about sparkling water."


@pytest.fixture(autouse=True)
def _counted(counted_run_ids: None) -> None:
    """Every snapshot here: run ids from a counter (tests/conftest.py)."""


def app_for(config: str) -> LLMStreamApp:
    return make_app(load_settings(SAMPLES / config))


async def send(pilot: Pilot[int], prompt: str = PROMPT, *, wait: bool = True) -> None:
    """Send ``prompt`` and, with ``wait``, wait until every pane has finished and is drawn;
    without, until every held stream has delivered what it holds."""
    app = pilot.app
    assert isinstance(app, LLMStreamApp)
    app.prompt_area.load_text(prompt)
    await pilot.press("enter")
    if wait:
        await app.settle()
    else:
        await pilot.pause()
        await app._frame()
        for pane in app.panes:
            pane._refresh_metrics()
    await pilot.pause()


def test_start_screen_80x24(snap_compare) -> None:
    from llmstream_tui.config import Settings, UISettings

    ui = UISettings.model_validate({"cursor_blink": False, "events_open": "auto"})
    app = make_app(Settings(ui=ui))
    assert snap_compare(app, terminal_size=(80, 24))


def test_two_panes_mid_stream_with_delimiters(snap_compare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await send(pilot, wait=False)

    assert snap_compare(app_for("race-held.toml"), terminal_size=(100, 30), run_before=run_before)


def test_finished_comparison_with_metrics_and_ranking(snap_compare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await send(pilot)

    assert snap_compare(app_for("race.toml"), terminal_size=(110, 34), run_before=run_before)


def test_error_pane(snap_compare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await send(pilot, "hi")

    assert snap_compare(app_for("error.toml"), terminal_size=(100, 26), run_before=run_before)


def test_events_log_with_a_filter(snap_compare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await send(pilot, "hi")
        app = pilot.app
        assert isinstance(app, LLMStreamApp)
        app.events_log.set_filter(LogFilter(providers=frozenset({"alpha"})))
        app._update_events_title()
        await pilot.pause()

    assert snap_compare(app_for("events.toml"), terminal_size=(140, 30), run_before=run_before)


def test_markdown_view(snap_compare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await send(pilot, "A song, in Markdown")
        await pilot.press("ctrl+t")
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(app_for("markdown.toml"), terminal_size=(100, 28), run_before=run_before)


def test_light_theme(snap_compare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        pilot.app.theme = "llmstream-light"
        await pilot.pause()
        await send(pilot)

    assert snap_compare(app_for("race.toml"), terminal_size=(110, 34), run_before=run_before)


def test_grid_of_four_with_events_160x48(snap_compare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await send(pilot)

    assert snap_compare(app_for("grid.toml"), terminal_size=(160, 48), run_before=run_before)


def test_finished_comparison_at_80x24(snap_compare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await send(pilot)

    assert snap_compare(app_for("race.toml"), terminal_size=(80, 24), run_before=run_before)


# -- channels: reasoning, tool calls, refusals (tests/ui/channeled.py) -----------------------


async def send_until_held(pilot: Pilot[int], *, go_on: bool = False) -> None:
    """Send the prompt; each ``channeled`` stream holds after ``hold_after`` parts (or, with
    ``go_on``, runs to its end). Waits until every pane holds or has finished, then draws."""
    from tests.ui.channeled import ChanneledModel

    app = pilot.app
    assert isinstance(app, LLMStreamApp)
    if go_on:
        for pane in app.panes:
            llm = pane.session.llm
            assert isinstance(llm, ChanneledModel)
            llm.go_on.set()
        await send(pilot)
        return
    app.prompt_area.load_text(PROMPT)
    await pilot.press("enter")
    for pane in app.panes:
        llm = pane.session.llm
        assert isinstance(llm, ChanneledModel)
        if llm.spec.hold_after is None:  # a stream that does not hold: until it has ended
            assert pane.worker is not None
            await pane.worker.wait()
        else:
            await llm.held.wait()
    await pilot.pause()
    await app._frame()
    for pane in app.panes:
        pane._refresh_metrics()
    await pilot.pause()


def test_reasoning_mid_stream_open_80x24(snap_compare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await send_until_held(pilot)

    assert snap_compare(app_for("reasoning.toml"), terminal_size=(80, 24), run_before=run_before)


def test_reasoning_done_collapsed_with_events_160x48(snap_compare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await send_until_held(pilot, go_on=True)
        await pilot.press("ctrl+l")
        app = pilot.app
        assert isinstance(app, LLMStreamApp)
        app.events_log.show()
        await pilot.pause()

    assert snap_compare(app_for("reasoning.toml"), terminal_size=(160, 48), run_before=run_before)


def test_tool_calls_half_streamed_and_a_refusal_80x24(snap_compare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await send_until_held(pilot)

    assert snap_compare(app_for("tools.toml"), terminal_size=(80, 24), run_before=run_before)


def test_tool_calls_complete_and_a_refusal_160x48(snap_compare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await send_until_held(pilot, go_on=True)

    assert snap_compare(app_for("tools.toml"), terminal_size=(160, 48), run_before=run_before)
