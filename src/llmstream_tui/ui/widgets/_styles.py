"""Component-class styles blended over the widget's background.

Rich has no alpha channel, so a theme colour like ``#3b6ab8 30%`` must be blended with what
is under it before it becomes a Rich ``Style``; widgets drawing their own segments call this.
"""

from __future__ import annotations

from rich.style import Style
from textual.widget import Widget


def blended_style(widget: Widget, component: str) -> Style:
    """The Rich style of ``widget``'s ``component`` class, colours blended over its background."""
    styles = widget.get_component_styles(component)
    _, base = widget.background_colors
    bg = base + styles.background if styles.has_rule("background") else None
    under = bg if bg is not None else base
    fg = None
    if styles.has_rule("color"):
        color = styles.color
        # an ``auto`` colour (``$text-muted`` is ``auto 60%``) is the contrasting text colour of
        # what is under it; blended as is, it was white on any background (unreadable on light)
        fg = under + (under.get_contrast_text(color.a) if styles.auto_color else color)
    style = Style(
        color=fg.rich_color if fg is not None else None,
        bgcolor=bg.rich_color if bg is not None else None,
    )
    if styles.has_rule("text_style"):
        style += styles.text_style
    return style
