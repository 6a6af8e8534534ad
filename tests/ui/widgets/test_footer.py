"""The footer shows whole keys only: the least needed go first when the width is short,
the copy key stays at 80 columns, and every key returns when the terminal widens."""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets._footer import FooterKey

from llmstream_tui.ui.app import make_app
from llmstream_tui.ui.widgets.footer import FittedFooter

from ..conftest import make_settings


def shown(app: object) -> tuple[list[str], int]:
    footer = app.query_one(FittedFooter)  # type: ignore[attr-defined]
    keys = list(footer.query(FooterKey))
    used = sum(k.outer_size.width for k in keys)
    return [k.action for k in keys], used


async def test_every_shown_key_fits_and_copy_stays_at_80_columns() -> None:
    app = make_app(make_settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        actions, used = shown(app)
        assert used <= 80, (actions, used)
        assert "copy_answer" in actions
        assert "copy_code" not in actions
        assert "help" in actions and "send" in actions
        keys = app.query_one(FittedFooter).query(FooterKey)
        texts = [f"{k.key_display} {k.description}" for k in keys]
        assert all(cell_len(t) < 20 for t in texts)


async def test_keys_come_back_when_the_terminal_widens() -> None:
    app = make_app(make_settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.resize_terminal(140, 40)
        await pilot.pause()
        await pilot.pause()
        actions, used = shown(app)
        assert {"copy_answer", "copy_code", "retry", "toggle_events"} <= set(actions)
        assert used <= 140
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        actions, used = shown(app)
        assert "copy_code" not in actions and used <= 80
