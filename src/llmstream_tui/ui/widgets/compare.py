"""``CompareSummary``: when every pane has finished, providers ranked on TTFT, chunks/s and
total time, the best of each column highlighted."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from ...core.inert import escape_controls
from ...core.metrics import MetricsSnapshot
from ..format import DASH, duration, rate
from ._styles import blended_style

if TYPE_CHECKING:
    from ..session import PaneSession


@dataclass(frozen=True)
class Entry:
    name: str
    state: str
    snapshot: MetricsSnapshot | None


def _ttft(s: MetricsSnapshot) -> float | None:
    return s.ttft_s


def _rate(s: MetricsSnapshot) -> float | None:
    return s.chunks_per_s


def _total(s: MetricsSnapshot) -> float | None:
    return s.total_s


#: column label, metric getter, whether lower is better
COLUMNS: tuple[tuple[str, Callable[[MetricsSnapshot], float | None], bool], ...] = (
    ("TTFT", _ttft, True),
    ("chunks/s", _rate, False),
    ("total", _total, True),
)


def ranks(entries: Sequence[Entry]) -> list[dict[str, int]]:
    """Per entry, its rank (1 = best) in each column it has a value for. Only finished
    (``done``) runs are ranked: a cancelled run's total says nothing about the provider."""
    out: list[dict[str, int]] = [{} for _ in entries]
    for label, get, lower in COLUMNS:
        valued: list[tuple[float, int]] = []
        for i, e in enumerate(entries):
            value = get(e.snapshot) if e.state == "done" and e.snapshot is not None else None
            if value is not None:
                valued.append((value if lower else -value, i))
        valued.sort()
        rank = 0
        previous = None
        for position, (value, i) in enumerate(valued, start=1):
            if value != previous:
                rank = position
                previous = value
            out[i][label] = rank
    return out


class CompareSummary(Static):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"compare--best", "compare--muted"}

    DEFAULT_CSS = """
    CompareSummary > .compare--best { color: $best; text-style: bold; }
    CompareSummary > .compare--muted { color: $text-muted; }
    """

    def show_entries(self, entries: Sequence[Entry]) -> None:
        self.entries = list(entries)
        best = blended_style(self, "compare--best")
        muted = blended_style(self, "compare--muted")
        self.update(build_table(entries, best, muted))

    def show_runs(self, sessions: Iterable[PaneSession]) -> None:
        """Rank the last run of each of ``sessions`` and show the table."""
        self.show_entries(
            [
                Entry(s.name, s.state, s.timeline.snapshot() if s.timeline else None)
                for s in sessions
            ]
        )
        self.border_title = Text("compare")
        self.display = True


def build_table(entries: Sequence[Entry], best: Style, muted: Style) -> Table:
    table = Table(
        box=None, padding=(0, 1), expand=False, show_edge=False, header_style="bold", title=None
    )
    table.add_column("provider", no_wrap=True)
    for label, _, _ in COLUMNS:
        table.add_column(label, justify="right", no_wrap=True)
    table.add_column("chunks", justify="right", no_wrap=True)
    table.add_column("tokens", justify="right", no_wrap=True)
    table.add_column("state", no_wrap=True)
    all_ranks = ranks(entries)
    for entry, rank in zip(entries, all_ranks, strict=True):
        snap = entry.snapshot
        cells: list[Text] = [Text(escape_controls(entry.name))]
        for label, get, _ in COLUMNS:
            value = get(snap) if snap is not None else None
            shown = rate(value) if label == "chunks/s" else duration(value)
            r = rank.get(label)
            cell = Text(shown if r is None else f"{shown} #{r}")
            if r == 1:
                cell.stylize(best)
            elif r is None:
                cell.stylize(muted)
            cells.append(cell)
        cells.append(Text(str(snap.chunks) if snap else DASH))
        tokens = snap.tokens if snap is not None and snap.token_source == "usage" else None
        cells.append(Text(str(tokens) if tokens is not None else DASH))
        cells.append(Text(entry.state, style=muted if entry.state != "done" else Style()))
        table.add_row(*cells)
    return table
