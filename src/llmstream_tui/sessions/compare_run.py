"""The comparison runner: the same prompts against several providers, under a load shape.

``compare`` (issue 18) reads a prompt set (:func:`load_prompts`, or :func:`builtin_prompts`
shipped in the package), then for each load level runs every provider at once, each with
its own load (so a slow provider never holds back a fast one's arrivals):

- closed loop (``concurrency=N``): N workers per provider, each sending its next request as
  soon as its last one ended;
- open loop (``rate=R``): requests start at Poisson arrivals of R per second per provider
  (exponential gaps drawn from ``seed``), however many are still streaming; ``concurrency``
  given with it caps how many may be in flight at once;
- ``sweep=(1, 4, 16)``: one closed-loop level per concurrency, one after the other.

The work of a provider at a level is the prompt set ``repeat`` times, in an order shuffled
by ``seed`` (the same order for every provider), preceded by ``warmup`` requests that run
but are not counted. ``max_requests`` sets how many requests are counted instead (the set
cycled, each round reshuffled, as far as needed); ``duration`` (seconds) stops starting new
ones after that long (the set cycled until then when no ``max_requests`` is given);
requests already streaming then finish and count.

Each request is timed by a ``GapTimeline`` (``core/compare_stats.py``) passed to the
backend's own ``astream``, so the figures are those the stream panes show. A failed request
is a record with its error kind (``ProviderError.kind``) and message; it never stops the
others. Records are appended to :class:`CompareRun` as requests finish, so a cancelled run
(Ctrl+C) still holds everything that finished; requests cut off are not counted.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from array import array
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

from ..core.compare_stats import GapTimeline, RequestRecord, record_from_timeline
from ..core.redaction import mask_urls
from ..errors import ConfigError, ProviderError
from ..providers.http import HTTPModel
from ..providers.registry import build_llm

__all__ = [
    "BUILTIN_SET",
    "LAG_WARN_S",
    "CompareRun",
    "LoadShape",
    "PromptItem",
    "RequestRun",
    "builtin_prompts",
    "load_prompts",
    "poisson_arrivals",
    "run_compare",
]

#: The prompt set shipped in the package (``--builtin``).
BUILTIN_SET: Final = "builtin.jsonl"
#: Keys a JSON-lines prompt may have.
_PROMPT_KEYS: Final = frozenset({"id", "prompt", "messages", "params"})


@dataclass(frozen=True, slots=True)
class PromptItem:
    """One prompt of the set: a plain ``prompt`` or chat ``messages`` (role/content dicts),
    an ``id`` (the line number when the file gives none) and per-request ``params``
    (passed as the call's overrides of the provider's configured parameters)."""

    id: str
    prompt: str | None = None
    messages: tuple[Mapping[str, Any], ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def input(self) -> str | list[dict[str, Any]]:
        return self.prompt if self.prompt is not None else [dict(m) for m in self.messages]

    @property
    def text(self) -> str:
        """The prompt as one line of text (the recording's ``prompt`` line)."""
        if self.prompt is not None:
            return self.prompt
        return str(self.messages[-1].get("content") or "") if self.messages else ""


def _json_prompt(where: str, line: str, lineno: int) -> PromptItem:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"{where}:{lineno}: not JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise ConfigError(f"{where}:{lineno}: a prompt line is a JSON object")
    unknown = sorted(set(obj) - _PROMPT_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}:{lineno}: unknown key {unknown[0]!r} (keys: id, prompt, messages, params)"
        )
    prompt, messages, params = obj.get("prompt"), obj.get("messages"), obj.get("params", {})
    if (prompt is None) == (messages is None):
        raise ConfigError(f"{where}:{lineno}: give exactly one of 'prompt' or 'messages'")
    if prompt is not None and not isinstance(prompt, str):
        raise ConfigError(f"{where}:{lineno}: 'prompt' must be a string")
    if messages is not None and not (
        isinstance(messages, list)
        and messages
        and all(
            isinstance(m, dict) and isinstance(m.get("role"), str) and "content" in m
            for m in messages
        )
    ):
        raise ConfigError(
            f"{where}:{lineno}: 'messages' must be a non-empty list of {{role, content}} objects"
        )
    if not isinstance(params, dict):
        raise ConfigError(f"{where}:{lineno}: 'params' must be an object")
    ident = obj.get("id", lineno)
    if not isinstance(ident, str | int) or isinstance(ident, bool):
        raise ConfigError(f"{where}:{lineno}: 'id' must be a string or a number")
    return PromptItem(str(ident), prompt, tuple(messages or ()), params)


