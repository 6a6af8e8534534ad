"""``llmstream-tui stream``: run the prompt on each provider at once and print what streams
(text with a delimiter between chunks, or JSON lines), recording it if asked."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any, Literal, TextIO, cast

from ..config import Settings
from ..core.events import summarise_output
from ..core.inert import escape_controls
from ..core.messages import BaseMessage
from ..core.metrics import StreamTimeline
from ..errors import ConfigError, ProviderError
from ..providers.registry import build_llm
from ..sessions.recorder import RunRecorder, SessionRecorder

#: Metrics keys of the jsonl ``end`` line, in order.
END_METRICS = ("ttft_s", "total_s", "chunks", "chunks_per_s", "itl_p50_s", "itl_p95_s")


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


class _Printer:
    """Writes what the runs produce; one line per provider per flush when several run."""

    def __init__(self, out: TextIO, fmt: str, delimiter: str, escape: bool, many: bool) -> None:
        self.out = out
        self.fmt = fmt
        self.delimiter = delimiter
        self.escape = escape
        self.many = many
        self.pending: dict[str, list[str]] = {}

    def text(self, name: str, piece: str) -> None:
        if self.escape:
            piece = escape_controls(piece)
        if not self.many:
            self.out.write(piece + self.delimiter)
            self.out.flush()
            return
        buf = self.pending.setdefault(name, [])
        buf.append(piece + self.delimiter)
        if "\n" in piece:
            self.flush(name)

    def flush(self, name: str) -> None:
        buf = self.pending.pop(name, [])
        if buf:
            lines = "".join(buf).split("\n")
            for line in lines:
                if line:
                    self.out.write(f"[{name}] {line}\n")
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
                if printer.fmt == "text":
                    printer.text(name, text)
                elif text:
                    t = (time.perf_counter_ns() - (timeline.start_ns or 0)) / 1e9
                    printer.line(
                        {
                            "type": "chunk",
                            "provider": name,
                            "index": index,
                            "text": text,
                            "t": round(t, 6),
                        }
                    )
                    index += 1
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
    if not streamed and not events:
        if printer.fmt == "text":
            printer.text(name, text)
        else:
            printer.line(
                {
                    "type": "chunk",
                    "provider": name,
                    "index": 0,
                    "text": text,
                    "t": round(timeline.snapshot().total_s or 0.0, 6),
                }
            )
    if events:
        return True
    if printer.fmt == "text":
        if printer.many:
            printer.flush(name)
        else:
            printer.out.write("\n")
    else:
        snap = timeline.snapshot().to_dict()
        printer.line(
            {
                "type": "end",
                "provider": name,
                "text": text,
                "finish_reason": finish,
                "usage": usage,
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
        printer.flush(name)
    else:
        printer.out.write("\n")
        printer.out.flush()
    print(f"llmstream-tui: {exc.kind}: {escape_controls(str(exc))}", file=sys.stderr)


async def stream_command(args: argparse.Namespace, settings: Settings) -> int:
    refs = args.providers or settings.default_providers[:1]
    prompt = _read_prompt(args.prompt)
    delimiter = settings.delimiter if args.delimiter is None else args.delimiter
    escape = sys.stdout.isatty() and not args.raw
    printer = _Printer(sys.stdout, args.format, delimiter, escape, many=len(refs) > 1)
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
