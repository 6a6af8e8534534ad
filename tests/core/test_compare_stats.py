"""core/compare_stats.py: per-request figures from a timeline, and exact group statistics
checked against values computed by hand."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from llmstream_tui.core.compare_stats import (
    GapTimeline,
    RequestRecord,
    distribution,
    percentile,
    record_from_timeline,
    summarise,
)
from llmstream_tui.core.parts import REASONING


def _clock(stamps_ms: list[int]) -> object:
    """A clock returning the given milliseconds (as ns), one per call."""
    it: Iterator[int] = iter(s * 1_000_000 for s in stamps_ms)
    return lambda: next(it)


def test_gap_timeline_keeps_every_answer_gap_and_the_reasoning_start() -> None:
    # start 0; reasoning at 50; text at 200, 250, 400; an empty chunk at 300; end at 500
    tl = GapTimeline(_clock([0, 50, 200, 250, 300, 400, 500]))
    tl.start()
    tl.side(REASONING, "hmm")
    tl.chunk("a")
    tl.chunk("b")
    tl.chunk("")
    tl.chunk("c")
    tl.finish()
    rec = record_from_timeline(
        tl, provider="p", level="c1", index=0, prompt_id="q", origin_ns=0, text="abc"
    )
    assert rec.inter_chunk_latency == pytest.approx([0.05, 0.15])
    assert rec.time_to_first_token == pytest.approx(0.05)  # reasoning counts (AIPerf TTFT)
    assert rec.time_to_first_output_token == pytest.approx(0.2)
    assert rec.time_to_first_reasoning_chunk == pytest.approx(0.05)
    assert rec.request_latency == pytest.approx(0.5)
    assert (rec.output_sequence_length, rec.token_source) == (3, "chunks")
    # (0.5 - 0.05) / (3 - 1)
    assert rec.inter_token_latency == pytest.approx(0.225)
    assert rec.output_token_throughput_per_user == pytest.approx(1 / 0.225)
    assert (rec.start_s, rec.end_s) == (0.0, 0.5)


def test_usage_tokens_win_over_chunks_and_are_labelled() -> None:
    tl = GapTimeline(_clock([0, 100, 200, 300]))
    tl.start()
    tl.chunk("one two")
    tl.chunk("three")
    tl.add_usage(5)
    tl.finish()
    rec = record_from_timeline(tl, provider="p", level="c1", index=0, prompt_id="q", origin_ns=0)
    assert (rec.output_sequence_length, rec.token_source) == (5, "usage")
    assert rec.inter_token_latency == pytest.approx((0.3 - 0.1) / 4)


def test_percentiles_interpolate_linearly_between_ranks() -> None:
    values = [0.1, 0.2, 0.3, 0.4]
    assert percentile(values, 50) == pytest.approx(0.25)
    assert percentile(values, 90) == pytest.approx(0.37)
    assert percentile(values, 99) == pytest.approx(0.397)
    assert percentile([7.0], 99) == 7.0
    d = distribution([0.4, 0.1, 0.3, 0.2])
    assert d is not None
    assert (d.count, d.min, d.max) == (4, 0.1, 0.4)
    assert d.avg == pytest.approx(0.25)
    assert d.std == pytest.approx(math.sqrt(0.0125))  # population std: ddof=0
    assert distribution([]) is None


def _rec(
    provider: str, start: float, ttft: float, latency: float, osl: int, **kw: object
) -> RequestRecord:
    return RequestRecord(
        provider=provider,
        level="c2",
        index=0,
        prompt_id="q",
        start_s=start,
        end_s=start + latency,
        time_to_first_token=ttft,
        time_to_first_output_token=ttft,
        request_latency=latency,
        output_sequence_length=osl,
        **kw,  # type: ignore[arg-type]
    )


def test_group_summary_counts_errors_by_kind_and_throughput_over_the_whole_span() -> None:
    records = [
        _rec("a", 0.0, 0.1, 1.0, 11, inter_chunk_latency=[0.09] * 10),
        _rec("a", 0.5, 0.3, 1.5, 21, inter_chunk_latency=[0.06] * 20),
        RequestRecord("a", "c2", 2, "q", 1.0, 1.2, ok=False, error_kind="timeout"),
        RequestRecord("a", "c2", 3, "q", 1.2, 1.3, ok=False, error_kind="timeout"),
        RequestRecord("a", "c2", 4, "q", 1.3, 4.0, ok=False, error_kind="http_status"),
        _rec("b", 0.0, 0.5, 2.0, 5),
    ]
    a, b = summarise(records)
    assert (a.provider, b.provider) == ("a", "b")
    assert (a.request_count, a.error_request_count) == (2, 3)
    assert a.errors == {"http_status": 1, "timeout": 2}
    assert a.benchmark_duration == pytest.approx(4.0)  # 0.0 -> 4.0, failures included
    assert a.request_throughput == pytest.approx(2 / 4.0)
    assert a.output_token_throughput == pytest.approx(32 / 4.0)
    ttft = a.metrics["time_to_first_token"]
    assert ttft is not None and ttft.count == 2 and ttft.avg == pytest.approx(0.2)
    icl = a.metrics["inter_chunk_latency"]  # pooled over both requests' 30 gaps
    assert icl is not None and icl.count == 30
    assert icl.avg == pytest.approx((10 * 0.09 + 20 * 0.06) / 30)
    assert icl.p50 == pytest.approx(0.06) and icl.max == pytest.approx(0.09)
    itl = a.metrics["inter_token_latency"]  # (0.9 / 10, 1.2 / 20)
    assert itl is not None and itl.avg == pytest.approx((0.09 + 0.06) / 2)
    assert a.metrics["time_to_first_reasoning_chunk"] is None
    assert b.request_count == 1 and b.errors == {}
    assert b.to_dict()["metrics"]["request_latency"]["p99"] == pytest.approx(2.0)


def _group(provider: str, ttft_p50: float, rps: float, ok: int, errors: int) -> dict[str, object]:
    return {
        "provider": provider,
        "level": "c1",
        "request_count": ok,
        "error_request_count": errors,
        "request_throughput": rps,
        "metrics": {"time_to_first_token": {"p50": ttft_p50, "p99": ttft_p50 * 2}},
    }


def test_baseline_changes_flag_what_got_worse_beyond_the_threshold() -> None:
    from llmstream_tui.core.compare_stats import compare_to_baseline

    old = [_group("a", 0.200, 10.0, 10, 0), _group("b", 0.5, 2.0, 10, 0)]
    new = [_group("a", 0.230, 9.5, 9, 1), _group("b", 0.5, 2.0, 10, 0), _group("c", 1, 1, 1, 0)]
    changes = {(c.provider, c.metric): c for c in compare_to_baseline(new, old, 0.10)}
    ttft = changes[("a", "time_to_first_token.p50")]
    assert (ttft.old, ttft.new) == (0.2, 0.23) and ttft.change == pytest.approx(0.15)
    assert ttft.regression  # 15% slower > 10%
    rps = changes[("a", "request_throughput")]
    assert rps.change == pytest.approx(-0.05) and not rps.regression  # 5% fewer: within
    errors = changes[("a", "error_rate")]
    assert (errors.old, errors.new, errors.change) == (0.0, 0.1, None)
    assert not errors.regression  # +0.1 is not beyond 0.10 (absolute for a rate)
    assert not any(c.regression for c in changes.values() if c.provider == "b")
    assert not any(c.provider == "c" for c in changes.values())  # not in the baseline
    # higher is better for throughput: a drop beyond the threshold is a regression
    slow = compare_to_baseline([_group("a", 0.2, 8.0, 10, 0)], old[:1], 0.10)
    assert [c.metric for c in slow if c.regression] == ["request_throughput"]
