"""The ad hoc provider dialog: every kind is listed, wrapped, at 80x24."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Static

from llmstream_tui.providers.registry import KINDS
from llmstream_tui.ui.screens.ad_hoc import AdHocProviderScreen


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.results: list[str | None] = []

    def on_mount(self) -> None:
        self.push_screen(AdHocProviderScreen(sorted(KINDS)), self.results.append)


async def test_every_kind_is_shown_at_80_columns_and_enter_gives_the_reference() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        kinds = app.screen.query_one(".kinds", Static)
        shown = " ".join(line.text for line in kinds.render_lines(kinds.region.reset_offset))
        for kind in KINDS:
            assert kind in shown, kind
        assert kinds.region.right <= 80
        await pilot.press(*"simulated:steady", "enter")
        await pilot.pause()
    assert app.results == ["simulated:steady"]
