"""Ranking for the compare summary."""

from __future__ import annotations

from llmstream_tui.core.metrics import MetricsSnapshot
from llmstream_tui.ui.widgets.compare import Entry, ranks


def snap(ttft: float, rate: float | None, total: float) -> MetricsSnapshot:
    return MetricsSnapshot(
        ttfb_s=None,
        ttft_s=ttft,
        total_s=total,
        chunks=3,
        chunks_per_s=rate,
        itl_p50_s=None,
        itl_p90_s=None,
        itl_p95_s=None,
        itl_p99_s=None,
        itl_max_s=None,
        tokens=3,
        token_source="chunks",
        tpot_s=None,
    )


def test_lower_is_better_for_times_higher_for_rate_and_ties_share_a_rank() -> None:
    entries = [
        Entry("a", "done", snap(0.2, 50.0, 1.0)),
        Entry("b", "done", snap(0.1, 50.0, 2.0)),
        Entry("c", "done", snap(0.3, 10.0, 0.5)),
    ]
    assert ranks(entries) == [
        {"TTFT": 2, "chunks/s": 1, "total": 2},
        {"TTFT": 1, "chunks/s": 1, "total": 3},
        {"TTFT": 3, "chunks/s": 3, "total": 1},
    ]


def test_unfinished_runs_are_listed_but_not_ranked() -> None:
    entries = [Entry("a", "error", snap(0.01, 500.0, 0.1)), Entry("b", "done", snap(0.2, None, 1))]
    assert ranks(entries) == [{}, {"TTFT": 1, "total": 1}]
