"""Every text our widgets draw is readable in every shipped theme: the WCAG contrast of each
(foreground, background) pair the CSS uses, computed from the theme's resolved variables
(Textual's generated colour system plus our own ``[variables]``), is at least 4.5 for text
and 3 for muted text, glyphs and labels of state (WCAG 2.x: 1.4.3 and 1.4.11).

Alpha is resolved as Textual resolves it: ``auto NN%`` is the contrasting text colour of the
background at that opacity, ``COLOR NN%`` is blended over what is beneath.
"""

from __future__ import annotations

import pytest
from textual.color import Color
from textual.theme import Theme

from llmstream_tui.locations import bundled_themes_dir
from llmstream_tui.ui.themes import app_variable_defaults, load_themes

TEXT, MUTED = 4.5, 3.0

#: (foreground variable, background variable, over, minimum): ``over`` is what a
#: translucent background is drawn on. Each pair is one our CSS draws: app.tcss and the
#: widgets' DEFAULT_CSS.
PAIRS: tuple[tuple[str, str, str, float], ...] = (
    # pane body, prompt, markdown, events log, dialogs: text and muted text on surfaces
    ("text", "surface", "surface", TEXT),
    ("text", "background", "background", TEXT),
    ("text", "panel", "panel", TEXT),
    ("text-muted", "surface", "surface", MUTED),
    ("text-muted", "background", "background", MUTED),
    ("foreground", "surface", "surface", TEXT),
    # chunks on their alternating tints; reasoning (muted) on the same tints
    ("text", "chunk-tint-a", "surface", TEXT),
    ("text", "chunk-tint-b", "surface", TEXT),
    ("text-muted", "chunk-tint-a", "surface", MUTED),
    ("text-muted", "chunk-tint-b", "surface", MUTED),
    ("delimiter", "surface", "surface", MUTED),
    # the events log's columns and event kinds
    ("event-start", "surface", "surface", TEXT),
    ("event-end", "surface", "surface", TEXT),
    ("event-error", "surface", "surface", TEXT),
    ("event-stream", "surface", "surface", MUTED),
    # pane states in the border, and the compare summary's best figures
    ("state-done", "background", "background", TEXT),
    ("state-error", "background", "background", TEXT),
    ("state-streaming", "background", "background", TEXT),
    ("state-waiting", "background", "background", MUTED),
    ("state-cancelled", "background", "background", MUTED),
    ("state-idle", "background", "background", MUTED),
    ("state-error", "surface", "surface", TEXT),
    ("best", "background", "background", TEXT),
    # search matches in a pane and in the events log (``auto 90%``: a literal value, the
    # contrasting text colour Textual picks over the current match's background)
    ("text", "warning-muted", "surface", TEXT),
    ("auto 90%", "warning", "surface", TEXT),
)


def variables(theme: Theme) -> dict[str, str]:
    """What CSS sees: Textual's generated variables, our defaults, the theme's own."""
    resolved = dict(theme.to_color_system().generate())
    resolved.update(app_variable_defaults(theme.dark))
    resolved.update(theme.variables)
    return resolved


def color(value: str, under: Color, table: dict[str, str]) -> Color:
    """A variable's value as the colour it paints over ``under``."""
    name, _, alpha = value.partition(" ")
    opacity = float(alpha.rstrip("%")) / 100 if alpha else 1.0
    if name == "auto":
        return under.get_contrast_text(opacity)
    if name.startswith("$"):
        return color(table[name[1:]], under, table)
    parsed = Color.parse(name)
    return under.blend(parsed, opacity * parsed.a) if opacity < 1 or parsed.a < 1 else parsed


def luminance(c: Color) -> float:
    """WCAG 2.x relative luminance of an opaque colour."""

    def channel(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)


def contrast(a: Color, b: Color) -> float:
    low, high = sorted((luminance(a), luminance(b)))
    return (high + 0.05) / (low + 0.05)


THEMES, PROBLEMS = load_themes([bundled_themes_dir()])


def test_the_shipped_themes_load() -> None:
    assert PROBLEMS == [] and len(THEMES) >= 3


@pytest.mark.parametrize("theme", THEMES, ids=[t.name for t in THEMES])
def test_every_text_pair_is_readable(theme: Theme) -> None:
    table = variables(theme)
    failures = []
    for fg, bg, over, minimum in PAIRS:
        beneath = color(table[over], Color(0, 0, 0) if theme.dark else Color(255, 255, 255), table)
        back = color(table[bg], beneath, table)
        front = color(table.get(fg, fg), back, table)
        ratio = contrast(front, back)
        if ratio < minimum:
            failures.append(f"{fg} on {bg}: {ratio:.2f} < {minimum}")
    assert failures == [], theme.name


def test_the_check_itself_catches_white_on_white() -> None:
    white = Color.parse("#ffffff")
    assert contrast(color("#fefefe", white, {}), white) < MUTED
    assert contrast(color("auto 87%", white, {}), white) > TEXT


async def test_the_compare_summary_takes_the_new_themes_colours() -> None:
    """Colours resolved when a table is built must follow a theme switch: the dark theme's
    green best figures are hard to read on the light theme's background."""
    from llmstream_tui.ui.app import make_app
    from llmstream_tui.ui.widgets.compare import CompareSummary
    from tests.ui.test_app import two_scripted, type_and_send

    app = make_app(two_scripted())
    async with app.run_test(size=(120, 30)) as pilot:
        app.theme = "llmstream-dark"
        await type_and_send(pilot, "go")
        summary = app.query_one("#summary", CompareSummary)
        dark_best = summary.best_style.color
        app.theme = "llmstream-light"
        await pilot.pause()
        light = {t.name: t for t in THEMES}["llmstream-light"]
        assert dark_best is not None and summary.best_style.color is not None
        assert summary.best_style.color != dark_best
        assert summary.best_style.color.triplet is not None
        assert summary.best_style.color.triplet.hex == light.variables["best"]
