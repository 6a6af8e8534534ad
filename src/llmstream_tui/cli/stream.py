r"""``llmstream-tui stream``: run the prompt on each provider at once and print what streams
(text with a delimiter between chunks, or JSON lines), recording it if asked.

Text mode prints the answer; ``--show`` adds the other channels (reasoning, tool calls,
refusal, usage), each marked: dim on a terminal, a ``[reasoning] `` prefix on every line when
piped (so ``grep -v '^\['`` leaves the answer). A chunk with no text prints nothing, not
even a delimiter. JSON lines always carry every channel (``channel`` on each chunk record)
and the assembled tool calls, reasoning and refusal in the ``end`` record.

``--events`` prints every event with ``depth``, its run's level in the run tree (0 for the
root; v1 events, which name no parents, are 0 or 1: see ``core.run_tree``). ``--tree``
prints the finished tree after the run (or after its failure, which it shows).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from pydantic import ValidationError

from ..config import Settings
from ..core.events import summarise_output
from ..core.inert import escape_controls
from ..core.messages import AIMessageChunk, HumanMessage
from ..core.metrics import StreamTimeline
from ..core.run_tree import RunTree
from ..core.runnable import LanguageModel, StreamOutput
from ..errors import ConfigError, ProviderError
from ..providers.registry import build_llm
from ..providers.spec import Params
from ..ui.run_sources import RunsNested
from .printer import Piece, Printer, assembled_tool_calls, chunk_pieces, final_side_channels

if TYPE_CHECKING:  # imported when a run is recorded: --no-history needs no sessions package
    from ..sessions.recorder import RunRecorder, SessionRecorder
    from ..sessions.records import SessionRecord

#: Modules an HTTP provider's client would import and a stream never runs: httpx's own
#: command line (``httpx/__init__`` tries ``httpx._main``, which imports click, rich and
#: pygments) and trio (httpcore probes for it; ``stream`` runs on asyncio). When they are
#: installed they were about 0.25 s of a stream's CPU, half the start-up of a hand-written
#: httpx script. Blocked only while a provider is built, then unblocked (see ``_built``).
UNUSED_IMPORTS: Final = ("httpx._main", "trio")

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


def _read_prompt(prompt: str | None) -> str:
    """The prompt as valid text: ``-`` is all of stdin; a prompt with stdin piped (or
    redirected from a file) is stdin's text, a blank line, then the prompt, as ``llm``
    sends ``cat file | llm "summarise this"``; no prompt reads stdin. Stdin that was to be
    the prompt and is empty is a ``ConfigError`` (exit 2). Bytes that are not UTF-8, on
    stdin or in an argument, become U+FFFD rather than surrogates no file or database can
    hold (a leading byte order mark on stdin is dropped)."""
    if prompt == "-":
        text = _read_stdin()
        if not text.strip():
            raise ConfigError("stdin is empty, and - reads the prompt from it")
        return text
    piped = _read_stdin() if _stdin_is_piped() else ""
    if prompt is None:
        if not piped.strip():
            raise ConfigError("no prompt: give one, or pipe it to stdin (stdin is empty)")
        return piped
    text = _valid_text(prompt)
    return f"{piped.rstrip()}\n\n{text}" if piped.strip() else text


def _stdin_is_piped() -> bool:
    """Whether stdin is a pipe or a file (text to read), not a terminal, /dev/null or a
    socket a caller never writes to."""
    import os
    import stat

    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (AttributeError, OSError, ValueError):  # no stdin, or a stream with no descriptor
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode)


def _read_stdin() -> str:
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:  # a text stream put in place of stdin (tests): already decoded
        return _valid_text(sys.stdin.read())
    data: bytes = raw.read()
    return data.decode("utf-8-sig", "replace")


def _valid_text(text: str) -> str:
    """``text`` with the surrogates Python decodes undecodable bytes to as U+FFFD."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte
        return text.encode("utf-8", "replace").decode("utf-8")


