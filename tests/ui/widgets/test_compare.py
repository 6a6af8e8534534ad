"""Ranking for the compare summary."""

from __future__ import annotations

import dataclasses

from rich.console import Console
from rich.style import Style

from llmstream_tui.core.metrics import MetricsSnapshot
from llmstream_tui.ui.widgets.compare import Entry, build_table, ranks, shown_columns


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


def thinking(
    base: MetricsSnapshot, ttfr: float, reasoning: float, tokens: int | None
) -> MetricsSnapshot:
    return dataclasses.replace(
        base, ttfr_s=ttfr, reasoning_s=reasoning, reasoning_tokens=tokens, reasoning_chunks=4
    )


def plain(table: object) -> list[str]:
    console = Console(width=160, record=True, color_system=None)
    console.print(table)
    return [line.rstrip() for line in console.export_text().splitlines()]


def test_reasoning_figures_are_ranked_and_shown_only_when_a_model_reasoned() -> None:
    entries = [
        Entry("slow-thinker", "done", thinking(snap(0.9, 40.0, 3.0), 0.2, 0.6, 300)),
        Entry("quick-thinker", "done", thinking(snap(0.5, 30.0, 2.0), 0.1, 0.3, 120)),
        Entry("plain", "done", snap(0.1, 50.0, 1.0)),
    ]
    assert [c.label for c in shown_columns(entries)] == [
        "TTFT", "TTFR", "reasoning", "reason tok", "chunks/s", "total"
    ]  # fmt: skip
    got = ranks(entries, shown_columns(entries))
    assert got[0]["TTFR"] == 2 and got[1]["TTFR"] == 1 and "TTFR" not in got[2]
    assert got[1]["reasoning"] == 1 and got[1]["reason tok"] == 1
    assert [c.label for c in shown_columns(entries[2:])] == ["TTFT", "chunks/s", "total"]
    lines = plain(build_table(entries, Style(), Style()))
    assert "TTFR" in lines[0] and "reason tok" in lines[0]
    assert "300 #2" in lines[1] and "120 #1" in lines[2]


def test_rows_follow_the_chosen_rank_and_the_chunks_column_follows_the_scope() -> None:
    entries = [
        Entry("slow-thinker", "done", thinking(snap(0.9, 40.0, 3.0), 0.2, 0.6, 300)),
        Entry("quick-thinker", "done", thinking(snap(0.5, 30.0, 2.0), 0.1, 0.3, 120)),
        Entry("failed", "error", snap(0.05, 50.0, 1.0)),
    ]
    by_ttfr = plain(build_table(entries, Style(), Style(), sort_by="TTFR"))
    assert [line.split()[0] for line in by_ttfr[1:]] == ["quick-thinker", "slow-thinker", "failed"]
    answer = plain(build_table(entries, Style(), Style()))
    every = plain(build_table(entries, Style(), Style(), chunk_scope="all"))
    assert " chunks " in answer[0] and "all chunks" in every[0]
    assert answer[1].split()[-3] == "3" and every[1].split()[-3] == "7"  # 3 answer + 4 reasoning


def test_a_narrow_box_leaves_columns_out_instead_of_cutting_them() -> None:
    entries = [
        Entry(
            "scripted:channels", "done", thinking(snap(0.013, 27000.0, 0.2), 0.00004, 0.0001, 18)
        ),
        Entry("swift", "done", snap(0.342, 46.6, 2.19)),
    ]
    wide = plain(build_table(entries, Style(), Style()))
    assert "tokens" in wide[0] and "state" in wide[0]
    narrow = plain(build_table(entries, Style(), Style(), width=76))
    assert all(len(line) <= 76 for line in narrow)
    head = narrow[0].split()
    assert head[:2] == ["provider", "TTFT"] and "chunks/s" in head and "total" in head
    assert "tokens" not in head and "state" not in head  # the first to go
    ranked = plain(build_table(entries, Style(), Style(), sort_by="reason tok", width=60))
    assert "reason tok" in ranked[0]  # the figure the rows are ordered by stays
    assert all(len(line) <= 60 for line in ranked)
