"""Plain-text formatting for what panes and the events log show (pure, no Textual).

Everything returned is plain ``str`` made inert with ``escape_controls``; widgets wrap it
in ``rich.text.Text`` and style whole spans, so no markup parser ever reads model text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ..core.inert import escape_controls
from ..core.metrics import MetricsSnapshot

if TYPE_CHECKING:
    from .channels import RunChannels

DASH = "–"


def duration(seconds: float | None) -> str:
    """``850ms``, ``1.25s``, ``12.5s``, ``2m05s``; ``–`` when unknown."""
    if seconds is None:
        return DASH
    if seconds < 0.0005:
        return f"{seconds * 1e6:.0f}µs"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 120:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def rate(per_s: float | None) -> str:
    if per_s is None:
        return DASH
    if per_s >= 10_000:
        return f"{per_s / 1000:.0f}k/s"
    if per_s >= 100:
        return f"{per_s:.0f}/s"
    return f"{per_s:.1f}/s"


ChunkScope = Literal["answer", "all"]


def side_chunks(snap: MetricsSnapshot) -> int:
    """The run's chunks on other channels than the answer (reasoning, tool calls, refusal)."""
    return snap.reasoning_chunks + snap.tool_call_chunks + snap.refusal_chunks


def counted_chunks(snap: MetricsSnapshot, scope: ChunkScope) -> int:
    """The chunk count ``scope`` asks for: the answer's, or every channel's."""
    return snap.chunks + side_chunks(snap) if scope == "all" else snap.chunks


def chunks_label(snap: MetricsSnapshot, scope: ChunkScope) -> str:
    """``chunks`` when the run streamed only an answer (both scopes agree); otherwise the
    label says which chunks are counted, so a count is never read as the other one."""
    if not side_chunks(snap):
        return "chunks"
    return "all chunks" if scope == "all" else "answer chunks"


def metrics_parts(snap: MetricsSnapshot, scope: ChunkScope = "answer") -> list[tuple[str, str]]:
    """(label, value) pairs for a pane's footer, in reading order."""
    parts = [
        ("TTFT", duration(snap.ttft_s)),
        (chunks_label(snap, scope), str(counted_chunks(snap, scope))),
        ("rate", rate(snap.chunks_per_s)),
        # one figure, so a narrow pane never puts "p95" on a line away from its "gap"
        ("gap p50/p95", f"{duration(snap.itl_p50_s)}/{duration(snap.itl_p95_s)}"),
        ("total", duration(snap.total_s)),
    ]
    if snap.token_source == "usage" and snap.tokens is not None:
        parts.append(("tokens", str(snap.tokens)))
    return parts


def _seconds(snap: MetricsSnapshot, name: str) -> float | None:
    """A figure the core may or may not have yet (``ttfr_s``, ``reasoning_s``: added to
    ``MetricsSnapshot`` with the side channels), read only when it is a number."""
    value = getattr(snap, name, None)
    return float(value) if isinstance(value, (int, float)) else None


