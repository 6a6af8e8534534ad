"""The comparison's statistics table as cells: the columns, each group's row and which
cells hold the best value of their column. Shared by ``compare``'s printed table and
report (``cli/compare.py``) and the live screen (``ui/screens/compare.py``), so each figure
is computed and formatted one way. Plain strings and indices: no rich, no Textual."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from ..core.compare_stats import GroupSummary

__all__ = ["COLUMNS", "FIRST_FIGURE", "best_cells", "cell", "table_rows"]

#: The table's columns: (header, metric, statistic, scale, format).
COLUMNS: Final = (
    ("TTFT p50 ms", "time_to_first_token", "p50", 1e3, "{:.0f}"),
    ("TTFT p90 ms", "time_to_first_token", "p90", 1e3, "{:.0f}"),
    ("TTFT p99 ms", "time_to_first_token", "p99", 1e3, "{:.0f}"),
    ("gap p50 ms", "inter_chunk_latency", "p50", 1e3, "{:.1f}"),
    ("gap p99 ms", "inter_chunk_latency", "p99", 1e3, "{:.1f}"),
    ("latency p50 s", "request_latency", "p50", 1.0, "{:.2f}"),
    ("latency p99 s", "request_latency", "p99", 1.0, "{:.2f}"),
    ("tokens avg", "output_sequence_length", "avg", 1.0, "{:.0f}"),
    ("tok/s/user p50", "output_token_throughput_per_user", "p50", 1.0, "{:.1f}"),
)


#: The columns before the figures: provider, level, ok, errors.
FIRST_FIGURE: Final = 4


def cell(group: GroupSummary, metric: str, stat: str, scale: float, fmt: str) -> str:
    dist = group.metrics.get(metric)
    return "-" if dist is None else fmt.format(getattr(dist, stat) * scale)


def table_rows(summaries: Sequence[GroupSummary]) -> tuple[list[str], list[list[str]]]:
    head = ["provider", "level", "ok", "errors", *(c[0] for c in COLUMNS), "req/s", "tok/s"]
    rows = []
    for g in summaries:
        errors = ", ".join(f"{k} {n}" for k, n in g.errors.items()) or "0"
        rows.append(
            [
                g.provider,
                g.level,
                str(g.request_count),
                errors,
                *(cell(g, *c[1:]) for c in COLUMNS),
                "-" if g.request_throughput is None else f"{g.request_throughput:.2f}",
                "-" if g.output_token_throughput is None else f"{g.output_token_throughput:.1f}",
            ]
        )
    return head, rows


def best_cells(summaries: Sequence[GroupSummary]) -> set[tuple[int, int]]:
    """(row, column) of ``table_rows``' cells holding the best value of their column among the
    providers at the same level (lowest time, highest rate; ties are all best), when at
    least two providers have one: what the table highlights."""
    first = FIRST_FIGURE
    getters: list[tuple[int, Callable[[GroupSummary], float | None], bool]] = []
    for i, (_, metric, stat, _scale, _fmt) in enumerate(COLUMNS):
        if metric == "output_sequence_length":
            continue  # more tokens is neither better nor worse
        higher = metric == "output_token_throughput_per_user"

        def get(g: GroupSummary, metric: str = metric, stat: str = stat) -> float | None:
            dist = g.metrics.get(metric)
            return None if dist is None else float(getattr(dist, stat))

        getters.append((first + i, get, higher))
    end = first + len(COLUMNS)
    getters.append((end, lambda g: g.request_throughput, True))
    getters.append((end + 1, lambda g: g.output_token_throughput, True))
    best: set[tuple[int, int]] = set()
    for level in dict.fromkeys(g.level for g in summaries):
        rows = [(r, g) for r, g in enumerate(summaries) if g.level == level]
        for col, value_of, higher in getters:
            values = [(r, v) for r, g in rows if (v := value_of(g)) is not None]
            if len(values) < 2:
                continue
            top = (max if higher else min)(v for _, v in values)
            best.update((r, col) for r, v in values if v == top)
    return best
