"""Snapshot of the parameters dialog (F11) at 80x24: every field, the scope box and the hint
fit. Update with ``--snapshot-update``, render the SVG to PNG and look at it."""

from __future__ import annotations

from textual.pilot import Pilot

from llmstream_tui.ui.app import make_app
from tests.ui.conftest import make_settings


async def open_params(pilot: Pilot[int]) -> None:
    await pilot.press("f11")
    await pilot.pause()


def test_params_dialog_80x24(snap_compare) -> None:
    table = {"kind": "simulated", "model": "swift", "params": {"temperature": 0.7, "seed": 7}}
    app = make_app(make_settings(providers={"a": table}, default_providers=["a"]))
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_params)


def test_params_dialog_with_the_servers_models_80x24(snap_compare) -> None:
    """The model field with the server's models under it, filtered by what is typed."""
    from textual.widgets import Input

    from tests.ui.conftest import timed

    models = ["gpt-4.1", "gpt-4.1-mini", "gpt-4o", "o3", "o4-mini"]
    app = make_app(
        make_settings(providers={"m": timed(["x"], models=models)}, default_providers=["m"])
    )

    async def run_before(pilot: Pilot[int]) -> None:
        await open_params(pilot)
        await pilot.app.screen.workers.wait_for_complete()
        field = pilot.app.screen.query_one("#param-model", Input)
        field.focus()
        field.value = "gpt"
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
