"""The help screen lists a binding's alternative keys one per line, so a long pair
(``shift+pagedown,ctrl+down``) does not widen the key column and squeeze every description
at 80 columns."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from textual.widgets import Static

from llmstream_tui.ui.app import make_app
from llmstream_tui.ui.screens.help import HelpScreen
from tests.ui.test_app import two_scripted


async def test_alternative_keys_are_one_per_line() -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query(Static).first().content
        assert isinstance(table, Table)
        console = Console(width=76, record=True, color_system=None)
        console.print(table)
        lines = console.export_text().splitlines()
        assert not any("shift+pagedown,ctrl+down" in line for line in lines)
        row = next(line for line in lines if "shift+pagedown" in line)
        assert "scroll_down" in row
        assert any(line.strip() == "ctrl+down" for line in lines)
