"""The footer: Textual's, fitted to the terminal's width.

Textual's footer scrolls sideways when its keys do not fit, which in a terminal means the
last keys and the palette's are cut in the middle (``alt+`` with no letter). This one drops
whole keys instead, the least needed first (``DROP_ORDER``), so what is shown is always
readable; every key stays in the help screen (F1) and the palette.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

#: The footer's actions, the first dropped first when the width is short.
DROP_ORDER: tuple[str, ...] = (
    "copy_code",
    "retry",
    "toggle_events",
    "providers",
    "copy_answer",
    "new_conversation",
    "cancel_all",
)


class FittedFooter(Footer):
    """A compact footer that shows as many whole keys as its width holds."""

    def __init__(self) -> None:
        super().__init__(compact=True)
        self._fitted_width = 0

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        yield from fit(widgets, self.size.width)

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._fitted_width:
            self._fitted_width = event.size.width
            self.call_after_refresh(self.recompose)


def key_width(key: FooterKey) -> int:
    """Cells a compact key takes: its keys, a space, its label and the margin after it (the
    palette's key: its left border instead of the margin)."""
    return cell_len(key.key_display) + 1 + cell_len(key.description) + 1


def fit(widgets: Iterable[Widget], width: int) -> list[Widget]:
    """``widgets`` without the keys that do not fit in ``width`` cells, dropped in
    ``DROP_ORDER``; a width of 0 (not laid out yet) keeps everything."""
    shown = list(widgets)
    if width <= 0:
        return shown

    def needed() -> int:
        return sum(key_width(w) for w in shown if isinstance(w, FooterKey))

    for action in DROP_ORDER:
        if needed() <= width:
            break
        shown = [w for w in shown if not (isinstance(w, FooterKey) and w.action == action)]
    return shown