def channel_metrics(
    channels: RunChannels, snap: MetricsSnapshot
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """What a run's other channels add to the metrics line: the time to the first
    reasoning chunk and how long the reasoning went on, first to last reasoning chunk (the
    core's figures when it has them, else the pane's own arrival stamps: the same
    definition), shown beside TTFT, which stays on the first answer chunk; and the usage
    details the provider reported (reasoning tokens, cached input
    tokens, cache creation)."""
    ttfr = _seconds(snap, "ttfr_s")
    thinking = _seconds(snap, "reasoning_s")
    first, last = channels.first_reasoning_ns, channels.last_reasoning_ns
    if first is not None and last is not None:
        ttfr = first / 1e9 if ttfr is None else ttfr
        thinking = (last - first) / 1e9 if thinking is None else thinking
    near: list[tuple[str, str]] = []
    if ttfr is not None:
        near.append(("TTFR", duration(ttfr)))
        if thinking is not None:
            near.append(("reasoning", duration(thinking)))
    return near, channels.usage_parts()


def quote(text: str, limit: int = 60) -> str:
    """``"text"`` on one line: controls escaped, newlines and tabs shown as ``\\n``/``\\t``,
    cut to ``limit`` characters with an ellipsis."""
    shown = escape_controls(text).replace("\n", "\\n").replace("\t", "\\t")
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return f'"{shown}"'


def _usage(usage: Mapping[str, Any] | None) -> str:
    if not usage:
        return ""
    inp = usage.get("input_tokens")
    out = usage.get("output_tokens")
    bits = []
    if inp is not None:
        bits.append(f"in={inp}")
    if out is not None:
        bits.append(f"out={out}")
    return " usage " + " ".join(bits) if bits else ""


def _message_bits(msg: Any, limit: int) -> str:
    """Compact form of an AIMessage(Chunk): its channel and text (``reasoning "..."``,
    ``refusal "..."``, ``tool_call name#0 "..."``, or the answer's ``"..."``), then whatever
    else it carries."""
    content = getattr(msg, "content", "")
    extra = getattr(msg, "additional_kwargs", None) or {}
    calls = getattr(msg, "tool_call_chunks", None) or getattr(msg, "tool_calls", None) or []
    bits: list[str] = []
    if content or not (extra or calls):
        text = content if isinstance(content, str) else repr(content)
        bits.append(quote(text, limit))
    if extra.get("reasoning_content"):
        bits.append("reasoning " + quote(str(extra["reasoning_content"]), limit))
    if extra.get("refusal") and extra["refusal"] != content:
        bits.append("refusal " + quote(str(extra["refusal"]), limit))
    elif extra.get("refusal"):
        bits[-1] = "refusal " + bits[-1]
    for call in calls[:2]:
        name = escape_controls(str(call.get("name") or ""))
        index = call.get("index")
        where = f"#{index}" if index is not None else ""
        bits.append(f"tool_call {name}{where} " + quote(str(call.get("args") or ""), limit))
    if len(calls) > 2:
        bits.append(f"+{len(calls) - 2} calls")
    out = " ".join(bits)
    meta = getattr(msg, "response_metadata", None) or {}
    if meta.get("finish_reason"):
        out += f" finish={escape_controls(str(meta['finish_reason']))}"
    out += _usage(getattr(msg, "usage_metadata", None))
    return out


def _input_bits(value: Any) -> str:
    if isinstance(value, str):
        return "input " + quote(value, 50)
    if isinstance(value, Sequence):
        items = list(value)
        if not items:
            return "input []"
        last = items[-1]
        content = getattr(last, "content", None)
        if content is None and isinstance(last, Mapping):
            content = last.get("content")
        head = f"input {len(items)} message{'s' if len(items) != 1 else ''}"
        return head + (", last " + quote(str(content), 40) if content is not None else "")
    return "input " + escape_controls(type(value).__name__)


def _output_bits(value: Any) -> str:
    if isinstance(value, str):
        return f"output {len(value)} chars " + quote(value, 40)
    if isinstance(value, Mapping) and "generations" in value:
        try:
            gen = value["generations"][0][0]
            text = gen.get("text", "")
            info = gen.get("generation_info") or {}
        except (IndexError, KeyError, TypeError, AttributeError):
            return "output ?"
        out = f"output {len(text)} chars " + quote(text, 40)
        if info.get("finish_reason"):
            out += f" finish={escape_controls(str(info['finish_reason']))}"
        return out
    content = getattr(value, "content", None)
    if isinstance(content, str):
        out = f"output {len(content)} chars " + quote(content, 40)
        out += _usage(getattr(value, "usage_metadata", None))
        return out
    return "output " + escape_controls(type(value).__name__)


def event_phase(name: str) -> str:
    """``start``, ``stream``, ``end`` or ``error`` for an event name (one of
    ``events_log.EVENT_PHASES``)."""
    if name.endswith("_stream"):
        return "stream"
    if name.endswith("_start"):
        return "start"
    if name.endswith("_end"):
        return "end"
    return "error"


def event_data(name: str, payload: Any) -> str:
    """The compact data column of an events-log line. ``payload`` is a stream event's text
    or chunk, or any other event's dict (see ``session.EventEntry``)."""
    phase = event_phase(name)
    if phase == "stream":
        if isinstance(payload, str):
            return quote(payload)
        return _message_bits(payload, 60)
    data = (payload.get("data") if isinstance(payload, Mapping) else None) or {}
    if phase == "start":
        return _input_bits(data.get("input"))
    if phase == "end":
        return _output_bits(data.get("output"))
    return escape_controls(str(data.get("error", "")))


def short_id(run_id: str) -> str:
    return run_id.replace("-", "")[:8] if run_id else "--------"


def relative(ns: int) -> str:
    """Seconds since the run started, fixed width: ``  0.230s``."""
    return f"{ns / 1e9:.3f}s".rjust(8)


def targets_line(names: Sequence[str], width: int) -> str:
    """The names a prompt goes to, as many as fit in ``width`` columns, then ``+N more``:
    never a name or a comma cut in the middle."""
    shown = [escape_controls(n) for n in names]
    for count in range(len(shown), 0, -1):
        rest = f", +{len(shown) - count} more" if count < len(shown) else ""
        line = ", ".join(shown[:count]) + rest
        if len(line) <= width:
            return line
    return f"{len(shown)} providers"[:width]


def fit_name(name: str, width: int) -> str:
    """``name`` in at most ``width`` columns: cut in the middle with ``…`` when longer, so
    names that share a start (``local-plain``, ``local-plain:2``) still read apart."""
    if len(name) <= width:
        return name
    if width < 3:
        return name[:width]
    tail = (width - 1) // 2
    return name[: width - 1 - tail] + "…" + name[len(name) - tail :]
