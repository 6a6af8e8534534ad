"""Exporting a saved session: Markdown to read and share, JSON lines to replay.

Markdown has one section per provider (per turn when there are several), each with the
answer and a metrics table. Prompts and answers are untrusted text: control and invisible
characters are made visible (``core.inert``), so printing the file cannot drive a terminal.
The answer itself is kept as Markdown (models answer in Markdown), not fenced.

JSON lines is the recording format (``recording.py``), streamed from the database in
constant memory; ``replay:FILE`` plays it back. Event lines are not kept in the history,
so an export has none.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

from ..core.inert import escape_controls
from ..core.recording import dump_line
from .history import History
from .records import ProviderRecord, RunRecord, SessionRecord

#: (metrics key, column title, format) of the Markdown metrics table.
METRIC_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("ttft_s", "TTFT", "{:.3f} s"),
    ("total_s", "total", "{:.3f} s"),
    ("chunks", "chunks", "{}"),
    ("chunks_per_s", "chunks/s", "{:.1f}"),
    ("itl_p50_s", "gap p50", "{:.4f} s"),
    ("itl_p95_s", "gap p95", "{:.4f} s"),
    ("tokens", "tokens", "{}"),
)


def _when(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _describe(p: ProviderRecord | None) -> str:
    if p is None:
        return ""
    s = p.settings
    bits = [str(s.get("kind") or "?")]
    if s.get("model"):
        bits.append(str(s["model"]))
    if s.get("base_url"):
        bits.append(str(s["base_url"]))
    return " · ".join(escape_controls(b) for b in bits)


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in escape_controls(text).split("\n"))


def _metrics_table(run: RunRecord) -> list[str]:
    metrics: Mapping[str, Any] = run.metrics or {}
    heads = [title for _, title, _ in METRIC_COLUMNS] + ["stop reason"]
    cells = []
    for key, _, fmt in METRIC_COLUMNS:
        value = metrics.get(key)
        cells.append("–" if value is None else fmt.format(value))
    cells.append(escape_controls(run.finish_reason) if run.finish_reason else "–")
    lines = [
        "| " + " | ".join(heads) + " |",
        "|" + "---|" * len(heads),
        "| " + " | ".join(cells) + " |",
    ]
    if run.usage:
        usage = ", ".join(f"{k} {v}" for k, v in run.usage.items() if not isinstance(v, dict))
        lines += ["", f"Usage: {usage}"]
    return lines


def _run_section(record: SessionRecord, run: RunRecord, level: str) -> list[str]:
    head = f"{level} {escape_controls(run.provider)}"
    described = _describe(record.provider(run.provider))
    if described:
        head += f" ({described})"
    out = [head, ""]
    if run.status != "done":
        status = {
            "error": "failed",
            "cancelled": "cancelled",
            "interrupted": "interrupted (the app stopped mid-stream)",
            "streaming": "still streaming when exported",
        }.get(run.status, run.status)
        line = f"**{status}**"
        if run.error and run.error.get("message"):
            line += f": {escape_controls(str(run.error['message']))}"
        out += [line, ""]
    out += [escape_controls(run.text) if run.text else "*(no text)*", ""]
    out += _metrics_table(run)
    out.append("")
    return out


def export_markdown(history: History, ref: int | str) -> str:
    """The session as a Markdown document."""
    record = history.load(ref)
    title = escape_controls(record.title) or "(untitled session)"
    names = ", ".join(escape_controls(p.name) for p in record.providers) or "none"
    about = f"Session {record.id} (`{record.uid}`), {_when(record.created)}. Providers: {names}."
    out = [f"# {title}", "", about, ""]
    many = len(record.prompts) > 1
    for turn, prompt in enumerate(record.prompts):
        level = "###" if many else "##"
        if many:
            out += [f"## Turn {turn + 1}", ""]
        out += ["**Prompt**", "", _quote(prompt), ""]
        for run in record.runs:
            if run.turn == turn:
                out += _run_section(record, run, level)
    return "\n".join(out).rstrip("\n") + "\n"


def export_jsonl(history: History, ref: int | str, out: TextIO) -> int:
    """Write the session to ``out`` as a recording; returns the number of lines."""
    n = 0
    buf: list[str] = []
    for line in history.export_lines(ref):
        buf.append(dump_line(line))
        n += 1
        if len(buf) >= 2048:
            out.write("\n".join(buf) + "\n")
            buf.clear()
    if buf:
        out.write("\n".join(buf) + "\n")
    return n


def iter_jsonl(history: History, ref: int | str) -> Iterator[str]:
    """The recording's lines (with their newline), for callers writing elsewhere."""
    for line in history.export_lines(ref):
        yield dump_line(line) + "\n"


__all__ = ["export_jsonl", "export_markdown", "iter_jsonl"]
