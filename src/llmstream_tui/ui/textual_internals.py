"""Every Textual internal the UI relies on, each behind one small function.

Everything else in ``ui/`` uses Textual's public API; what is here has no public equivalent
in Textual 8.2.8 (the pinned version) and is worth its cost. Each function names the test that
fails if an upgrade changes what it relies on: after bumping Textual, read the Textual source
these docstrings point at and run those tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.app import App
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.widget import Widget

__all__ = ["follows_bottom", "grow_virtual_size", "notification_messages", "scroll_y_quietly"]


def follows_bottom(widget: Widget) -> bool:
    """Whether ``widget`` is anchored and the user has not scrolled away from the bottom.

    ``Widget.is_anchored`` (public) says only that ``anchor()`` was called; whether the user
    has since released the anchor by scrolling up is ``Widget._anchor_released`` (Textual
    8.2.8, ``widget.py``), which Textual clears again once the view is back at the bottom.
    Pinned by ``tests/ui/widgets/test_chunk_view.py``
    (``test_a_view_scrolled_up_keeps_its_place_and_the_range_grows``).
    """
    return widget.is_anchored and not widget._anchor_released


def grow_virtual_size(view: ScrollView, size: Size) -> None:
    """``view.virtual_size = size`` without the layout that assignment asks for.

    ``Widget.virtual_size`` is ``Reactive(layout=True)`` (Textual 8.2.8): every assignment
    refreshes the layout of the whole screen, once per frame at streaming rates. When only
    the scroll range changes (same width, vertical scrollbar already shown) that layout
    would change nothing, so the value is set without it (``set_reactive`` skips validators
    and watchers) and the vertical scrollbar gets the new range as ``Widget._scroll_update``
    would have given it. Pinned by ``tests/ui/widgets/test_chunk_view.py``
    (``test_an_anchored_view_follows_every_frame_without_a_layout``).
    """
    view.set_reactive(ScrollView.virtual_size, size)
    view.vertical_scrollbar.window_virtual_size = size.height


def scroll_y_quietly(view: ScrollView, y: float) -> None:
    """Scroll ``view`` to row ``y`` at once, without the watchers of ``scroll_y``.

    ``ScrollView.watch_scroll_y`` (Textual 8.2.8) moves the scrollbar and repaints the view;
    the caller repaints anyway, so both reactives (``scroll_y`` and ``scroll_target_y``, which
    an animation would head for) are set directly and the scrollbar is moved here. ``y``
    must be in range: the validators that would clamp it are skipped too. Pinned by
    ``tests/ui/widgets/test_chunk_view.py``
    (``test_an_anchored_view_follows_every_frame_without_a_layout``).
    """
    view.set_reactive(ScrollView.scroll_y, y)
    view.set_reactive(ScrollView.scroll_target_y, y)
    view.vertical_scrollbar.position = y


def notification_messages(app: App[Any]) -> Sequence[str]:
    """The messages of the notifications ``app`` is showing, oldest first (for tests).

    Textual 8.2.8 keeps them in ``App._notifications`` and offers no public reader. Used by
    ``tests/ui/test_app.py``, ``tests/ui/test_app_sessions.py`` and
    ``tests/adversarial/test_app_adversarial.py``, which fail if it breaks.
    """
    return [n.message for n in app._notifications]
