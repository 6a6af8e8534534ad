from __future__ import annotations

import random

from llmstream_tui.core.metrics import PENDING_GAPS, GapHistogram, StreamTimeline


class FakeClock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


def test_histogram_quantiles_within_two_percent_of_exact() -> None:
    rng = random.Random(7)
    values = [int(rng.lognormvariate(16, 1.2)) for _ in range(20_000)]
    h = GapHistogram()
    for v in values:
        h.add(v)
    exact = sorted(values)
    for q in (0.5, 0.9, 0.95, 0.99):
        want = exact[max(0, int(q * len(exact) + 0.999999) - 1)] / 1e9
        got = h.quantile(q)
        assert got is not None and abs(got - want) / want < 0.02
    assert h.max_ns == max(values)


def test_histogram_memory_is_bounded_by_range_not_count() -> None:
    h = GapHistogram()
    for i in range(200_000):
        h.add(1_000_000 + (i % 1000))
    assert len(h.counts) < 10


def test_empty_histogram_and_zero_gaps() -> None:
    h = GapHistogram()
    assert h.quantile(0.5) is None
    h.add(0)
    assert h.quantile(0.5) == 0.0


def test_timeline_definitions_with_a_fixed_clock() -> None:
    clock = FakeClock()
    t = StreamTimeline(clock=clock)
    t.start()
    clock.now = 100_000_000
    t.first_byte()
    clock.now = 150_000_000
    t.chunk("")  # empty (a role chunk): neither TTFT nor a chunk
    clock.now = 200_000_000
    t.chunk("Hello")  # TTFT
    clock.now = 300_000_000
    t.chunk(" world")
    clock.now = 350_000_000
    t.chunk("!")
    clock.now = 400_000_000
    t.finish()
    s = t.snapshot()
    assert s.ttfb_s == 0.1
    assert s.ttft_s == 0.2
    assert s.total_s == 0.4
    assert s.chunks == 3
    assert s.chunks_per_s == 2 / 0.15
    assert s.itl_max_s == 0.1
    assert s.tokens == 3 and s.token_source == "chunks"
    assert s.tpot_s == 0.15 / 2


def test_usage_tokens_take_precedence_for_tpot() -> None:
    clock = FakeClock()
    t = StreamTimeline(clock=clock)
    t.start()
    t.chunk("a")
    clock.now = 1_000_000_000
    t.chunk("b")
    t.add_usage(11)
    s = t.snapshot()
    assert s.tokens == 11 and s.token_source == "usage"
    assert s.tpot_s == 0.1


def test_side_channels_leave_ttft_and_answer_chunks_alone() -> None:
    clock = FakeClock()
    t = StreamTimeline(clock=clock)
    t.start()
    clock.now = 100_000_000
    t.side("reasoning", "Let")  # TTFR
    clock.now = 150_000_000
    t.side("reasoning", "")  # an empty delta: stamped, not counted
    clock.now = 400_000_000
    t.side("reasoning", " me think")  # the last reasoning chunk
    clock.now = 450_000_000
    t.side("tool_call", "")
    t.side("refusal", "no")
    clock.now = 500_000_000
    t.chunk("Answer")  # TTFT
    clock.now = 600_000_000
    t.chunk("!")
    t.finish()
    s = t.snapshot()
    assert s.ttfb_s == 0.1
    assert s.ttft_s == 0.5
    assert s.ttfr_s == 0.1
    assert s.reasoning_s == 0.3
    assert (s.chunks, s.reasoning_chunks, s.tool_call_chunks, s.refusal_chunks) == (2, 2, 1, 1)
    assert s.itl_max_s == 0.1  # the answer's one gap, not the reasoning's
    assert s.chunks_per_s == 1 / 0.1
    assert t.last_side_ns == 450_000_000


def test_no_reasoning_means_none_not_zero() -> None:
    t = StreamTimeline(clock=FakeClock())
    t.start()
    t.chunk("a")
    s = t.snapshot()
    assert (s.ttfr_s, s.reasoning_s, s.reasoning_tokens, s.reasoning_chunks) == (
        None,
        None,
        None,
        0,
    )
    assert s.to_dict()["reasoning_tokens"] is None


def test_reasoning_tokens_add_up_and_are_left_out_of_tpot() -> None:
    clock = FakeClock()
    t = StreamTimeline(clock=clock)
    t.start()
    t.chunk("a")
    clock.now = 1_000_000_000
    t.chunk("b")
    t.add_usage(8, 5)
    t.add_usage(3, 1)  # usage deltas add up
    s = t.snapshot()
    assert s.tokens == 11 and s.reasoning_tokens == 6
    assert s.tpot_s == 1.0 / (11 - 6 - 1)  # 5 answer tokens in the answer's span


def test_timeline_gaps_are_the_histogram_of_its_chunk_gaps_exactly() -> None:
    """``chunk`` keeps gaps pending and buckets them by the thousand (``fold``): the same
    buckets, count and maximum as ``GapHistogram.add`` on the same gaps, zero gaps and
    gaps below 128 ns included, and the same percentiles in a snapshot taken with gaps
    still pending."""
    rng = random.Random(11)
    gaps = [0, 0, 1, 2, 3, 127, 128, 129, 255, 256, 257, 1 << 40, (1 << 40) + 1]
    gaps += [int(rng.lognormvariate(14, 2)) for _ in range(2 * PENDING_GAPS + 77)]
    gaps += [rng.choice((0, 1, 64, 127, 128)) for _ in range(500)]
    clock = FakeClock()
    t = StreamTimeline(clock=clock)
    t.chunk("first")
    for gap in gaps:
        clock.now += gap
        t.chunk("x")
    reference = GapHistogram()
    for gap in gaps:
        reference.add(gap)
    assert 0 < len(t.pending_gaps) < PENDING_GAPS  # two folds done, the rest pending
    merged = t.gaps.with_gaps(t.pending_gaps)
    assert merged.counts == reference.counts
    assert (merged.n, merged.max_ns) == (reference.n, reference.max_ns)
    pending = list(t.pending_gaps)
    snap = t.snapshot()
    assert t.pending_gaps == pending  # a snapshot reads them, it folds nothing
    for q, got in ((0.5, snap.itl_p50_s), (0.9, snap.itl_p90_s), (0.99, snap.itl_p99_s)):
        assert got == reference.quantile(q)
    assert snap.itl_max_s == reference.max_ns / 1e9
