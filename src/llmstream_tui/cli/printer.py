"""What ``stream`` prints, apart from how it runs the providers: answer text with its
delimiter, the other channels marked (dim on a terminal, a ``[channel] `` prefix when piped),
usage lines, JSON lines and the run tree (``--tree``); and the pure helpers that cut a chunk
into channel pieces and assemble the final tool calls. One ``Printer`` is shared by every
provider of a run, so several panes' lines interleave whole.

While a run streams, answer text is written as it comes and flushed once per frame
(``FLUSH_S`` after the first piece not flushed yet), not once per chunk: a write and a flush
per chunk were a syscall each on a pipe or a file, the largest cost of ``stream`` after the
wire itself. Without a running event loop every piece is flushed at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any, Final, TextIO

from ..core.inert import escape_controls
from ..core.messages import AIMessage, AIMessageChunk, BaseMessage, parse_tool_args
from ..core.run_tree import RunTree, node_dict, tree_lines

#: SGR faint on / off: how a terminal marks what is not the answer.
DIM: Final = "\x1b[2m"
UNDIM: Final = "\x1b[22m"
#: How long streamed text may wait in the output buffer: a frame at 60 Hz.
FLUSH_S: Final = 1 / 60


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseMessage):
        return value.to_dict()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, default=_jsonable)


#: One piece of a chunk: (channel, text, tool-call delta or None).
Piece = tuple[str, str, dict[str, Any] | None]


def chunk_pieces(chunk: Any) -> Iterator[Piece]:
    """What one streamed item carries, channel by channel: a text LLM's string, or a message
    chunk's reasoning, tool-call deltas, answer text and refusal (a chunk built from one part
    has one of them; a non-streamed whole message may have them all)."""
    if isinstance(chunk, str):
        if chunk:
            yield "text", chunk, None
        return
    extra = chunk.additional_kwargs
    if extra:
        reasoning = extra.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning:
            yield "reasoning", reasoning, None
    if isinstance(chunk, AIMessageChunk):
        for call in chunk.tool_call_chunks:
            yield "tool_call", "", call
    elif isinstance(chunk, AIMessage):
        for i, call in enumerate(chunk.tool_calls):
            yield "tool_call", "", _as_delta(call, i)
    if chunk.content:
        yield "text", chunk.content, None
    if extra:
        refusal = extra.get("refusal")
        if isinstance(refusal, str):
            yield "refusal", refusal, None


def _as_delta(call: dict[str, Any], index: int) -> dict[str, Any]:
    """A whole (parsed) tool call as the one delta that carries it."""
    args = call.get("args")
    raw = args.get("__raw__") if isinstance(args, dict) and set(args) == {"__raw__"} else None
    text = raw if isinstance(raw, str) else json.dumps(args or {}, ensure_ascii=False)
    return {"name": call.get("name"), "args": text, "id": call.get("id"), "index": index}


def assembled_tool_calls(final: Any) -> list[dict[str, Any]]:
    """The run's tool calls from its end output: name, id and ``args`` parsed as JSON; when
    they are not valid JSON, ``args`` is the raw string and ``invalid_json`` is true."""
    if isinstance(final, AIMessageChunk):
        deltas = final.tool_call_chunks
    elif isinstance(final, AIMessage):
        deltas = [_as_delta(c, i) for i, c in enumerate(final.tool_calls)]
    else:
        return []
    out = []
    for d in deltas:
        raw = d.get("args") or ""
        args, valid = parse_tool_args(raw)
        call: dict[str, Any] = {"name": d.get("name"), "id": d.get("id"), "args": args}
        if not valid:
            call["args"] = raw
            call["invalid_json"] = True
        out.append(call)
    return out


def final_side_channels(final: Any) -> tuple[str | None, str | None]:
    """(reasoning, refusal) text of an end output; None where the run had none."""
    if isinstance(final, dict):  # a text LLM's generations (v2)
        info = final["generations"][0][0].get("generation_info") or {}
        refusal = info.get("refusal")
        return None, refusal if isinstance(refusal, str) else None
    extra = getattr(final, "additional_kwargs", None) or {}
    reasoning, refusal = extra.get("reasoning_content"), extra.get("refusal")
    return (
        reasoning if isinstance(reasoning, str) else None,
        refusal if isinstance(refusal, str) else None,
    )


def usage_line(usage: dict[str, Any]) -> str:
    """``input 9 (cache_read 3), output 20 (reasoning 12), total 29``: the totals with the
    details the provider reported."""
    parts = []
    for key, details in (
        ("input", "input_token_details"),
        ("output", "output_token_details"),
        ("total", None),
    ):
        value = usage.get(f"{key}_tokens")
        if value is None:
            continue
        text = f"{key} {value}"
        extra = usage.get(details) if details else None
        if isinstance(extra, dict) and extra:
            text += " (" + ", ".join(f"{k} {v}" for k, v in extra.items()) + ")"
        parts.append(text)
    return ", ".join(parts)


class Lane:
    """Where one provider's text output stands: which section is open (None: the answer)
    and whether the line is empty."""

    __slots__ = ("fresh", "key", "tools")

    def __init__(self) -> None:
        self.key: str | None = None
        self.fresh = True
        #: tool-call index -> (name, id), from the call's first delta
        self.tools: dict[Any, tuple[str, str]] = {}


class Printer:
    """Writes what the runs produce; one line per provider per flush when several run."""

    def __init__(
        self,
        out: TextIO,
        fmt: str,
        delimiter: str,
        escape: bool,
        many: bool,
        *,
        show: frozenset[str] = frozenset(),
        tty: bool = False,
    ) -> None:
        self.out = out
        self.fmt = fmt
        self.delimiter = delimiter
        self.escape = escape
        self.many = many
        self.show = show
        self.tty = tty
        self.pending: dict[str, list[str]] = {}
        self.lanes: dict[str, Lane] = {}
        #: a flush is scheduled on the event loop
        self._flush_due = False
        #: what the scheduled flush raised (the reader went away): raised by the next write
        self._broken: OSError | None = None

    def _inert(self, text: str) -> str:
        return escape_controls(text) if self.escape else text

    def _write(self, name: str, piece: str) -> None:
        if not self.many:
            if self._broken is not None:
                raise self._broken
            self.out.write(piece)
            if not self._flush_due:
                self._flush_soon()
            return
        buf = self.pending.setdefault(name, [])
        buf.append(piece)
        if "\n" in piece:
            self.flush(name)

    def _flush_soon(self) -> None:
        """Flush a frame from now (at once when no event loop runs)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.out.flush()
            return
        self._flush_due = True
        loop.call_later(FLUSH_S, self._scheduled_flush)

    def _scheduled_flush(self) -> None:
        self._flush_due = False
        try:
            self.out.flush()
        except BrokenPipeError as exc:  # the reader is gone: the run's next write says so
            self._broken = exc
        except ValueError:  # out was closed: its next write says so
            pass

    def _lane(self, name: str) -> Lane:
        lane = self.lanes.get(name)
        if lane is None:
            lane = self.lanes[name] = Lane()
        return lane

    def line_is_fresh(self, name: str) -> bool:
        """Whether ``name``'s output stands at the start of a line (nothing written yet, or
        a newline last): what an error or a ^C need not end with another newline."""
        lane = self.lanes.get(name)
        return lane is None or lane.fresh

    def text(self, name: str, piece: str) -> None:
        """Answer text: the piece and the delimiter; nothing for an empty piece."""
        if not piece:
            return
        lane = self.lanes.get(name) or self._lane(name)
        out = (escape_controls(piece) if self.escape else piece) + self.delimiter
        if lane.key is not None:  # back from another channel: the answer starts a line
            if not lane.fresh:
                out = "\n" + out
            lane.key = None
        lane.fresh = out.endswith("\n")
        if self.many or self._broken is not None:
            self._write(name, out)
            return
        self.out.write(out)  # ``_write``'s first case, inlined: this runs once per chunk
        if not self._flush_due:
            self._flush_soon()

    def side(self, name: str, piece: Piece) -> None:
        """A reasoning, tool-call or refusal piece, if ``--show`` asks for its channel."""
        channel, text, call = piece
        lane = self._lane(name)
        if channel == "tool_call":
            if "tools" not in self.show or call is None:
                return
            index = call.get("index")
            known = lane.tools.get(index)
            if known is None:
                known = lane.tools[index] = (
                    str(call.get("name") or "?"),
                    str(call.get("id") or ""),
                )
            key = f"tool_call:{index}"
            label = "[tool_call " + " ".join(filter(None, known)) + "]"
            text = call.get("args") or ""
            if lane.key == key and not text:
                return
        else:
            if channel not in self.show:
                return
            key = channel
            label = f"[{channel}]"
            if not text and lane.key == key:
                return
        out: list[str] = []
        if lane.key != key:
            if not lane.fresh:
                out.append("\n")
            out.append(self._dim(self._inert(label) + " "))
            lane.key = key
        if text:
            lines = (self._inert(text) + self.delimiter).split("\n")
            for i, line in enumerate(lines):
                if i:
                    out.append("\n")
                    if not self.tty and (line or i < len(lines) - 1):
                        out.append(self._inert(label) + " ")
                if line:
                    out.append(self._dim(line))
        joined = "".join(out)
        if joined:
            lane.fresh = joined.endswith("\n")
            self._write(name, joined)

    def _dim(self, text: str) -> str:
        return DIM + text + UNDIM if self.tty else text

    def end_run(self, name: str, usage: dict[str, Any] | None) -> None:
        """The run's closing newline, and its usage line if asked."""
        lane = self._lane(name)
        tail = "" if (lane.fresh and lane.key is not None) else "\n"
        if "usage" in self.show and usage:
            tail += self._dim("[usage] " + usage_line(usage)) + "\n"
        if self.many:
            self._write(name, tail)
            self.flush(name)
        else:
            self.out.write(tail)
            self.out.flush()

    def flush(self, name: str) -> None:
        buf = self.pending.pop(name, [])
        if buf:
            lines = "".join(buf).split("\n")
            last = lines.pop()
            for line in lines:
                if line:
                    self.out.write(f"[{name}] {line}\n")
            if last:  # a line not finished yet: kept for the next flush
                self.pending[name] = [last]
            self.out.flush()

    def flush_all(self, name: str) -> None:
        self.flush(name)
        rest = self.pending.pop(name, [])
        if rest:
            self.out.write(f"[{name}] {''.join(rest)}\n")
            self.out.flush()

    def tree(self, name: str, tree: RunTree, *, as_json: bool) -> None:
        """The finished run tree (``stream --tree``): one ``tree`` record, or indented text
        lines (each after ``[name]`` when several providers run; names are made inert by
        the tree itself)."""
        if as_json:
            self.line(
                {"type": "tree", "provider": name, "runs": [node_dict(r) for r in tree.roots]}
            )
            return
        prefix = f"[{name}] " if self.many else ""
        for text in tree_lines(tree):
            self.out.write(prefix + text + "\n")
        self.out.flush()

    def line(self, obj: dict[str, Any]) -> None:
        """A JSON line, flushed at once (an end, an error, a tree)."""
        self.out.write(_dump(obj) + "\n")
        self.out.flush()

    def record(self, obj: dict[str, Any]) -> None:
        """A streamed JSON line (a chunk, an event): flushed with its frame."""
        if self._broken is not None:
            raise self._broken
        self.out.write(_dump(obj) + "\n")
        if not self._flush_due:
            self._flush_soon()
