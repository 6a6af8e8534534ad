"""Every Textual internal the UI relies on, each behind one small function.

Everything else in ``ui/`` uses Textual's public API; what is here has no public equivalent
in Textual 8.2.8 (the pinned version) and is worth its cost. Each function names the test that
fails if an upgrade changes what it relies on: after bumping Textual, read the Textual source
these docstrings point at and run those tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from rich.style import Style as RichStyle
from textual.app import App
from textual.color import Color
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style
from textual.widget import Widget

__all__ = [
    "follows_bottom",
    "grow_virtual_size",
    "notification_messages",
    "plain_box_lines",
    "repaint_alone",
    "scroll_y_quietly",
    "sync_scrollbar",
]


def follows_bottom(widget: Widget) -> bool:
    """Whether ``widget`` is anchored and the user has not scrolled away from the bottom.

    ``Widget.is_anchored`` (public) says only that ``anchor()`` was called; whether the user
    has since released the anchor by scrolling up is ``Widget._anchor_released`` (Textual
    8.2.8, ``widget.py``), which Textual clears again once the view is back at the bottom.
    Pinned by ``tests/ui/widgets/test_chunk_view.py``
    (``test_a_view_scrolled_up_keeps_its_place_and_the_range_grows``).
    """
    return widget.is_anchored and not widget._anchor_released


def grow_virtual_size(view: ScrollView, size: Size, *, scrollbar: bool = True) -> None:
    """``view.virtual_size = size`` without the layout that assignment asks for
    (``scrollbar`` False: the scrollbar is left as it is, for ``sync_scrollbar`` later).

    ``Widget.virtual_size`` is ``Reactive(layout=True)`` (Textual 8.2.8): every assignment
    refreshes the layout of the whole screen, once per frame at streaming rates. When only
    the scroll range changes (same width, vertical scrollbar already shown) that layout
    would change nothing, so the value is set without it (``set_reactive`` skips validators
    and watchers) and the vertical scrollbar gets the new range as ``Widget._scroll_update``
    would have given it. Pinned by ``tests/ui/widgets/test_chunk_view.py``
    (``test_an_anchored_view_follows_every_frame_without_a_layout``).
    """
    view.set_reactive(ScrollView.virtual_size, size)
    if scrollbar:
        view.vertical_scrollbar.window_virtual_size = size.height


def scroll_y_quietly(view: ScrollView, y: float, *, scrollbar: bool = True) -> None:
    """Scroll ``view`` to row ``y`` at once, without the watchers of ``scroll_y``
    (``scrollbar`` False: the scrollbar is left behind, for ``sync_scrollbar``).

    ``ScrollView.watch_scroll_y`` (Textual 8.2.8) moves the scrollbar and repaints the view;
    the caller repaints anyway, so both reactives (``scroll_y`` and ``scroll_target_y``, which
    an animation would head for) are set directly and the scrollbar is moved here. ``y``
    must be in range: the validators that would clamp it are skipped too. Pinned by
    ``tests/ui/widgets/test_chunk_view.py``
    (``test_an_anchored_view_follows_every_frame_without_a_layout``).
    """
    view.set_reactive(ScrollView.scroll_y, y)
    view.set_reactive(ScrollView.scroll_target_y, y)
    if scrollbar:
        view.vertical_scrollbar.position = y


def sync_scrollbar(view: ScrollView) -> None:
    """Give ``view``'s vertical scrollbar the range and position the view has now (after
    ``grow_virtual_size`` and ``scroll_y_quietly`` left it behind). A repainted scrollbar
    repaints every line of the view beside it, so a view that is not being repainted
    leaves its scrollbar alone too. Pinned by ``tests/ui/widgets/test_chunk_view.py``
    (``test_a_held_view_takes_rows_in_without_a_repaint``)."""
    bar = view.vertical_scrollbar
    bar.window_virtual_size = view.virtual_size.height
    bar.position = view.scroll_y


def notification_messages(app: App[Any]) -> Sequence[str]:
    """The messages of the notifications ``app`` is showing, oldest first (for tests).

    Textual 8.2.8 keeps them in ``App._notifications`` and offers no public reader. Used by
    ``tests/ui/test_app.py``, ``tests/ui/test_app_sessions.py`` and
    ``tests/adversarial/test_app_adversarial.py``, which fail if it breaks.
    """
    return [n.message for n in app._notifications]


def plain_box_lines(
    widget: Widget, crop: Region, render_line: Callable[[int], Strip]
) -> list[Strip] | None:
    """The lines ``Widget.render_lines(crop)`` would draw, without its per-line cache, for a
    widget with a plain box (no border, outline, padding, tint, hatch or opacity); None
    for any other widget (the caller lets Textual draw).

    Textual 8.2.8 draws a widget through ``StylesCache.render_widget`` (``_styles_cache.py``):
    each line the widget renders is extended to the content width in the widget's inner
    background, copied into a new ``Strip`` and passed through the app's line filters
    (``ANSIToTruecolor`` and friends). Its cache is keyed by the line's place in the widget,
    so a view that scrolls (an anchored stream, every frame) loses all of it: every line is
    copied and filtered again, and the compositor's crop and escape-code caches, which live
    on the Strip objects, start empty. For a plain box the copy changes nothing, so here the
    line is kept as it came and the filters are applied to it: ``Strip.apply_filter`` keeps
    its result on the strip, and a row whose strip the widget caches costs a lookup per
    frame from its second frame on, wherever it is on screen. Pinned by
    ``tests/ui/widgets/test_chunk_view.py``
    (``test_the_plain_box_path_draws_what_textual_draws``).
    """
    styles = widget.styles
    if (
        widget.opacity != 1.0
        or styles.text_opacity != 1.0
        or styles.tint.a
        or any(edge for edge, _ in styles.border)
        or any(edge for edge, _ in styles.outline)
        or any(styles.padding)
        or (styles.has_rule("hatch") and styles.hatch != "none")
        or widget.border_title is not None
        or widget.border_subtitle is not None
    ):
        return None
    if widget.auto_links and widget.hover_style._link_id:
        return None  # a hovered link is restyled by Textual
    size = widget.region.size
    width, height = size
    if widget.content_region.size != size:
        return None
    base_background, background = widget.background_colors
    inner = _inner_style(base_background, background)
    filters = widget.get_line_filters()
    lines: list[Strip] = []
    for y in crop.line_range:
        if y < height:
            line = render_line(y).adjust_cell_length(width, inner)
        else:
            line = Strip.blank(width, inner)
        for line_filter in filters:
            line = line.apply_filter(line_filter, background)
        lines.append(line)
    if crop.column_span != (0, width):
        x1, x2 = crop.column_span
        lines = [line.crop(x1, x2) for line in lines]
    return lines


@lru_cache(maxsize=64)
def _inner_style(base_background: Color, background: Color) -> RichStyle:
    """The inner background Textual pads a line with (``StylesCache.get_inner_outer``)."""
    return Style(background=base_background + background).rich_style


def repaint_alone(widget: Widget) -> bool:
    """Write ``widget``'s pending repaint to the terminal now, by itself; what else is
    waiting to be drawn stays waiting for the screen's next update. Returns False (and
    does nothing) when that is not safe: a layout or full repaint is pending, the widget
    is not on the current screen, or updates are batched.

    Textual 8.2.8 repaints everything dirty in one update (``Screen._on_timer_update``:
    ``Compositor.update_widgets`` for the dirty widgets, then ``render_update`` and
    ``App._display``). While a stream renders, a frame of the panes is most of the screen
    (tens of milliseconds to draw), and a key typed meanwhile reached the terminal only
    with it. Here the key's few cells go alone: the widget's dirty regions into the
    compositor, its partial update rendered and displayed, and the widget no longer
    counted dirty; the other dirty widgets keep their regions for the next update.
    Pinned by ``tests/ui/test_app_typing.py``.
    """
    app = widget.app
    screen = widget.screen
    if (
        screen is not app.screen
        or app._batch_count
        or screen._layout_required
        or screen._scroll_required
        or screen._repaint_required
        or not widget.is_attached
    ):
        return False
    compositor = screen._compositor
    if widget not in compositor.visible_widgets or compositor._dirty_regions:
        return False
    compositor.update_widgets({widget})
    screen._dirty_widgets.discard(widget)
    app._display(screen, compositor.render_update(screen_stack=app._background_screens))
    return True