def parse_prompts(text: str, *, where: str, json_lines: bool) -> list[PromptItem]:
    """Prompts from a file's text: JSON lines, or one prompt per line. Blank lines are
    skipped (in both forms); any other bad line is a ``ConfigError`` naming ``where`` and
    the line, so nothing is dropped silently."""
    items: list[PromptItem] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        items.append(
            _json_prompt(where, line, lineno) if json_lines else PromptItem(str(lineno), line)
        )
    if not items:
        raise ConfigError(f"{where}: no prompts in the file")
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ConfigError(f"{where}: prompt id {dup!r} is given twice")
    return items


def load_prompts(path: str | Path) -> list[PromptItem]:
    """The prompt set in ``path``: JSON lines when it ends in ``.jsonl``/``.ndjson`` (or its
    first non-blank line is a JSON object), else a text file of one prompt per line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the prompt file ({exc.strerror})") from None
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    json_lines = p.suffix.lower() in (".jsonl", ".ndjson") or first.startswith("{")
    return parse_prompts(text, where=str(p), json_lines=json_lines)


def builtin_prompts() -> list[PromptItem]:
    """The prompt set shipped in the package: short, varied prompts that run offline on the
    simulated providers."""
    data = resources.files("llmstream_tui").joinpath("data", "prompts", BUILTIN_SET)
    return parse_prompts(data.read_text(encoding="utf-8"), where=BUILTIN_SET, json_lines=True)


@dataclass(frozen=True, slots=True)
class LoadShape:
    """How hard and how long each provider is driven (the module docstring has the rules)."""

    repeat: int = 1
    concurrency: int | None = None
    rate: float | None = None
    sweep: tuple[int, ...] = ()
    warmup: int = 0
    max_requests: int | None = None
    duration: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.repeat < 1:
            raise ConfigError("--repeat must be 1 or more")
        if self.concurrency is not None and self.concurrency < 1:
            raise ConfigError("--concurrency must be 1 or more")
        if self.rate is not None and not self.rate > 0:
            raise ConfigError("--rate must be more than 0 requests/s")
        if any(level < 1 for level in self.sweep):
            raise ConfigError("--sweep levels must be 1 or more")
        if self.sweep and self.rate is not None:
            raise ConfigError("--sweep (concurrency levels) and --rate cannot be combined")
        if self.sweep and self.concurrency is not None:
            raise ConfigError("--sweep gives the concurrency levels: drop --concurrency")
        if self.warmup < 0:
            raise ConfigError("--warmup must be 0 or more")
        if self.max_requests is not None and self.max_requests < 1:
            raise ConfigError("--max-requests must be 1 or more")
        if self.duration is not None and not self.duration > 0:
            raise ConfigError("--duration must be more than 0 seconds")

    def levels(self) -> list[str]:
        """The level labels, in run order: ``c4`` (closed loop, 4 in flight), ``r2.5``."""
        if self.sweep:
            return [f"c{n}" for n in self.sweep]
        if self.rate is not None:
            return [f"r{self.rate:g}"]
        return [f"c{self.concurrency or 1}"]

    def streams(self) -> int | None:
        """The most requests a provider has in flight at once (None: no bound, an open loop
        without ``concurrency``): what its connection pool must hold."""
        if self.sweep:
            return max(self.sweep)
        if self.rate is not None:
            return self.concurrency
        return self.concurrency or 1

    def counted(self, prompts: int) -> int | None:
        """How many requests a provider is to count at a level (None: until ``duration``)."""
        if self.max_requests is not None:
            return self.max_requests
        return None if self.duration is not None else prompts * self.repeat


def poisson_arrivals(rate: float, rng: random.Random) -> Iterator[float]:
    """Arrival times (seconds from 0) of a Poisson process of ``rate`` per second:
    exponential gaps of mean 1/rate, the open-loop schedule of guidellm and AIPerf."""
    t = 0.0
    while True:
        t += rng.expovariate(rate)
        yield t


@dataclass(slots=True)
class RequestRun:
    """A finished request: its record, the prompt it answered and, when the run keeps
    them (``keep_chunks``), its chunks as ``(t seconds since the request started, text,
    channel)`` and its answer text in ``record.text``; otherwise neither is held, so a long
    run's memory does not grow with the text of every answer."""

    record: RequestRecord
    prompt: PromptItem
    chunks: list[tuple[float, str, str]]


