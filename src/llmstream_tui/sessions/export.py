"""Exporting a saved session: Markdown to read and share, JSON lines to replay.

Markdown has one section per provider (per turn when there are several), each with the
answer and a metrics table. Prompts and answers are untrusted text: control and invisible
characters are made visible (``core.inert``), so printing the file cannot drive a terminal.
The answer itself is kept as Markdown (models answer in Markdown), not fenced. What else the
run streamed comes with it: the reasoning first, in a ``<details><summary>Reasoning``
block (collapsed where Markdown renders HTML); each tool call as a fenced JSON block under
its name and id (flagged when its arguments are not valid JSON); a refusal labelled as one.

JSON lines is the recording format (``recording.py``), streamed from the database in
constant memory; ``replay:FILE`` plays it back. Event lines are not kept in the history,
so an export has none.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TextIO

from ..core.inert import escape_controls
from ..core.message_io import arguments_json
from ..core.messages import parse_tool_args
from ..core.recording import dump_line
from ..core.redaction import mask_urls
from .history import History
from .records import ProviderRecord, RunRecord, SessionRecord
from .side_channels import SideChannels

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
    # masked again: a recording written before URLs were masked may carry credentials
    return " · ".join(escape_controls(mask_urls(b)) for b in bits)


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
        for key, value in run.usage.items():
            if isinstance(value, dict) and value:
                details = ", ".join(f"{k} {v}" for k, v in value.items())
                usage += f"; {key}: {details}"
        lines += ["", f"Usage: {usage}"]
    reasoning = [
        f"{title} {fmt.format(metrics[key])}"
        for key, title, fmt in (
            ("ttfr_s", "first reasoning chunk at", "{:.3f} s"),
            ("reasoning_s", "reasoning for", "{:.3f} s"),
            ("reasoning_tokens", "reasoning tokens", "{}"),
        )
        if metrics.get(key) is not None
    ]
    if reasoning:
        lines += ["", "Reasoning: " + ", ".join(reasoning)]
    return lines


def _fence(text: str, lang: str) -> list[str]:
    """``text`` in a code fence longer than any run of backticks inside it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + lang, text, fence]


def _side_sections(side: SideChannels) -> tuple[list[str], list[str]]:
    """(what goes before the answer: the reasoning; after it: tool calls, refusal)."""
    return side_markdown(side.reasoning, side.tool_calls, side.refusal)


def side_markdown(
    reasoning: str,
    tool_calls: Sequence[Mapping[str, Any]],
    refusal: str | None,
    *,
    collapsible: bool = True,
) -> tuple[list[str], list[str]]:
    """Markdown lines for what an answer streamed besides its text: (before the answer: the
    reasoning, in a ``<details>`` block when ``collapsible``, else under a bold label for
    renderers without HTML; after it: each tool call, its ``args`` a string as streamed or
    parsed arguments, and the refusal). Shared by exports and the app's Markdown view."""
    before: list[str] = []
    if reasoning:
        if collapsible:
            # a closing tag in the model's text must not end the block early
            text = re.sub(r"(?i)</details", "&lt;/details", escape_controls(reasoning))
            before += ["<details><summary>Reasoning</summary>", "", text, "", "</details>", ""]
        else:
            before += ["**Reasoning**", "", _quote(reasoning), ""]
    after: list[str] = []
    for call in tool_calls:
        name = escape_controls(str(call.get("name") or "?"))
        head = f"**Tool call** `{name}`"
        if call.get("id"):
            head += f" (id `{escape_controls(str(call['id']))}`)"
        raw = call.get("args") or ""
        if not isinstance(raw, str):
            raw = arguments_json(raw)
        args, valid = parse_tool_args(raw)
        if valid:
            after += [head, "", *_fence(json.dumps(args, indent=2, ensure_ascii=False), "json"), ""]
        else:
            after += [
                head + ", arguments not valid JSON:",
                "",
                *_fence(escape_controls(raw), "text"),
                "",
            ]
    if refusal is not None:
        after += ["**Refusal**" + (":" if refusal else " (no reason given)"), ""]
        if refusal:
            after += [_quote(refusal), ""]
    return before, after


def _run_section(
    record: SessionRecord, run: RunRecord, level: str, side: SideChannels | None = None
) -> list[str]:
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
    before, after = _side_sections(side) if side is not None else ([], [])
    out += before
    if run.text or not after:
        out += [escape_controls(run.text) if run.text else "*(no text)*", ""]
    out += after
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
                out += _run_section(record, run, level, SideChannels(history, run.id))
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


__all__ = ["export_jsonl", "export_markdown", "iter_jsonl", "side_markdown"]
