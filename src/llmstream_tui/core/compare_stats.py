"""Statistics of a comparison: many requests, several providers, one or more load levels.

``compare`` (issue 18) sends the same prompts to several providers many times; one stream
is an anecdote, these are the distributions. Everything here is pure (no I/O, no clock of
its own): the runner hands in one :class:`RequestRecord` per finished request and asks
:func:`summarise` for the figures, so they can be checked against hand-computed values.

Metric names and definitions follow NVIDIA AIPerf (genai-perf's successor) where it has
one, so a user can put our numbers beside theirs; every time is in seconds here (AIPerf
reports milliseconds). Per request:

- ``time_to_first_token``: request start to the first non-empty content chunk, reasoning
  included (AIPerf's TTFT).
- ``time_to_first_output_token``: request start to the first chunk of answer text
  (AIPerf's TTFO; the TTFT of ``core/metrics.py`` and of the stream panes).
- ``time_to_first_reasoning_chunk``: request start to the first non-empty reasoning chunk
  (ours; absent for a model that does not stream its reasoning).
- ``inter_chunk_latency``: every gap between consecutive answer chunks (a list per
  request; its statistics pool the gaps of all requests).
- ``request_latency``: request start to the end of the stream.
- ``output_sequence_length``: output tokens, the provider's usage when it reports it,
  else the number of answer chunks; ``token_source`` says which (``usage`` or ``chunks``).
- ``inter_token_latency``: (``request_latency`` - ``time_to_first_token``) /
  (``output_sequence_length`` - 1); absent below two tokens.
- ``output_token_throughput_per_user``: 1 / ``inter_token_latency`` (tokens/s once the
  answer streams).

Per provider and level (:class:`GroupSummary`): ``request_count`` (successful requests),
``error_request_count`` and ``errors`` by kind (``ProviderError.kind``: ``timeout``,
``http_status``...), ``benchmark_duration`` (first request start to last request end, all
requests counted), ``request_throughput`` = ``request_count`` / ``benchmark_duration`` and
``output_token_throughput`` = the sum of ``output_sequence_length`` / ``benchmark_duration``.

Each distribution reports ``avg``, ``min``, ``max``, ``p50``, ``p90``, ``p99`` and ``std``:
percentiles by linear interpolation between the closest ranks (numpy's default, AIPerf's
too), ``std`` the population standard deviation (numpy's default, ``ddof=0``). They are
exact, computed from the raw values: a merge of several runs recomputes them from the
requests, never by averaging percentiles.

``compare_to_baseline`` sets a run beside an earlier one (``compare --baseline``): each
checked figure's relative change, and whether it got worse beyond a threshold.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from .metrics import StreamTimeline

__all__ = [
    "BASELINE_CHECKS",
    "DISTRIBUTIONS",
    "STAT_NAMES",
    "Change",
    "Distribution",
    "GapTimeline",
    "GroupSummary",
    "RequestRecord",
    "compare_to_baseline",
    "distribution",
    "percentile",
    "record_from_timeline",
    "summarise",
]

#: The per-request metrics that get a distribution, in the order tables show them.
DISTRIBUTIONS: Final = (
    "time_to_first_token",
    "time_to_first_output_token",
    "time_to_first_reasoning_chunk",
    "inter_chunk_latency",
    "inter_token_latency",
    "request_latency",
    "output_sequence_length",
    "output_token_throughput_per_user",
)
#: The figures of every distribution.
STAT_NAMES: Final = ("avg", "min", "max", "p50", "p90", "p99", "std")


class GapTimeline(StreamTimeline):
    """A ``StreamTimeline`` that also keeps every answer chunk's timestamp.

    ``StreamTimeline`` folds the gaps into a histogram (constant memory for one endless
    stream); a comparison needs the exact gaps of every request for its pooled
    percentiles and CDF plots, so this one appends each stamp to a list: one append per
    chunk, the same clock reading as the timeline's own, so gaps and TTFT agree."""

    __slots__ = ("text_ns",)

    def __init__(self, clock: Any = None) -> None:
        if clock is None:
            super().__init__()
        else:
            super().__init__(clock)
        self.text_ns: list[int] = []

    def chunk(self, text: str) -> int:
        now = super().chunk(text)
        if text:
            self.text_ns.append(now)
        return now