class _ChunkWriter:
    """Where one provider's pieces go: the printer in text mode, numbered ``chunk`` records
    in JSON lines (``t``: seconds since the run started, read when the piece is written)."""

    __slots__ = ("index", "name", "printer", "text_mode", "timeline")

    def __init__(self, printer: Printer, name: str, timeline: StreamTimeline) -> None:
        self.printer = printer
        self.name = name
        self.timeline = timeline
        self.text_mode = printer.fmt == "text"
        self.index = 0

    def now(self) -> float:
        return (time.perf_counter_ns() - (self.timeline.start_ns or 0)) / 1e9

    def chunk(self, chunk: Any) -> None:
        """A streamed chunk off the text-mode fast path."""
        if type(chunk) is AIMessageChunk and not (
            chunk.additional_kwargs or chunk.tool_call_chunks
        ):
            if chunk.content:
                self(("text", chunk.content, None), self.now())
            return
        t = self.now()
        for piece in chunk_pieces(chunk):
            self(piece, t)

    def __call__(self, piece: Piece, t: float) -> None:
        channel, text, call = piece
        if self.text_mode:
            if channel == "text":
                self.printer.text(self.name, text)
            else:
                self.printer.side(self.name, piece)
            return
        record: dict[str, Any] = {
            "type": "chunk",
            "provider": self.name,
            "index": self.index,
            "channel": channel,
            "text": text,
            "t": round(t, 6),
        }
        if call is not None:
            record["tool_call"] = call
        self.printer.record(record)
        self.index += 1


def _fail(
    run: RunRecorder | None,
    printer: Printer,
    name: str,
    text: str,
    exc: ProviderError,
    events: str | None,
) -> None:
    if run is not None:
        run.error(exc, text)
    _report_error(printer, name, text, exc, events)


async def _run_one(  # noqa: C901  # one run's event loop, flat as the runnable's; its ends apart
    target: tuple[str, dict[str, Any]],
    prompt: str,
    settings: Settings,
    printer: Printer,
    events: str | None,
    recorder: SessionRecorder | None = None,
    tree: RunTree | None = None,
    earlier: list[dict[str, str]] | None = None,
) -> bool:
    """Stream one provider (its display name and table, from ``run_tables``); True on
    success. Failures are reported, never raised; an interruption (^C) writes what ends the
    output (the line, or a ``cancelled`` record) and propagates. With ``tree``, every event
    also builds the run tree (depths for ``--events``, ``--tree``). ``earlier``: the saved
    conversation being continued (``--continue``), as the provider saw it."""
    received: list[str] = []
    llm = _built(target, settings, printer)
    if llm is None:
        return False
    name = llm.name
    timeline = StreamTimeline()
    run: RunRecorder | None = None
    if recorder is not None:
        run = recorder.start_run(llm, timeline=timeline, settings=settings)
    version: Literal["v1", "v2"] = "v1" if events == "v1" else "v2"
    streamed = False
    final: Any = None
    text_mode = printer.fmt == "text"
    write = _ChunkWriter(printer, name, timeline)
    root = ""  # the root run: its chunks are the answer (a nested app's inner runs are not)
    app = llm if isinstance(llm, RunsNested) else None  # a whole application's run tree
    inner = run.record_event if run is not None else _ignore
    tracing = tree is not None or bool(events)  # else no call per event for nothing
    # a model's chunks printed as they come (no --events, no application): the common case
    plain = text_mode and not events and app is None
    # the answer so far is read by a recording, --events and JSON lines only (text mode
    # reports a failure or ^C without it): else it is not kept, not even as a list
    keep = not plain or run is not None
    say = printer.text
    append = received.append
    model_input = _model_input(llm, prompt, app, earlier)
    try:
        if (
            plain
            and not tracing
            and (run is None or not run.records_events)
            and isinstance(llm, LanguageModel)
            and (llm.streams_like_its_events())
        ):  # nothing reads the events: their chunks and end output without them
            streamed, final = await _print_plain(
                llm, model_input, timeline, write, run, received if keep else None
            )
        else:
            async for ev in llm.astream_events(
                model_input, {"timeline": timeline}, version=version
            ):
                kind = ev["event"]
                if tracing:
                    _trace(cast(dict[str, Any], ev), tree, timeline, printer if events else None)
                run_id = ev["run_id"]
                if run_id != root:
                    if root:
                        inner(ev)  # an inner run's: in the recording's events only
                        continue
                    root = run_id
                if run is not None:
                    run.observe(ev)  # the root's: a nested app's inner ends are not the answer's
                if plain and kind.endswith("_stream"):
                    streamed = True
                    chunk = ev["data"]["chunk"]
                    if type(chunk) is AIMessageChunk:
                        text = chunk.content
                        if text:
                            if keep:
                                append(text)
                            if not (chunk.additional_kwargs or chunk.tool_call_chunks):
                                say(name, text)  # plain answer text: the hot path
                                continue
                        write.chunk(chunk)
                        continue
                    if type(chunk) is str:
                        if keep:
                            append(chunk)
                        say(name, chunk)
                        continue
                if kind.endswith("_stream"):
                    streamed = True
                    chunk = _root_chunk(ev["data"]["chunk"], app)
                    text = chunk if isinstance(chunk, str) else chunk.content
                    if isinstance(chunk, str) or text:
                        append(text)
                    if events:
                        continue
                    if (
                        text_mode
                        and text
                        and type(chunk) is AIMessageChunk
                        and not (chunk.additional_kwargs or chunk.tool_call_chunks)
                    ):
                        printer.text(name, text)  # plain answer text: the common case
                        continue
                    write.chunk(chunk)
                elif kind.endswith("_end"):
                    final = ev["data"]["output"] if app is None else "".join(received)
    except ProviderError as exc:
        _fail(run, printer, name, exc.partial_text or "".join(received), exc, events)
        _failed_tree(tree, timeline, exc)
        return False
    except (BrokenPipeError, asyncio.CancelledError, KeyboardInterrupt) as exc:
        if not isinstance(exc, BrokenPipeError):  # ^C: end the output; a closed pipe cannot
            _cancelled(printer, name, "".join(received), events)
        raise
    except Exception as exc:  # noqa: BLE001  # a bug must still end in one line, no traceback
        err = ProviderError(f"internal error: {type(exc).__name__}: {exc}", provider=name)
        _fail(run, printer, name, "".join(received), err, events)
        _failed_tree(tree, timeline, err)
        return False
    finally:
        if run is not None:
            run.cancel("".join(received))  # interrupted (^C, closed pipe); no-op once ended
        await llm.aclose()
    _finish(printer, name, final, timeline, write, streamed=streamed, events=events)
    return True


