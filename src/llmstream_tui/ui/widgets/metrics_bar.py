"""``MetricsBar``: a pane's live figures (TTFT, chunks/s, ITL percentiles...), wrapped by figure.

Its own widget so that new figures cost a repaint, and a layout pass only when they need a
different number of lines (a pane's height depends on it).
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget


class MetricsBar(Widget):
    """The live figures, packed into as few lines as the pane's width allows; a figure
    (label and value) is never split across lines."""

    DEFAULT_CSS = """
    MetricsBar { height: auto; }
    """

    def __init__(self, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.parts: list[tuple[str, str]] = []

    def _lines(self, width: int) -> list[Text]:
        if not self.parts:
            return [Text("no run yet", style="dim")]
        lines: list[Text] = []
        line = Text()
        for label, value in self.parts:
            piece = len(label) + 1 + len(value)
            if line.plain and len(line.plain) + 2 + piece > width:
                lines.append(line)
                line = Text()
            if line.plain:
                line.append("  ")
            line.append(label + " ", style="dim")
            line.append(value, style="bold")
        lines.append(line)
        return lines

    def show(self, parts: list[tuple[str, str]]) -> None:
        """New figures; a layout pass only when they need a different number of lines."""
        width = self.content_region.width or 80
        before = len(self._lines(width))
        self.parts = parts
        self.refresh(layout=len(self._lines(width)) != before)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width))

    def render(self) -> Text:
        return Text("\n").join(self._lines(self.content_region.width or 80))

    @property
    def plain(self) -> str:
        """The figures as one line of plain text (tests)."""
        return " ".join(f"{label} {value}" for label, value in self.parts)
