"""A pane's reasoning section: a header line and a second ``ChunkView`` above the answer.

Reasoning streams live with its own delimiters and tints, in a muted style (the view has the
``pane-reasoning`` class; app.tcss styles it). The section is hidden until a run reasons.
It opens while the model reasons and collapses when the answer starts, unless the user has
chosen: a toggle (key or click on the header) is remembered for the pane's later runs.

The header and the view are two children of the pane rather than one container, so the
view's ``max-height`` is a share of the pane's height.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual import events
from textual.widget import Widget

from .chunk_view import ChunkView

OPEN_GLYPH = "▾"
CLOSED_GLYPH = "▸"


class ReasoningHeader(Widget):
    """``▾ reasoning · 12 chunks``: a click opens or collapses the section. One line, so a
    new label is a repaint, never a layout (it changes every frame while the model reasons)."""

    DEFAULT_CSS = """
    ReasoningHeader { height: 1; }
    """

    def __init__(self, on_click: Callable[[], None]) -> None:
        super().__init__(classes="pane-reasoning-header")
        self._toggle = on_click
        self.label = Text()

    def update(self, label: Text) -> None:
        self.label = label
        self.refresh()

    def render(self) -> Text:
        return self.label

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self._toggle()


class ReasoningSection:
    """The header and view of a pane's reasoning, and whether it is open."""

    def __init__(self, *, delimiter: str, tints: bool, whitespace: bool, max_rows: int) -> None:
        self.header = ReasoningHeader(self.toggle)
        self.view = ChunkView(
            delimiter=delimiter,
            tints=tints,
            whitespace=whitespace,
            max_rows=max_rows,
            classes="pane-reasoning",
        )
        #: what the user chose with the key or a click (None: follow the run)
        self.user_open: bool | None = None
        self.open = True
        self.chunks = 0
        self._answering = False
        self._show()

    @property
    def has_reasoning(self) -> bool:
        return self.chunks > 0

    def reset(self) -> None:
        """A new run: nothing to show until it reasons."""
        self.view.clear()
        self.chunks = 0
        self._answering = False
        self.open = self.user_open if self.user_open is not None else True
        self._show()

    def add(self, texts: Sequence[str]) -> None:
        """A frame's reasoning chunks."""
        view = self.view
        if not self.chunks:
            view.begin_answer()
        self.chunks += len(texts)
        view.append_chunks(texts)
        self._show()

    def answer_started(self) -> None:
        """The answer (or a refusal, or a tool call) began: collapse, unless the user chose."""
        if self._answering:
            return
        self._answering = True
        if self.user_open is None and self.open and self.chunks:
            self.open = False
            self._show()

    def toggle(self) -> None:
        """Open or collapse (the key, or a click on the header); remembered for this pane.
        Nothing to open in a run without reasoning: then the key does nothing."""
        if not self.chunks:
            return
        self.open = not self.open
        self.user_open = self.open
        self._show()

    def _show(self) -> None:
        shown = self.chunks > 0
        self.header.display = shown
        self.view.display = shown and self.open
        if shown:
            glyph = OPEN_GLYPH if self.open else CLOSED_GLYPH
            plural = "" if self.chunks == 1 else "s"
            label = Text(f"{glyph} reasoning", style="bold")
            label.append(f" · {self.chunks} chunk{plural}", style="")
            if not self.open:
                label.append(" · collapsed", style="italic")
            self.header.update(label)

    def set_tints(self, on: bool) -> None:
        self.view.set_tints(on)

    def set_whitespace(self, on: bool) -> None:
        self.view.set_whitespace(on)