async def _print_plain(
    llm: LanguageModel,
    model_input: Any,
    timeline: StreamTimeline,
    write: _ChunkWriter,
    run: RunRecorder | None,
    received: list[str] | None,
) -> tuple[bool, Any]:
    """``_run_one``'s plain path (text mode, nothing traced, no events recorded) on
    ``LanguageModel.astream_to``: the chunks of the stream events, printed as that path
    prints them and handed to the history's ``run`` as it would observe them, without
    building the events. ``received`` keeps the answer so far (for the history's cancel
    line). (Whether anything streamed, the end output.)"""
    result = StreamOutput()
    say, name = write.printer.text, write.name
    streamed = False
    record = run.stream_chunk if run is not None else None
    async for chunk in llm.astream_to(model_input, result, {"timeline": timeline}):
        streamed = True
        if record is not None:
            record(chunk)
        if type(chunk) is AIMessageChunk:
            text = chunk.content
            if text and received is not None:
                received.append(text)
            if text and not (chunk.additional_kwargs or chunk.tool_call_chunks):
                say(name, text)  # plain answer text: the hot path
                continue
        elif type(chunk) is str:
            if received is not None:
                received.append(chunk)
            say(name, chunk)
            continue
        write.chunk(chunk)
    if run is not None:
        run.stream_end(result.output)
    return streamed, result.output


def _built(target: tuple[str, dict[str, Any]], settings: Settings, printer: Printer) -> Any | None:
    """The backend of ``target``, or None after reporting why it cannot be built (the
    checks before the run catch what they can; this is for what only building finds)."""
    name, table = target
    try:
        with unused_imports_blocked():
            return build_llm(table, name=name, settings=settings)
    except ConfigError as exc:
        printer.out.flush()
        print(f"llmstream-tui: error: {exc}", file=sys.stderr)
        return None


