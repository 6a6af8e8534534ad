"""Snapshots of what the copy keys put on screen: a mouse selection in a pane (dark and
light: the selected text keeps its colour on the selection background) and the list the
copy-code key offers when an answer has several code blocks. Reviewed as PNGs."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from llmstream_tui.ui.app import LLMStreamApp, make_app
from tests.ui.conftest import make_settings, timed
from tests.ui.test_snapshots import app_for, send


@pytest.fixture(autouse=True)
def _counted(counted_run_ids: None) -> None:
    """Run ids from a counter (tests/conftest.py), as in every snapshot."""


async def select_in_first_pane(pilot: Pilot[int], row: int, start: int, end: int) -> None:
    """Drag the mouse over cells ``start`` to ``end`` of ``row`` of the first pane."""
    app = pilot.app
    assert isinstance(app, LLMStreamApp)
    body = app.panes[0].body
    await pilot.mouse_down(body, offset=(start, row))
    await pilot.hover(body, offset=(end, row))
    await pilot.mouse_up(body, offset=(end, row))
    await pilot.pause()


@pytest.mark.parametrize("theme", ["llmstream-dark", "llmstream-light"])
def test_a_mouse_selection_in_a_pane_80x24(snap_compare, theme: str) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        pilot.app.theme = theme
        await send(pilot, "hi")
        await pilot.press("ctrl+s")  # the compare summary is another test's picture
        await select_in_first_pane(pilot, 1, 3, 30)

    assert snap_compare(app_for("race.toml"), terminal_size=(80, 24), run_before=run_before)


def test_the_code_block_pick_list_80x24(snap_compare) -> None:
    chunks = ["Two ways:\n\n```python\n", "print('one')\n```\n\n", "~~~sh\necho two\n~~~\n"]
    settings = make_settings(
        providers={"coder": timed(chunks, ttft_ms=100, gaps_ms=[20])},
        default_providers=["coder"],
    )

    async def run_before(pilot: Pilot[int]) -> None:
        await send(pilot, "code")
        await pilot.press("alt+c")
        await pilot.pause()

    assert snap_compare(make_app(settings), terminal_size=(80, 24), run_before=run_before)