@dataclass
class CompareRun:
    """What a comparison has produced so far: filled as requests finish, so it is whole
    up to the moment a run is cancelled."""

    providers: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    requests: list[RequestRun] = field(default_factory=list)
    #: counted requests planned per (provider, level); None when bounded by time only
    planned: dict[tuple[str, str], int | None] = field(default_factory=dict)
    interrupted: bool = False
    #: the wall-clock time (Unix seconds) of the instant records' ``start_s`` count from, so
    #: runs of several processes can be put on one clock (``compare merge``)
    origin_unix: float | None = None
    #: the same instant on ``time.perf_counter_ns()`` (CLOCK_MONOTONIC on Linux, one clock
    #: for every process of the machine): records' times plus this are the timelines' own
    #: stamps, which a load generator's server can set beside its send times
    origin_ns: int | None = None
    #: per level, how late (seconds) the client's event loop woke for each of its
    #: ``LAG_TICK_S`` ticks (``watch_loop``): the delay it added to every stamp meanwhile
    loop_lag: dict[str, array[float]] = field(default_factory=dict)

    @property
    def records(self) -> list[RequestRecord]:
        return [r.record for r in self.requests]


#: Called with each counted request as it finishes (the progress bar, the live screen).
OnRequest = Callable[[RequestRun], None]
#: Called as each counted request starts: (provider, level, index, prompt, its chunk list).
#: The runner appends every chunk to that list as it arrives (``RequestRun.chunks``' form)
#: and hands the same list back in the finished ``RequestRun``: the live screen shows a
#: running request from it, and may empty it later to bound its memory.
OnStart = Callable[[str, str, int, PromptItem, list[tuple[float, str, str]]], None]


def _work(
    prompts: Sequence[PromptItem], shape: LoadShape, counted: int | None
) -> Iterator[tuple[PromptItem, bool]]:
    """(prompt, counted?) in the order they are sent: the warm-up requests first (the set
    cycled in a shuffled order of their own), then the set ``repeat`` times shuffled by
    ``seed``, so what is counted is exactly the set ``repeat`` times; when more are to be
    counted (``max_requests``, ``duration``) further rounds follow, each reshuffled."""
    rng = random.Random(shape.seed)
    warm = list(prompts)
    random.Random(f"warmup/{shape.seed}").shuffle(warm)
    for i in range(shape.warmup):
        yield warm[i % len(warm)], False
    sent = 0
    while True:
        order = [p for _ in range(shape.repeat) for p in prompts]
        rng.shuffle(order)
        for item in order:
            if counted is not None and sent >= counted:
                return
            yield item, True
            sent += 1


async def _one(
    model: Any,
    name: str,
    level: str,
    index: int,
    item: PromptItem,
    origin_ns: int,
    keep_chunks: bool,
    on_start: OnStart | None = None,
) -> RequestRun:
    tl = GapTimeline()
    chunks: list[tuple[float, str, str]] = []
    if on_start is not None:
        on_start(name, level, index, item, chunks)
        keep_chunks = True  # into the list just handed out (the answer text as --out keeps it)
    texts: list[str] = []
    error: tuple[str, str] | None = None
    tl.start()
    try:
        async for chunk in model.astream(item.input, {"timeline": tl}, **dict(item.params)):
            text = chunk if isinstance(chunk, str) else chunk.content
            if text and keep_chunks:
                texts.append(text)
                chunks.append((tl.seconds_since_start(tl.last_ns or 0), text, "text"))
            elif keep_chunks and not isinstance(chunk, str):
                thought = chunk.additional_kwargs.get("reasoning_content")
                if thought:
                    t = tl.seconds_since_start(tl.last_side_ns or 0)
                    chunks.append((t, str(thought), "reasoning"))
    except ProviderError as exc:
        error = (exc.kind, str(exc))
    except Exception as exc:  # noqa: BLE001  # a bug in a backend or plugin: that request's error, never the run's end
        # not our exception: its text may quote a URL with credentials
        error = ("internal", mask_urls(f"{name}: {type(exc).__name__}: {exc}"))
    tl.finish()
    record = record_from_timeline(
        tl,
        provider=name,
        level=level,
        index=index,
        prompt_id=item.id,
        origin_ns=origin_ns,
        text="".join(texts),
        error=error,
    )
    return RequestRun(record, item, chunks)


async def _drive_provider(
    model: Any,
    name: str,
    level: str,
    prompts: Sequence[PromptItem],
    shape: LoadShape,
    run: CompareRun,
    origin_ns: int,
    on_request: OnRequest | None,
    keep_chunks: bool,
    on_start: OnStart | None = None,
) -> None:
    counted = shape.counted(len(prompts))
    work = _work(prompts, shape, counted)
    deadline = None if shape.duration is None else time.monotonic() + shape.duration
    index = 0

    def next_item() -> tuple[int, PromptItem, bool] | None:
        nonlocal index
        if deadline is not None and time.monotonic() >= deadline:
            return None
        got = next(work, None)
        if got is None:
            return None
        index += 1
        return index - 1, got[0], got[1]

    async def send(i: int, item: PromptItem, counts: bool) -> None:
        started = on_start if counts else None
        done = await _one(model, name, level, i, item, origin_ns, keep_chunks, started)
        if counts:
            run.requests.append(done)
            if on_request is not None:
                on_request(done)

    if shape.rate is None:
        width = int(level[1:])

        async def worker() -> None:
            while (got := next_item()) is not None:
                await send(*got)

        await _gather([worker() for _ in range(width)])
    else:
        await _open_loop(shape, name, next_item, send, deadline)


