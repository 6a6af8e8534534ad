"""The selected pane (the one copy, scroll and the per-pane keys act on) is visibly distinct in
every shipped theme: its border stands out from the background and from the other panes'
borders (WCAG 1.4.11, non-text contrast >= 3), and the app really draws those colours."""

from __future__ import annotations

import pytest
from textual.color import Color
from textual.theme import Theme

from llmstream_tui.ui.app import make_app
from llmstream_tui.ui.widgets.stream_pane import StreamPane
from tests.ui.test_app import two_scripted
from tests.ui.test_theme_contrast import MUTED, THEMES, color, contrast, variables

#: app.tcss: ``StreamPane { border: round $foreground 25% }``, ``.-selected { $primary }``
OTHER_BORDER_OPACITY = 0.25


def borders(theme: Theme) -> tuple[Color, Color, Color]:
    """(background, selected border, other border) as the theme paints them."""
    table = variables(theme)
    under = Color(0, 0, 0) if theme.dark else Color(255, 255, 255)
    background = color(table["background"], under, table)
    selected = color(table["primary"], background, table)
    other = background.blend(color(table["foreground"], background, table), OTHER_BORDER_OPACITY)
    return background, selected, other


@pytest.mark.parametrize("theme", THEMES, ids=[t.name for t in THEMES])
def test_the_selected_panes_border_stands_out_in_every_theme(theme: Theme) -> None:
    background, selected, other = borders(theme)
    assert contrast(selected, background) >= MUTED, theme.name
    assert contrast(selected, other) >= MUTED, theme.name


@pytest.mark.parametrize("name", [t.name for t in THEMES])
async def test_the_app_draws_the_selected_pane_in_the_themes_primary_colour(name: str) -> None:
    app = make_app(two_scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        app.theme = name
        await pilot.pause()
        first, second = app.panes
        primary = Color.parse(app.get_css_variables()["primary"])

        def border(pane: StreamPane) -> Color:
            return pane.styles.border.top[1]

        assert app.selected is first
        assert border(first).rgb == primary.rgb
        assert border(second).rgb != primary.rgb
        await pilot.press("ctrl+f")
        assert app.selected is second
        assert border(second).rgb == primary.rgb
        assert border(first).rgb != primary.rgb
