"""The command line: parse arguments, load settings, hand off. No logic of its own beyond
formatting what the core yields.

    llmstream-tui [--config PATH] [-p REF]... [PROMPT]       open the app
    llmstream-tui stream [-p REF]... [--format text|jsonl] [--events v1|v2] PROMPT
    llmstream-tui providers [--check]
    llmstream-tui stream ... [--record FILE [--overwrite]] [--no-history] PROMPT
    llmstream-tui history [--search TEXT] [--limit N]
    llmstream-tui export ID --format md|jsonl
    llmstream-tui replay FILE [--speed X]

Exit codes: 0 success, 1 a provider failed, 2 bad usage or configuration, 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from typing import Any, Literal, TextIO

from .config import Settings, load_settings
from .core.events import summarise_output
from .core.inert import escape_controls
from .core.messages import BaseMessage
from .core.metrics import StreamTimeline
from .errors import ConfigError, LLMStreamError, ProviderError, RecordingError
from .providers.registry import build_llm
from .sessions.recorder import RunRecorder, SessionRecorder

COMMANDS = ("stream", "providers", "history", "export", "replay")

#: Metrics keys of the jsonl ``end`` line, in order.
END_METRICS = ("ttft_s", "total_s", "chunks", "chunks_per_s", "itl_p50_s", "itl_p95_s")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="TOML config file")
    parser.add_argument(
        "-p",
        "--provider",
        action="append",
        dest="providers",
        metavar="REF",
        help="provider: a configured name or KIND:MODEL[@BASE_URL] (repeatable)",
    )


def build_parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """(app parser, command parser)."""
    app = argparse.ArgumentParser(
        prog="llmstream-tui",
        description="Watch large language models stream. Commands: stream, providers, "
        "history, export, replay (see `llmstream-tui COMMAND --help`).",
    )
    _common(app)
    app.add_argument("prompt", nargs="?", help="stream this prompt at once")

    cmd = argparse.ArgumentParser(prog="llmstream-tui")
    sub = cmd.add_subparsers(dest="command", required=True)
    stream = sub.add_parser("stream", help="stream a prompt headlessly")
    _common(stream)
    stream.add_argument("--delimiter", help="printed between chunks (default: config, '|')")
    stream.add_argument("--format", choices=("text", "jsonl"), default="text")
    stream.add_argument("--events", choices=("v1", "v2"), help="print astream_events as JSON lines")
    stream.add_argument(
        "--raw", action="store_true", help="do not escape control sequences on a terminal"
    )
    stream.add_argument(
        "--record", metavar="FILE", help="also write a recording of every provider's stream to FILE"
    )
    stream.add_argument(
        "--overwrite", action="store_true", help="let --record replace an existing FILE"
    )
    stream.add_argument(
        "--no-history", action="store_true", help="do not save this run to the history database"
    )
    stream.add_argument("prompt", help="the prompt, or - to read it from stdin")
    providers = sub.add_parser("providers", help="list configured providers")
    _common(providers)
    providers.add_argument("--check", action="store_true", help="check that each answers")
    history = sub.add_parser("history", help="list saved sessions, newest first")
    history.add_argument("--config", metavar="PATH", help="TOML config file")
    history.add_argument("--search", metavar="TEXT", help="only sessions containing TEXT")
    history.add_argument("--limit", type=int, default=50, metavar="N", help="default 50")
    export = sub.add_parser("export", help="print a saved session as Markdown or a recording")
    export.add_argument("--config", metavar="PATH", help="TOML config file")
    export.add_argument("id", help="the session's ID (from `llmstream-tui history`)")
    export.add_argument("--format", choices=("md", "jsonl"), default="md")
    replay = sub.add_parser("replay", help="play a recording in the app, with its timing")
    replay.add_argument("--config", metavar="PATH", help="TOML config file")
    replay.add_argument(
        "file", help="a recording (`stream --record FILE`, `export --format jsonl`)"
    )
    replay.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        metavar="X",
        help="2 plays twice as fast, 0 as fast as possible (default 1)",
    )
    return app, cmd


def _speed(value: str) -> float:
    try:
        speed = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not speed >= 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return speed


def _fail(message: str, code: int = 2) -> int:
    print(f"llmstream-tui: error: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    app_parser, cmd_parser = build_parsers()
    first = _first_word(args_list)
    is_command = first in COMMANDS
    if is_command and args_list[0] != first:
        # Options given before the command belong to it: parse them after it.
        args_list.remove(str(first))
        args_list.insert(0, str(first))
    args = (cmd_parser if is_command else app_parser).parse_args(args_list)
    try:
        settings = load_settings(args.config)
        if not is_command:
            from .ui.app import run_app

            code: int = run_app(settings, providers=args.providers, prompt=args.prompt)
            return code
        if args.command == "stream":
            return asyncio.run(stream_command(args, settings))
        if args.command in SESSION_COMMANDS:
            return SESSION_COMMANDS[args.command](args, settings)
        return asyncio.run(providers_command(args, settings))
    except (ConfigError, RecordingError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as Unix tools do.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except LLMStreamError as exc:
        return _fail(str(exc), 1)


def _first_word(args: list[str]) -> str | None:
    """The first argument that is neither an option nor an option's value, so that
    ``--config stream.toml stream`` still finds the command."""
    takes_value = {"--config", "-p", "--provider"}
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in takes_value:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


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
                printer.line(ev)
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


def history_command(args: argparse.Namespace, settings: Settings) -> int:
    from .sessions.history import History

    with History() as history:
        rows = history.list_sessions(limit=max(args.limit, 0), search=args.search)
    for row in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(row.updated))
        names = escape_controls(", ".join(row.providers))
        title = escape_controls(row.title)
        title = title if len(title) <= 60 else title[:59] + "…"
        print(f"{row.id:>6}  {when}  {row.status:<11}  {names:<24}  {title}")
    return 0


def export_command(args: argparse.Namespace, settings: Settings) -> int:
    from .sessions.export import export_jsonl, export_markdown
    from .sessions.history import History

    with History() as history:
        if args.format == "md":
            sys.stdout.write(export_markdown(history, args.id))
        else:
            export_jsonl(history, args.id, sys.stdout)
    sys.stdout.flush()
    return 0


def replay_command(args: argparse.Namespace, settings: Settings) -> int:
    """Open the app on the recording: one pane per recorded provider, its prompt sent."""
    from .providers.replay import replay_tables

    prompt, tables = replay_tables(args.file, speed=args.speed)
    # a replay is not a new session (in the app as in the terminal)
    settings = settings.model_copy(
        update={"providers": {**settings.providers, **tables}, "history": False}
    )
    try:
        from .ui.app import run_app
    except ImportError as exc:  # the app is optional here: replay in the terminal instead
        print(
            f"llmstream-tui: note: the app is not available ({exc}); replaying here",
            file=sys.stderr,
        )
        headless = argparse.Namespace(
            providers=list(tables),
            prompt=prompt,
            delimiter=None,
            format="text",
            events=None,
            raw=False,
            record=None,
            overwrite=False,
            no_history=True,
        )
        return asyncio.run(stream_command(headless, settings))
    code: int = run_app(settings, providers=list(tables), prompt=prompt)
    return code


SESSION_COMMANDS = {"history": history_command, "export": export_command, "replay": replay_command}


async def providers_command(args: argparse.Namespace, settings: Settings) -> int:
    ok = True
    for name in settings.provider_names():
        table = settings.provider_table(name) or {}
        line = f"{name:<16} {table.get('kind', '?'):<20} {table.get('model') or '-'}"
        if table.get("base_url"):
            line += f"  {table['base_url']}"
        if args.check:
            status = await _check(name, settings)
            ok = ok and status.startswith("ok")
            line += f"  [{status}]"
        print(line)
    return 0 if ok else 1


async def _first_chunk(llm: Any) -> str:
    """Ask for a stream and stop at its first chunk: answering is all a check needs, and
    it costs an offline model a fraction of a whole answer."""
    started = time.perf_counter()
    async for _ in llm.astream("ping"):
        break
    return f"ok, first chunk in {time.perf_counter() - started:.2f} s"


async def _check(name: str, settings: Settings) -> str:
    try:
        llm = build_llm(name, settings=settings)
    except ConfigError as exc:
        return f"config: {exc}"
    try:
        lister = getattr(llm, "list_models", None)
        if lister is None:
            return await asyncio.wait_for(_first_chunk(llm), timeout=30)
        models = await asyncio.wait_for(lister(), timeout=15)
        return f"ok, {len(models)} models"
    except ProviderError as exc:
        return f"{exc.kind}: {exc.message}"
    except TimeoutError:
        return "timeout"
    finally:
        await llm.aclose()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
