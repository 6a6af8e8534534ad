r"""``llmstream-tui stream``: run the prompt on each provider at once and print what streams
(text with a delimiter between chunks, or JSON lines), recording it if asked.

Text mode prints the answer; ``--show`` adds the other channels (reasoning, tool calls,
refusal, usage), each marked: dim on a terminal, a ``[reasoning] `` prefix on every line when
piped (so ``grep -v '^\['`` leaves the answer). A chunk with no text prints nothing, not
even a delimiter. JSON lines always carry every channel (``channel`` on each chunk record)
and the assembled tool calls, reasoning and refusal in the ``end`` record.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Iterator
from typing import Any, Final, Literal, TextIO, cast

from ..config import Settings
from ..core.events import summarise_output
from ..core.inert import escape_controls
from ..core.messages import AIMessage, AIMessageChunk, BaseMessage, parse_tool_args
from ..core.metrics import StreamTimeline
from ..errors import ConfigError, ProviderError
from ..providers.registry import build_llm
from ..sessions.recorder import RunRecorder, SessionRecorder

#: Metrics keys of the jsonl ``end`` line, in order.
END_METRICS = (
    "ttft_s",
    "total_s",
    "chunks",
    "chunks_per_s",
    "itl_p50_s",
    "itl_p95_s",
    "ttfr_s",
    "reasoning_s",
    "reasoning_chunks",
    "reasoning_tokens",
    "tool_call_chunks",
    "refusal_chunks",
)
#: SGR faint on / off: how a terminal marks what is not the answer.
DIM: Final = "\x1b[2m"
UNDIM: Final = "\x1b[22m"


def _read_prompt(prompt: str) -> str:
    return sys.stdin.read() if prompt == "-" else prompt


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


class _Lane:
    """Where one provider's text output stands: which section is open (None: the answer)
    and whether the line is empty."""

    __slots__ = ("fresh", "key", "tools")

    def __init__(self) -> None:
        self.key: str | None = None
        self.fresh = True
        #: tool-call index -> (name, id), from the call's first delta
        self.tools: dict[Any, tuple[str, str]] = {}


class _Printer:
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
        self.lanes: dict[str, _Lane] = {}

    def _inert(self, text: str) -> str:
        return escape_controls(text) if self.escape else text

    def _write(self, name: str, piece: str) -> None:
        if not self.many:
            self.out.write(piece)
            self.out.flush()
            return
        buf = self.pending.setdefault(name, [])
        buf.append(piece)
        if "\n" in piece:
            self.flush(name)

    def _lane(self, name: str) -> _Lane:
        lane = self.lanes.get(name)
        if lane is None:
            lane = self.lanes[name] = _Lane()
        return lane

    def text(self, name: str, piece: str) -> None:
        """Answer text: the piece and the delimiter; nothing for an empty piece."""
        if not piece:
            return
        lane = self._lane(name)
        lead = ""
        if lane.key is not None:  # back from another channel: the answer starts a line
            lead = "" if lane.fresh else "\n"
            lane.key = None
        out = lead + self._inert(piece) + self.delimiter
        lane.fresh = out.endswith("\n")
        self._write(name, out)

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

    def line(self, obj: dict[str, Any]) -> None:
        self.out.write(_dump(obj) + "\n")
        self.out.flush()


async def _run_one(
    ref: str,
    prompt: str,
    settings: Settings,
    printer: _Printer,
    events: str | None,
    recorder: SessionRecorder | None = None,
) -> bool:
    """Stream one provider; True on success. Failures are reported, never raised."""
    name = ref
    received: list[str] = []
    try:
        llm = build_llm(ref, settings=settings)
    except ConfigError as exc:
        printer.out.flush()
        print(f"llmstream-tui: error: {exc}", file=sys.stderr)
        return False
    name = llm.name
    timeline = StreamTimeline()
    run: RunRecorder | None = None
    if recorder is not None:
        run = recorder.start_run(llm, timeline=timeline, settings=settings)
    version: Literal["v1", "v2"] = "v1" if events == "v1" else "v2"
    index = 0
    streamed = False
    final: Any = None
    text_mode = printer.fmt == "text"

    def emit(piece: Piece, t: float) -> None:
        nonlocal index
        channel, text, call = piece
        if text_mode:
            if channel == "text":
                printer.text(name, text)
            else:
                printer.side(name, piece)
            return
        record: dict[str, Any] = {
            "type": "chunk",
            "provider": name,
            "index": index,
            "channel": channel,
            "text": text,
            "t": round(t, 6),
        }
        if call is not None:
            record["tool_call"] = call
        printer.line(record)
        index += 1

    try:
        async for ev in llm.astream_events(prompt, {"timeline": timeline}, version=version):
            if run is not None:
                run.observe(ev)
            if events:
                printer.line(cast(dict[str, Any], ev))
            kind = ev["event"]
            if kind.endswith("_stream"):
                streamed = True
                chunk = ev["data"]["chunk"]
                text = chunk if isinstance(chunk, str) else chunk.content
                if isinstance(chunk, str) or text:
                    received.append(text)
                if events:
                    continue
                if type(chunk) is AIMessageChunk and not (
                    chunk.additional_kwargs or chunk.tool_call_chunks
                ):
                    if text:  # plain answer text: the common case, no generator
                        if text_mode:
                            printer.text(name, text)
                        else:
                            t = (time.perf_counter_ns() - (timeline.start_ns or 0)) / 1e9
                            emit(("text", text, None), t)
                    continue
                t = (time.perf_counter_ns() - (timeline.start_ns or 0)) / 1e9
                for piece in chunk_pieces(chunk):
                    emit(piece, t)
            elif kind.endswith("_end"):
                final = ev["data"]["output"]
    except ProviderError as exc:
        if run is not None:
            run.error(exc, exc.partial_text or "".join(received))
        _report_error(printer, name, exc.partial_text or "".join(received), exc, events)
        return False
    except BrokenPipeError:
        raise
    except Exception as exc:  # noqa: BLE001  # a bug must still end in one line, no traceback
        err = ProviderError(f"internal error: {type(exc).__name__}: {exc}", provider=name)
        if run is not None:
            run.error(err, "".join(received))
        _report_error(printer, name, "".join(received), err, events)
        return False
    finally:
        if run is not None:
            run.cancel("".join(received))  # interrupted (^C, closed pipe); no-op once ended
        await llm.aclose()
    text, finish, usage = summarise_output(final)
    reasoning, refusal = final_side_channels(final)
    if not streamed and not events:
        t = timeline.snapshot().total_s or 0.0
        if isinstance(final, dict | str):
            emit(("text", text, None), t)
            if refusal is not None:
                emit(("refusal", refusal, None), t)
        else:
            for piece in chunk_pieces(final):
                emit(piece, t)
    if events:
        return True
    if text_mode:
        printer.end_run(name, usage)
        if refusal is not None and "refusal" not in printer.show:
            print(
                f"llmstream-tui: {escape_controls(name)}: the model refused "
                "(--show refusal prints its reason)",
                file=sys.stderr,
            )
    else:
        snap = timeline.snapshot().to_dict()
        printer.line(
            {
                "type": "end",
                "provider": name,
                "text": text,
                "finish_reason": finish,
                "usage": usage,
                "reasoning": reasoning,
                "refusal": refusal,
                "tool_calls": assembled_tool_calls(final),
                "metrics": {k: snap[k] for k in END_METRICS},
            }
        )
    return True


def _report_error(
    printer: _Printer, name: str, text: str, exc: ProviderError, events: str | None
) -> None:
    if printer.fmt == "jsonl" or events:
        printer.line({"type": "error", "provider": name, "text": text, "error": exc.to_dict()})
        return
    if printer.many:
        printer.flush_all(name)
    else:
        printer.out.write("\n")
        printer.out.flush()
    print(f"llmstream-tui: {exc.kind}: {escape_controls(str(exc))}", file=sys.stderr)


async def stream_command(args: argparse.Namespace, settings: Settings) -> int:
    refs = args.providers or settings.default_providers[:1]
    prompt = _read_prompt(args.prompt)
    delimiter = settings.delimiter if args.delimiter is None else args.delimiter
    tty = sys.stdout.isatty()
    printer = _Printer(
        sys.stdout,
        args.format,
        delimiter,
        tty and not args.raw,
        many=len(refs) > 1,
        show=args.show,
        tty=tty,
    )
    recorder = None
    if args.record or (settings.history and not args.no_history):
        recorder = SessionRecorder.open(
            record=args.record,
            overwrite=args.overwrite,
            history=settings.history and not args.no_history,
            events=bool(args.events),
        )
        recorder.begin_turn(prompt)
    try:
        results = await asyncio.gather(
            *(_run_one(ref, prompt, settings, printer, args.events, recorder) for ref in refs)
        )
    finally:
        if recorder is not None:
            recorder.close()
            for problem in recorder.problems:
                print(f"llmstream-tui: warning: {problem}", file=sys.stderr)
    return 0 if all(results) else 1
