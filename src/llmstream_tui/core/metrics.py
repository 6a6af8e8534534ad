"""Stream timing, shared by the CLI, the app and the benchmarks.

Definitions (also in the README):

- **TTFB**: request start to the first response byte (headers count).
- **TTFT**: request start to the first chunk of answer text (non-empty ``content``); reasoning,
  tool calls and refusals do not count.
- **chunks**: answer-text chunks with non-empty text; **chunks/s** = (chunks - 1) /
  (t_last - t_first) (the rate once streaming, so a slow first token does not hide a fast
  stream; the first chunk opens the interval).
- **inter-chunk gaps**: time between consecutive chunks; p50/p90/p95/p99 from a log-bucket
  histogram (about 1% relative precision, constant memory however long the stream), max exact.
- **total**: request start to the end of the stream.
- **TPOT** = (t_last - t_first) / (tokens - 1) over the answer, tokens from the provider's usage
  when it reports it (``token_source = "usage"``; reasoning tokens, when reported, are taken
  out: they were not streamed in that span), else the chunk count (``"chunks"``).
- **TTFR**: request start to the first non-empty reasoning chunk.
- **reasoning time**: first to last non-empty reasoning chunk (0 for a single chunk); TTFT -
  TTFR is the wait from the first thought to the first word of the answer.
- **reasoning tokens**: the sum of ``output_token_details.reasoning`` over the run's usage
  deltas, None when the provider does not report it.
- **per-channel chunks**: ``reasoning_chunks`` (non-empty), ``tool_call_chunks`` (every
  tool-call delta), ``refusal_chunks`` (non-empty); ``chunks`` stays the answer's count.

Side channels are recorded by ``side`` (one call per reasoning, tool-call or refusal part);
answer text by ``chunk``, whose cost does not change with them.

All timestamps are ``time.perf_counter_ns()``: monotonic, nanoseconds.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left, bisect_right
from dataclasses import asdict, dataclass
from typing import Any

from .parts import REASONING, REFUSAL, TOOL_CALL

_SUB = 64  # buckets per power of two: ~1.1% relative width
#: Gaps a timeline holds before bucketing them at once (``GapHistogram.fold``): a bound on
#: its memory, and large enough that the folding costs far less than bucketing each gap.
PENDING_GAPS = 4096


class GapHistogram:
    """Log-bucketed histogram of durations in nanoseconds: O(1) add, bounded memory."""

    __slots__ = ("counts", "max_ns", "n")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.n = 0
        self.max_ns = 0

    def add(self, ns: int) -> None:
        # the bucket of ``math.frexp``'s mantissa, in integer arithmetic: exact, and the
        # cheapest form (this runs once per chunk)
        if ns > 0:
            e = ns.bit_length()
            key = e * _SUB + ((ns << 7) >> e) - _SUB
            if ns > self.max_ns:  # not max(): no builtin call per chunk
                self.max_ns = ns
        else:
            key = -1
        counts = self.counts
        counts[key] = counts.get(key, 0) + 1
        self.n += 1

    def fold(self, gaps: list[int]) -> None:
        """``add`` of every gap in ``gaps`` (sorted in place): the same buckets, count and
        maximum, with Python work per bucket touched rather than per gap (a gap costs its
        share of a C sort and of a binary search)."""
        gaps.sort()
        n = len(gaps)
        if not n:
            return
        counts = self.counts
        i = bisect_right(gaps, 0)
        if i:  # zero (and negative) gaps: ``add``'s key -1
            counts[-1] = counts.get(-1, 0) + i
        while i < n:
            ns = gaps[i]
            e = ns.bit_length()
            q = (ns << 7) >> e
            key = e * _SUB + q - _SUB
            # the smallest gap past this bucket (below 128 ns every value is its own)
            upper = (q + 1) << (e - 7) if e >= 7 else ns + 1
            j = bisect_left(gaps, upper, i)
            counts[key] = counts.get(key, 0) + (j - i)
            i = j
        if gaps[-1] > self.max_ns:
            self.max_ns = gaps[-1]
        self.n += n

    def with_gaps(self, gaps: list[int]) -> GapHistogram:
        """A new histogram: this one's counts and ``gaps`` (this one is left as it is)."""
        out = GapHistogram()
        out.counts = dict(self.counts)
        out.n, out.max_ns = self.n, self.max_ns
        out.fold(list(gaps))
        return out

    def quantile(self, q: float) -> float | None:
        """The q-quantile in seconds (bucket midpoint), or None when empty."""
        if not self.n:
            return None
        rank = max(1, math.ceil(q * self.n))
        seen = 0
        for key in sorted(self.counts):
            seen += self.counts[key]
            if seen >= rank:
                if key < 0:
                    return 0.0
                e, sub = divmod(key, _SUB)
                lo = math.ldexp(0.5 + sub / (2 * _SUB), e)
                hi = math.ldexp(0.5 + (sub + 1) / (2 * _SUB), e)
                return min((lo + hi) / 2, self.max_ns) / 1e9
        return self.max_ns / 1e9  # unreachable: ranks never exceed n


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    """The figures at one moment; every time in seconds, None when not yet known."""

    ttfb_s: float | None
    ttft_s: float | None
    total_s: float | None
    chunks: int
    chunks_per_s: float | None
    itl_p50_s: float | None
    itl_p90_s: float | None
    itl_p95_s: float | None
    itl_p99_s: float | None
    itl_max_s: float | None
    tokens: int | None
    token_source: str
    tpot_s: float | None
    #: Side channels (defaults: what a run without them reports).
    ttfr_s: float | None = None
    reasoning_s: float | None = None
    reasoning_chunks: int = 0
    reasoning_tokens: int | None = None
    tool_call_chunks: int = 0
    refusal_chunks: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class StreamTimeline:
    """Timestamps of one run. The runnable calls ``start``/``first_byte``/``chunk``/``finish``;
    anyone may call ``snapshot`` at any time (the app does, a few times a second)."""

    __slots__ = (
        "chunks",
        "clock",
        "end_ns",
        "first_byte_ns",
        "first_chunk_ns",
        "first_reasoning_ns",
        "first_text_ns",
        "gaps",
        "last_ns",
        "pending_gaps",
        "last_reasoning_ns",
        "last_side_ns",
        "reasoning_chunks",
        "reasoning_tokens",
        "refusal_chunks",
        "start_ns",
        "tool_call_chunks",
        "usage_tokens",
    )

    def __init__(self, clock: Any = time.perf_counter_ns) -> None:
        self.clock = clock
        self.start_ns: int | None = None
        self.first_byte_ns: int | None = None
        self.first_text_ns: int | None = None
        self.first_chunk_ns: int | None = None
        self.last_ns: int | None = None
        self.end_ns: int | None = None
        self.chunks = 0
        #: the gaps bucketed so far; ``pending_gaps`` (fewer than ``PENDING_GAPS``) are the
        #: later ones, bucketed in one go when they are that many (``snapshot`` reads both)
        self.gaps = GapHistogram()
        self.pending_gaps: list[int] = []
        self.usage_tokens: int | None = None
        self.first_reasoning_ns: int | None = None
        self.last_reasoning_ns: int | None = None
        #: when the latest reasoning, tool-call or refusal part arrived
        self.last_side_ns: int | None = None
        self.reasoning_chunks = 0
        self.tool_call_chunks = 0
        self.refusal_chunks = 0
        self.reasoning_tokens: int | None = None

    def start(self) -> None:
        self.start_ns = self.clock()

    def first_byte(self) -> None:
        if self.first_byte_ns is None:
            self.first_byte_ns = self.clock()

    def chunk(self, text: str) -> int:
        """Record a chunk arriving now; returns its timestamp (ns). A chunk with no text
        (OpenAI's role chunk, an empty delta) is not a chunk here: counting it would put a
        gap of zero, or of the whole wait, into the rate and the percentiles."""
        now: int = self.clock()
        last = self.last_ns
        if last is not None and text:  # every chunk but the first: the hot path
            pending = self.pending_gaps
            pending.append(now - last)  # bucketed by the thousand: 0.8 us a gap one by one
            if len(pending) >= PENDING_GAPS:
                self.gaps.fold(pending)
                pending.clear()
            self.last_ns = now
            self.chunks += 1
            return now
        if self.start_ns is None:
            self.start_ns = now
        if self.first_byte_ns is None:
            self.first_byte_ns = now
        if not text:
            return now
        self.first_chunk_ns = now
        if self.first_text_ns is None:
            self.first_text_ns = now
        self.last_ns = now
        self.chunks += 1
        return now

    def side(self, channel: str, text: str) -> int:
        """Record a reasoning, tool-call or refusal part arriving now; returns its timestamp
        (ns). It is not an answer chunk: TTFT, ``chunks``, the gaps and the rate stay the
        answer's. A part of another channel is only stamped."""
        now: int = self.clock()
        if self.start_ns is None:
            self.start_ns = now
        if self.first_byte_ns is None:
            self.first_byte_ns = now
        self.last_side_ns = now
        if channel == REASONING:
            if text:
                if self.first_reasoning_ns is None:
                    self.first_reasoning_ns = now
                self.last_reasoning_ns = now
                self.reasoning_chunks += 1
        elif channel == TOOL_CALL:
            self.tool_call_chunks += 1
        elif channel == REFUSAL and text:
            self.refusal_chunks += 1
        return now

    def add_usage(self, output_tokens: int | None, reasoning_tokens: int | None = None) -> None:
        """Add a usage delta: its output tokens and, when reported, its reasoning tokens
        (``output_token_details.reasoning``, part of the output tokens)."""
        if output_tokens is not None:
            self.usage_tokens = (self.usage_tokens or 0) + output_tokens
        if reasoning_tokens is not None:
            self.reasoning_tokens = (self.reasoning_tokens or 0) + reasoning_tokens

    def finish(self) -> None:
        if self.end_ns is None:
            self.end_ns = self.clock()

    def seconds_since_start(self, ns: int) -> float:
        return (ns - (self.start_ns if self.start_ns is not None else ns)) / 1e9

    def snapshot(self) -> MetricsSnapshot:
        start = self.start_ns
        now = self.end_ns if self.end_ns is not None else self.clock()

        def since(ns: int | None) -> float | None:
            return None if ns is None or start is None else (ns - start) / 1e9

        span = None
        if self.first_chunk_ns is not None and self.last_ns is not None:
            span = (self.last_ns - self.first_chunk_ns) / 1e9
        rate = (self.chunks - 1) / span if span and self.chunks > 1 else None
        tokens, source = (
            (self.usage_tokens, "usage") if self.usage_tokens else (self.chunks, "chunks")
        )
        answer_tokens = tokens
        if source == "usage" and self.reasoning_tokens and tokens:
            answer_tokens = tokens - self.reasoning_tokens
        tpot = span / (answer_tokens - 1) if span and answer_tokens and answer_tokens > 1 else None
        first_r, last_r = self.first_reasoning_ns, self.last_reasoning_ns
        g = self.gaps.with_gaps(self.pending_gaps) if self.pending_gaps else self.gaps
        return MetricsSnapshot(
            ttfb_s=since(self.first_byte_ns),
            ttft_s=since(self.first_text_ns),
            total_s=since(now) if start is not None else None,
            chunks=self.chunks,
            chunks_per_s=rate,
            itl_p50_s=g.quantile(0.50),
            itl_p90_s=g.quantile(0.90),
            itl_p95_s=g.quantile(0.95),
            itl_p99_s=g.quantile(0.99),
            itl_max_s=g.max_ns / 1e9 if g.n else None,
            tokens=tokens if self.chunks or self.usage_tokens else None,
            token_source=source,
            tpot_s=tpot,
            ttfr_s=since(first_r),
            reasoning_s=(last_r - first_r) / 1e9
            if first_r is not None and last_r is not None
            else None,
            reasoning_chunks=self.reasoning_chunks,
            reasoning_tokens=self.reasoning_tokens,
            tool_call_chunks=self.tool_call_chunks,
            refusal_chunks=self.refusal_chunks,
        )