@dataclass(slots=True)
class RequestRecord:
    """One request of a comparison, finished (successfully or not). Times in seconds;
    ``start_s``/``end_s`` count from the run's own origin (any common clock)."""

    provider: str
    level: str
    index: int
    prompt_id: str
    start_s: float
    end_s: float
    ok: bool = True
    error_kind: str | None = None
    error_message: str | None = None
    time_to_first_token: float | None = None
    time_to_first_output_token: float | None = None
    time_to_first_reasoning_chunk: float | None = None
    inter_chunk_latency: list[float] = field(default_factory=list)
    request_latency: float | None = None
    output_sequence_length: int | None = None
    token_source: str = "chunks"
    text: str = ""

    @property
    def inter_token_latency(self) -> float | None:
        ttft, latency, osl = (
            self.time_to_first_token,
            self.request_latency,
            self.output_sequence_length,
        )
        if ttft is None or latency is None or osl is None or osl < 2:
            return None
        return (latency - ttft) / (osl - 1)

    @property
    def output_token_throughput_per_user(self) -> float | None:
        itl = self.inter_token_latency
        return 1.0 / itl if itl else None

    def values(self, metric: str) -> list[float]:
        """The values ``metric`` contributes to its distribution (none when unknown)."""
        if metric == "inter_chunk_latency":
            return self.inter_chunk_latency
        value = getattr(self, metric)
        return [] if value is None else [float(value)]

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, shift_s: float = 0.0) -> RequestRecord:
        """A record read back from ``to_dict``'s form (``summary.json``), its times moved by
        ``shift_s`` (to put runs of several processes on one clock). Derived figures
        (``inter_token_latency``...) are recomputed, never read. ``KeyError``/``TypeError``/
        ``ValueError`` for a malformed entry."""

        def opt(key: str) -> float | None:
            value = data.get(key)
            return None if value is None else float(value)

        osl = data.get("output_sequence_length")
        return cls(
            provider=str(data["provider"]),
            level=str(data["level"]),
            index=int(data["index"]),
            prompt_id=str(data["prompt_id"]),
            start_s=float(data["start_s"]) + shift_s,
            end_s=float(data["end_s"]) + shift_s,
            ok=bool(data["ok"]),
            error_kind=data.get("error_kind"),
            error_message=data.get("error_message"),
            time_to_first_token=opt("time_to_first_token"),
            time_to_first_output_token=opt("time_to_first_output_token"),
            time_to_first_reasoning_chunk=opt("time_to_first_reasoning_chunk"),
            inter_chunk_latency=[float(g) for g in data.get("inter_chunk_latency") or []],
            request_latency=opt("request_latency"),
            output_sequence_length=None if osl is None else int(osl),
            token_source=str(data.get("token_source", "chunks")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "level": self.level,
            "index": self.index,
            "prompt_id": self.prompt_id,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "ok": self.ok,
            "error_kind": self.error_kind,
            "error_message": self.error_message,
            "time_to_first_token": self.time_to_first_token,
            "time_to_first_output_token": self.time_to_first_output_token,
            "time_to_first_reasoning_chunk": self.time_to_first_reasoning_chunk,
            "inter_chunk_latency": self.inter_chunk_latency,
            "inter_token_latency": self.inter_token_latency,
            "request_latency": self.request_latency,
            "output_sequence_length": self.output_sequence_length,
            "token_source": self.token_source,
            "output_token_throughput_per_user": self.output_token_throughput_per_user,
        }


def record_from_timeline(
    timeline: GapTimeline,
    *,
    provider: str,
    level: str,
    index: int,
    prompt_id: str,
    origin_ns: int,
    text: str = "",
    error: tuple[str, str] | None = None,
) -> RequestRecord:
    """The record of one request from its timeline (``error``: its kind and message)."""
    snap = timeline.snapshot()
    start = timeline.start_ns if timeline.start_ns is not None else origin_ns
    end = timeline.end_ns if timeline.end_ns is not None else start
    stamps = timeline.text_ns
    gaps = [(b - a) / 1e9 for a, b in zip(stamps, stamps[1:], strict=False)]
    firsts = [t for t in (snap.ttft_s, snap.ttfr_s) if t is not None]
    return RequestRecord(
        provider=provider,
        level=level,
        index=index,
        prompt_id=prompt_id,
        start_s=(start - origin_ns) / 1e9,
        end_s=(end - origin_ns) / 1e9,
        ok=error is None,
        error_kind=error[0] if error else None,
        error_message=error[1] if error else None,
        time_to_first_token=min(firsts) if firsts else None,
        time_to_first_output_token=snap.ttft_s,
        time_to_first_reasoning_chunk=snap.ttfr_s,
        inter_chunk_latency=gaps,
        request_latency=snap.total_s,
        output_sequence_length=snap.tokens,
        token_source=snap.token_source,
        text=text,
    )


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` percentile (0-100) of sorted values, by linear interpolation between the
    closest ranks (numpy's default method)."""
    if not ordered:
        raise ValueError("percentile of no values")
    pos = (len(ordered) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True, slots=True)
class Distribution:
    """The figures of one metric over a group's requests."""

    count: int
    avg: float
    min: float
    max: float
    p50: float
    p90: float
    p99: float
    std: float

    def to_dict(self) -> dict[str, float | int]:
        return {
            "count": self.count,
            "avg": self.avg,
            "min": self.min,
            "max": self.max,
            "p50": self.p50,
            "p90": self.p90,
            "p99": self.p99,
            "std": self.std,
        }


def distribution(values: Iterable[float]) -> Distribution | None:
    """Exact statistics of ``values``; None when there are none."""
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return None
    mean = math.fsum(ordered) / n
    var = math.fsum((v - mean) ** 2 for v in ordered) / n
    return Distribution(
        count=n,
        avg=mean,
        min=ordered[0],
        max=ordered[-1],
        p50=percentile(ordered, 50),
        p90=percentile(ordered, 90),
        p99=percentile(ordered, 99),
        std=math.sqrt(var),
    )


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """One provider at one load level."""

    provider: str
    level: str
    request_count: int
    error_request_count: int
    errors: dict[str, int]
    benchmark_duration: float | None
    request_throughput: float | None
    output_token_throughput: float | None
    token_source: str
    metrics: dict[str, Distribution | None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "level": self.level,
            "request_count": self.request_count,
            "error_request_count": self.error_request_count,
            "errors": dict(self.errors),
            "benchmark_duration": self.benchmark_duration,
            "request_throughput": self.request_throughput,
            "output_token_throughput": self.output_token_throughput,
            "token_source": self.token_source,
            "metrics": {k: (d.to_dict() if d else None) for k, d in self.metrics.items()},
        }


def _summarise_group(provider: str, level: str, records: list[RequestRecord]) -> GroupSummary:
    ok = [r for r in records if r.ok]
    errors = Counter(r.error_kind or "internal" for r in records if not r.ok)
    duration = None
    if records:
        duration = max(r.end_s for r in records) - min(r.start_s for r in records)
    tokens = sum(r.output_sequence_length or 0 for r in ok)
    sources = {r.token_source for r in ok if r.output_sequence_length is not None}
    source = "usage" if sources == {"usage"} else ("chunks" if sources <= {"chunks"} else "mixed")
    rate = len(ok) / duration if duration else None
    return GroupSummary(
        provider=provider,
        level=level,
        request_count=len(ok),
        error_request_count=sum(errors.values()),
        errors=dict(sorted(errors.items())),
        benchmark_duration=duration,
        request_throughput=rate,
        output_token_throughput=tokens / duration if duration else None,
        token_source=source,
        metrics={m: distribution(v for r in ok for v in r.values(m)) for m in DISTRIBUTIONS},
    )


def summarise(records: Iterable[RequestRecord]) -> list[GroupSummary]:
    """One summary per (provider, level), in the order each group first appears."""
    groups: dict[tuple[str, str], list[RequestRecord]] = {}
    for record in records:
        groups.setdefault((record.provider, record.level), []).append(record)
    return [_summarise_group(p, lv, rs) for (p, lv), rs in groups.items()]


#: What a baseline comparison checks: (metric, statistic, True when higher is better). A
#: statistic of None is a group figure (``request_throughput``...).
BASELINE_CHECKS: Final = (
    ("time_to_first_token", "p50", False),
    ("time_to_first_token", "p99", False),
    ("inter_chunk_latency", "p50", False),
    ("inter_chunk_latency", "p99", False),
    ("request_latency", "p50", False),
    ("request_latency", "p99", False),
    ("output_token_throughput_per_user", "p50", True),
    ("request_throughput", None, True),
    ("output_token_throughput", None, True),
    ("error_rate", None, False),
)


@dataclass(frozen=True, slots=True)
class Change:
    """One figure of one group, against the baseline's. ``change`` is relative
    ((new - old) / old; None when old is 0); a regression is a change for the worse beyond
    the threshold."""

    provider: str
    level: str
    metric: str
    old: float
    new: float
    change: float | None
    regression: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "level": self.level,
            "metric": self.metric,
            "old": self.old,
            "new": self.new,
            "change": self.change,
            "regression": self.regression,
        }


def _figure(group: dict[str, Any], metric: str, stat: str | None) -> float | None:
    if metric == "error_rate":
        total = group.get("request_count", 0) + group.get("error_request_count", 0)
        return group.get("error_request_count", 0) / total if total else None
    if stat is None:
        value = group.get(metric)
    else:
        dist = (group.get("metrics") or {}).get(metric)
        value = dist.get(stat) if isinstance(dist, dict) else None
    return float(value) if isinstance(value, int | float) else None


def compare_to_baseline(
    groups: Sequence[dict[str, Any]], baseline: Sequence[dict[str, Any]], threshold: float
) -> list[Change]:
    """Each checked figure of every group present in both (as ``GroupSummary.to_dict()``
    writes them: a ``summary.json`` read back), in the groups' order. ``threshold`` is
    relative (0.1: 10% worse is a regression); an error rate counts as a regression when
    it rises by more than ``threshold`` in absolute terms (from 0 any rise would be
    infinitely worse)."""
    old_by_key = {(g.get("provider"), g.get("level")): g for g in baseline}
    out: list[Change] = []
    for group in groups:
        old_group = old_by_key.get((group.get("provider"), group.get("level")))
        if old_group is None:
            continue
        for metric, stat, higher_better in BASELINE_CHECKS:
            new, old = _figure(group, metric, stat), _figure(old_group, metric, stat)
            if new is None or old is None:
                continue
            change = (new - old) / old if old else None
            worse = (old - new) if higher_better else (new - old)
            if metric == "error_rate":
                regression = worse > threshold
            else:
                regression = worse > 0 and (old == 0 or worse / abs(old) > threshold)
            name = metric if stat is None else f"{metric}.{stat}"
            out.append(
                Change(
                    str(group["provider"]),
                    str(group["level"]),
                    name,
                    old,
                    new,
                    change,
                    regression,
                )
            )
    return out
