"""The full data of one events-log line, untruncated, for the expanded view (pure, no Textual).

The log's data column is cut to fit a line; this is everything the entry holds: for a
stream event each channel of the chunk on its own (answer text, reasoning, refusal, every
tool-call delta, usage, response metadata), for any other event its dict. Every string is
made inert with ``escape_controls`` (newlines and tabs kept, so long text stays readable);
the result is plain text for a ``rich.text.Text``, never markup.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..core.inert import escape_controls
from .format import event_phase, relative
from .session import EventEntry


def _plain(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-able data: messages by their ``to_dict``, unknown objects by type."""
    if depth > 12:
        return "…"
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        try:
            return _plain(to_dict(), depth + 1)
        except Exception:  # noqa: BLE001  # a detail view must never fail on odd data
            return type(value).__name__
    if isinstance(value, Mapping):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [_plain(v, depth + 1) for v in value]
    return type(value).__name__


def _json(value: Any) -> str:
    return json.dumps(_plain(value), indent=2, ensure_ascii=False, default=str)


def _chunk_sections(chunk: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    content = getattr(chunk, "content", "")
    if content:
        out.append(("text", content if isinstance(content, str) else _json(content)))
    extra = getattr(chunk, "additional_kwargs", None) or {}
    for key, label in (("reasoning_content", "reasoning"), ("refusal", "refusal")):
        value = extra.get(key)
        if value:
            out.append((label, value if isinstance(value, str) else _json(value)))
    rest = {k: v for k, v in extra.items() if k not in ("reasoning_content", "refusal")}
    if rest:
        out.append(("additional_kwargs", _json(rest)))
    for call in getattr(chunk, "tool_call_chunks", None) or []:
        out.append(("tool_call", _json(call)))
    for name in ("usage_metadata", "response_metadata"):
        value = getattr(chunk, name, None)
        if value:
            out.append((name.replace("_", " "), _json(value)))
    chunk_id = getattr(chunk, "id", None)
    if chunk_id:
        out.append(("id", str(chunk_id)))
    return out or [("text", "")]


def event_sections(entry: EventEntry) -> tuple[str, list[tuple[str, str]]]:
    """A title (time, provider, event, run id) and the entry's (label, text) sections,
    every text inert and whole."""
    provider, rel, name, run_id, payload = entry
    title = f"{relative(rel).strip()}  {provider}  {name}  {run_id or '-'}"
    if event_phase(name) == "stream":
        sections = [("text", payload)] if isinstance(payload, str) else _chunk_sections(payload)
    elif isinstance(payload, Mapping):
        sections = [(str(k), _json(v)) for k, v in payload.items() if k != "event"]
    else:
        sections = [("data", _json(payload))]
    return escape_controls(title), [(escape_controls(k), escape_controls(v)) for k, v in sections]