async def _open_loop(
    shape: LoadShape,
    name: str,
    next_item: Callable[[], tuple[int, PromptItem, bool] | None],
    send: Callable[[int, PromptItem, bool], Awaitable[None]],
    deadline: float | None,
) -> None:
    """Start each request at its Poisson arrival, whatever is still in flight (at most
    ``concurrency`` at once when it is given: later arrivals then wait for a slot)."""
    assert shape.rate is not None
    cap = asyncio.Semaphore(shape.concurrency) if shape.concurrency else None
    arrivals = poisson_arrivals(shape.rate, random.Random(f"arrivals/{shape.seed}/{name}"))
    start = time.monotonic()
    tasks: list[asyncio.Task[None]] = []

    async def capped(i: int, item: PromptItem, counts: bool) -> None:
        if cap is None:
            await send(i, item, counts)
            return
        async with cap:
            await send(i, item, counts)

    try:
        while (got := next_item()) is not None:
            due = start + next(arrivals)
            if deadline is not None and due >= deadline:
                break  # the next arrival falls after the end: no reason to wait for it
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(capped(*got)))
        await _gather(tasks)
    finally:
        for task in tasks:
            task.cancel()


#: How often the client's loop times its own wake-up while a comparison runs.
LAG_TICK_S: Final = 0.01
#: The loop lag (p99, seconds) above which a level's figures are flagged as partly the
#: client's: a tenth of the gap of a 10 tokens/s stream, the slowest worth timing.
LAG_WARN_S: Final = 0.01


async def watch_loop(samples: array[float]) -> None:
    """Append how late each ``LAG_TICK_S`` sleep woke, until cancelled. A chunk that
    arrives while the loop is busy (parsing 256 other streams, a progress bar, a screen
    drawn in another thread holding the GIL) waits in the socket and is stamped late by
    as much: this is the client's own share of every TTFT and gap it reports, measured
    in the run itself rather than assumed small (issue 18)."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + LAG_TICK_S
        await asyncio.sleep(LAG_TICK_S)
        samples.append(max(0.0, loop.time() - due))


async def _gather(aws: Sequence[Awaitable[None]]) -> None:
    """Run all; on cancellation (or a bug in one) cancel the rest before leaving."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_compare(
    targets: Sequence[tuple[str, Mapping[str, Any]]],
    prompts: Sequence[PromptItem],
    shape: LoadShape,
    *,
    run: CompareRun | None = None,
    on_request: OnRequest | None = None,
    client: Any = None,
    keep_chunks: bool = False,
    on_start: OnStart | None = None,
) -> CompareRun:
    """Run the comparison: ``targets`` are (display name, provider table), as the CLI
    resolves them; ``client`` is injected into HTTP kinds (tests bind it to a loopback
    server). Pass ``run`` to keep what finished when the caller cancels; ``on_start`` to
    watch each counted request as it streams (``OnStart``)."""
    run = run if run is not None else CompareRun()
    run.providers = [name for name, _ in targets]
    run.levels = shape.levels()
    counted = shape.counted(len(prompts))
    for level in run.levels:
        for name in run.providers:
            run.planned[(name, level)] = counted
    models = [build_llm(dict(table), name=name, client=client) for name, table in targets]
    streams = shape.streams()
    for model in models:
        if isinstance(model, HTTPModel):
            model.size_pool(streams)  # no request waits for a connection (its TTFT would)
            # made now, not in the first request: building a client loads the TLS trust
            # store, which blocks the loop for a large part of a second and would land in
            # the first requests' times (and in every other stream running meanwhile)
            model.client  # noqa: B018  # the property makes the client
    origin_ns = time.perf_counter_ns()
    run.origin_unix = time.time()
    run.origin_ns = origin_ns
    try:
        for level in run.levels:
            watch = asyncio.ensure_future(watch_loop(run.loop_lag.setdefault(level, array("d"))))
            try:
                await _gather(
                    [
                        _drive_provider(
                            model,
                            name,
                            level,
                            prompts,
                            shape,
                            run,
                            origin_ns,
                            on_request,
                            keep_chunks,
                            on_start,
                        )
                        for model, (name, _) in zip(models, targets, strict=True)
                    ]
                )
            finally:
                watch.cancel()
    except asyncio.CancelledError:
        run.interrupted = True
        raise
    finally:
        for model in models:
            await model.aclose()
    return run
