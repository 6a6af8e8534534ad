"""Snapshots of a search in a pane: ``sparkling`` found across chunk boundaries
(``Spark|ling``), every match highlighted, the current one more strongly, the bar showing
``2/3``; dark and light themes. Built from ``race.toml`` (timed: the same picture on every
run). Update with ``--snapshot-update``, render the SVGs to PNG and look at them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from tests.ui.test_snapshots import app_for, send


@pytest.fixture(autouse=True)
def _counted(counted_run_ids: None) -> None:
    """Run ids from a counter (tests/conftest.py)."""


def searched(theme: str) -> Callable[[Pilot[int]], Awaitable[None]]:
    """Send the prompt in ``theme``, search ``sparkling``, step to the answer's first match."""

    async def run_before(pilot: Pilot[int]) -> None:
        pilot.app.theme = theme
        await pilot.pause()
        await send(pilot)
        await pilot.press("f12", *"sparkling", "enter")
        await pilot.pause()

    return run_before


def test_search_in_a_pane_dark(snap_compare) -> None:
    assert snap_compare(
        app_for("race.toml"), terminal_size=(110, 30), run_before=searched("llmstream-dark")
    )


def test_search_in_a_pane_light(snap_compare) -> None:
    assert snap_compare(
        app_for("race.toml"), terminal_size=(110, 30), run_before=searched("llmstream-light")
    )
