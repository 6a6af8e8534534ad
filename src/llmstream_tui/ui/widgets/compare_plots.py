"""``DistributionPlot``: the live CDF of one metric, one line per provider, one colour each
(the comparison screen draws TTFT and the inter-chunk gaps with it).

Drawn with textual-plotext (plotext in a widget): a CDF rather than a histogram because
several providers' lines stay readable on top of each other in a few terminal rows, and
it reads the same as ``compare --out``'s matplotlib plots. Each line is at most
:data:`POINTS` quantiles of its values, so a redraw costs the same after a thousand
requests as after ten (the sort is the screen's one per tick)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from textual_plotext import PlotextPlot

from ...core.compare_stats import percentile
from ...core.inert import escape_controls

__all__ = ["PALETTE", "POINTS", "DistributionPlot", "cdf_points"]

#: Points per CDF line: enough for a terminal's width, however many values there are.
POINTS: Final = 64
#: One colour per provider, in the order providers are given (cycled beyond eight): RGB,
#: so the plot's lines and the table's provider names are the same colour.
PALETTE: Final = (
    (86, 156, 214),
    (236, 151, 31),
    (106, 190, 48),
    (214, 84, 105),
    (171, 120, 220),
    (60, 190, 190),
    (220, 200, 60),
    (180, 180, 180),
)


def cdf_points(values: Sequence[float], points: int = POINTS) -> tuple[list[float], list[float]]:
    """(x, fraction of values <= x) of the empirical CDF of ``values``: every value when
    there are few, else ``points`` evenly spaced quantiles (numpy's interpolation)."""
    ordered = sorted(values)
    n = len(ordered)
    if n <= points:
        return ordered, [(i + 1) / n for i in range(n)]
    qs = [100.0 * i / (points - 1) for i in range(points)]
    return [percentile(ordered, q) for q in qs], [q / 100.0 for q in qs]


class DistributionPlot(PlotextPlot):
    """A CDF of one metric per provider, redrawn by :meth:`show`."""

    DEFAULT_CSS = """
    DistributionPlot { height: 1fr; width: 1fr; }
    """

    def __init__(self, title: str, unit: str, scale: float, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = title
        self.unit = unit
        self.scale = scale
        #: what the last :meth:`show` drew: label -> points (tests read it)
        self.drawn: dict[str, tuple[list[float], list[float]]] = {}
        #: label -> (the values list, its length, its points): a series handed in again
        #: unchanged (the same list: the live model keeps a group's until it changes) is
        #: not sorted again
        self._points: dict[str, tuple[Sequence[float], int, tuple[list[float], list[float]]]] = {}

    def on_mount(self) -> None:
        super().on_mount()
        self.show({}, {})

    def show(
        self,
        series: Mapping[str, Sequence[float]],
        colours: Mapping[str, tuple[int, int, int]],
    ) -> None:
        """Draw each series' CDF (values in seconds, shown times ``scale`` in ``unit``), in
        the colour ``colours`` gives its label."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.title)
        plt.xlabel(self.unit)
        plt.ylim(0, 1)
        self.drawn = {}
        for label, values in series.items():
            if not values:
                continue
            known = self._points.get(label)
            if known is not None and known[0] is values and known[1] == len(values):
                xs, ys = known[2]
            else:
                xs, ys = cdf_points([v * self.scale for v in values])
                self._points[label] = (values, len(values), (xs, ys))
            self.drawn[label] = (xs, ys)
            colour = colours.get(label, PALETTE[-1])
            plt.plot(xs, ys, label=escape_controls(label), color=colour, marker="braille")
        self.refresh()