@contextmanager
def unused_imports_blocked() -> Iterator[None]:
    """Around what imports the providers' modules (checking and building them):
    ``UNUSED_IMPORTS`` not yet imported fail to import meanwhile (their importers take
    ``ImportError`` as "not installed"), and httpcore, which httpx imports only with its
    first client, is imported then too when httpx was. Afterwards they import as usual, so
    nothing stays blocked for a later importer in the process."""
    blocked = [name for name in UNUSED_IMPORTS if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # the import system's "absent"
    try:
        yield
        if "httpx" in sys.modules and "httpcore" not in sys.modules:
            import httpcore  # noqa: F401  # now, while trio is blocked: it probes for trio
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def _earlier(previous: SessionRecord | None, name: str) -> list[dict[str, str]] | None:
    """The continued conversation as ``name`` saw it (the first provider's, when ``name``
    did not answer in it)."""
    if previous is None:
        return None
    if previous.provider(name) is None and previous.providers:
        name = previous.providers[0].name
    return previous.messages(name)


def _ignore(event: Any) -> None:
    """Where an inner run's event goes when nothing records the run."""


def _root_chunk(chunk: Any, app: RunsNested | None) -> Any:
    """A chunk of the root run: as it came, or an application's output as its pane shows
    it (text: a string, a message's text, compact JSON for anything else)."""
    return chunk if app is None else app.output_text(chunk)


def _model_input(
    llm: Any, prompt: str, app: RunsNested | None, earlier: list[dict[str, str]] | None = None
) -> Any:
    """What the run is handed: the prompt; for a chat application (the ``langchain`` kind),
    the prompt as the user's message, as its pane sends it (a ``MessagesState`` graph takes
    messages, not a string); for a chat model continuing a conversation, its earlier turns
    then the prompt (a text LLM has no turns: it gets the prompt)."""
    if earlier and llm.flavor == "chat":
        return [*earlier, {"role": "user", "content": prompt}]
    if app is not None and llm.flavor == "chat":
        return [HumanMessage(prompt)]
    return prompt


def _cancelled(printer: Printer, name: str, text: str, events: str | None) -> None:
    """^C during a run: JSON lines get a last ``cancelled`` record with the text so far;
    text mode ends the line that was being written."""
    try:
        if printer.fmt == "jsonl" or events:
            printer.line({"type": "cancelled", "provider": name, "text": text})
        elif printer.many:
            printer.flush_all(name)
        elif not printer.line_is_fresh(name):
            printer.out.write("\n")
            printer.out.flush()
    except (BrokenPipeError, ValueError):  # the reader is gone too: nothing to end
        pass


def _since_start(timeline: StreamTimeline) -> int:
    """Nanoseconds since the run started (the tree's clock, as the app's log has it)."""
    now = time.perf_counter_ns()
    return now - (timeline.start_ns or now)


def _trace(
    ev: dict[str, Any], tree: RunTree | None, timeline: StreamTimeline, printer: Printer | None
) -> None:
    """One event into the run tree and, for ``--events``, printed with ``depth``: its run's
    level in the tree."""
    if tree is not None:
        tree.add(_since_start(timeline), ev["event"], ev["run_id"], ev)
    if printer is not None:
        node = tree.nodes.get(ev["run_id"]) if tree is not None else None
        printer.record({**ev, "depth": node.depth if node is not None else 0})


def _failed_tree(tree: RunTree | None, timeline: StreamTimeline, exc: ProviderError) -> None:
    """The run failed: its open runs (the failing one and its ancestors) are marked."""
    if tree is not None:
        tree.add(_since_start(timeline), "error", "", {"data": {"error": str(exc)}})


def _finish(
    printer: Printer,
    name: str,
    final: Any,
    timeline: StreamTimeline,
    emit: _ChunkWriter,
    *,
    streamed: bool,
    events: str | None,
) -> None:
    """After a run that succeeded: what a non-streamed run printed at once, then the end
    (usage line and refusal notice in text mode, the ``end`` record in JSON lines)."""
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
        return
    if printer.fmt == "text":
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


def _report_error(
    printer: Printer, name: str, text: str, exc: ProviderError, events: str | None
) -> None:
    if printer.fmt == "jsonl" or events:
        printer.line({"type": "error", "provider": name, "text": text, "error": exc.to_dict()})
        return
    if printer.many:
        printer.flush_all(name)
    elif not printer.line_is_fresh(name):  # end the partial answer; no empty line for none
        printer.out.write("\n")
    printer.out.flush()  # the text so far before the error (it may wait for its frame)
    print(f"llmstream-tui: {exc.kind}: {escape_controls(str(exc))}", file=sys.stderr)


def run_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """``-s`` and ``-o KEY VALUE`` as generation parameters, checked against ``Params``
    (our names, which every kind maps to its own): ``ConfigError`` naming the option for an
    unknown key or a bad value. ``stop`` takes a JSON list or one string."""
    params: dict[str, Any] = {}
    for key, value in getattr(args, "options", None) or []:
        if key not in Params.model_fields:
            known = ", ".join(sorted(set(Params.model_fields) - {"system"}))
            raise ConfigError(f"-o {key}: unknown parameter (one of {known})")
        if key == "stop" and not value.startswith("["):
            params[key] = [value]
            continue
        if key == "stop":
            try:
                params[key] = json.loads(value)
            except ValueError:
                raise ConfigError(f"-o stop: not a JSON list: {value!r}") from None
            continue
        params[key] = value
    if getattr(args, "system", None) is not None:
        params["system"] = args.system
    try:
        return Params.model_validate(params).model_dump(exclude_unset=True)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else "?"
        flag = "-s" if key == "system" else f"-o {key}"
        raise ConfigError(f"{flag}: {err['msg']} (got {params.get(key)!r})") from None


def run_tables(args: argparse.Namespace, settings: Settings) -> list[tuple[str, dict[str, Any]]]:
    """(display name, table) of every provider of the run, with this run's ``-s``/``-o``
    parameters and ``--no-stream`` merged in, each checked by ``cli.check_targets``'s
    rules before anything runs (bad usage is exit 2, not a failed run)."""
    from . import check_targets, resolve_ref

    overrides = run_overrides(args)
    out = []
    for ref in args.providers or settings.default_providers[:1]:
        display, table = resolve_ref(ref, settings)
        if overrides:
            table = {**table, "params": {**(table.get("params") or {}), **overrides}}
        if getattr(args, "no_stream", False):
            table = {**table, "stream": False}
        out.append((display, table))
    with unused_imports_blocked():
        check_targets([t for _, t in out], settings, names=[n for n, _ in out])
    return out


def _continued(args: argparse.Namespace, settings: Settings) -> SessionRecord | None:
    """The saved conversation ``--continue`` (the latest) or ``--session ID`` names; None
    when neither is given. ``ConfigError``/``RecordingError`` (exit 2) when there is none."""
    if not (getattr(args, "continue_", False) or getattr(args, "session", None)):
        return None
    if args.no_history or not settings.history:
        raise ConfigError("--continue and --session need the history (history is off)")
    from ..sessions.history import History

    with History() as history:
        if args.session:
            return history.load(args.session)
        rows = history.list_sessions(limit=1)
        if not rows:
            raise ConfigError("--continue: no saved conversation yet")
        return history.load(rows[0].id)


async def stream_command(
    args: argparse.Namespace,
    settings: Settings,
    targets: list[tuple[str, dict[str, Any]]] | None = None,
) -> int:
    targets = run_tables(args, settings) if targets is None else targets
    refs = [name for name, _ in targets]
    prompt = _read_prompt(args.prompt)
    previous = _continued(args, settings)
    delimiter = settings.delimiter if args.delimiter is None else args.delimiter
    tty = sys.stdout.isatty()
    printer = Printer(
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
        from ..sessions.recorder import SessionRecorder

        recorder = SessionRecorder.open(
            record=args.record,
            overwrite=args.overwrite,
            history=settings.history and not args.no_history,
            events=bool(args.events),
            session=previous.uid if previous is not None else None,
        )
        recorder.begin_turn(prompt)
    trees = {ref: RunTree() for ref in refs} if (args.tree or args.events) else {}
    try:
        results = await asyncio.gather(
            *(
                _run_one(
                    target,
                    prompt,
                    settings,
                    printer,
                    args.events,
                    recorder,
                    trees.get(target[0]),
                    _earlier(previous, target[0]),
                )
                for target in targets
            )
        )
        if args.tree:
            as_json = args.format == "jsonl" or bool(args.events)
            for ref, tree in trees.items():
                printer.tree(ref, tree, as_json=as_json)
    finally:
        if recorder is not None:
            recorder.close()
            for problem in recorder.problems:
                print(f"llmstream-tui: warning: {problem}", file=sys.stderr)
    return 0 if all(results) else 1
