"""How fast the app takes chunks in, headless, against Textual's own widgets.

Every case streams the same chunks (the origin example's 31 chunks, newlines included,
repeated) from a zero-latency ``scripted`` provider through ``astream_events`` v2 with a
``StreamTimeline``, and is timed from the moment the prompt is sent until the last chunk is
drawn. Cases run alternately in one process; figures are medians (see ``common.py``).

- ``app, N pane(s)``: ``make_app`` as the CLI builds it, delimiters and tints on, history
  saving on (as for a user), and the events log open and collecting every event, so its
  cost counts.
- ``Log per frame``: Textual's ``Log`` in a bare app, fed the same chunks joined once per
  frame (plain text, no wrapping, no delimiters: the practical ceiling of a Textual widget).
- ``RichLog per frame``: ``RichLog(wrap=True)`` fed a ``Text`` per frame the same way.
- ``core only``: ``astream_events`` consumed with no app at all: the ceiling set by the core.

Also: the cost per chunk as the stream grows (200k chunks vs 20k: target <= 11x), the state
kept per chunk for a long session, and how long a key typed during the fastest stream takes
to reach the screen (a thread posts keys as the terminal driver does; a key counts as shown
at the first screen update that draws the prompt after the keystroke).

Run: ``python -m bench.ui_ingest`` (``--smoke``: tiny sizes, one repeat).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from functools import partial
from itertools import pairwise
from typing import Any

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Log, RichLog

from llmstream_tui import build_llm
from llmstream_tui.config import Settings, UISettings
from llmstream_tui.core.messages import AIMessageChunk
from llmstream_tui.core.metrics import StreamTimeline
from llmstream_tui.providers.scripted import DEFAULT_CHUNKS
from llmstream_tui.ui.app import make_app

from .common import Row, format_table, rows_from, write_json

SIZE = (160, 48)
FPS = 30


def _table(chunks: int) -> dict[str, Any]:
    repeat = max(1, chunks // len(DEFAULT_CHUNKS))
    return {"kind": "scripted", "chunks": list(DEFAULT_CHUNKS), "repeat": repeat}


def _chunk_count(chunks: int) -> int:
    return max(1, chunks // len(DEFAULT_CHUNKS)) * len(DEFAULT_CHUNKS)


def _settings(panes: int, chunks: int) -> Settings:
    providers = {f"p{i}": _table(chunks) for i in range(panes)}
    return Settings(
        providers=providers,
        default_providers=list(providers),
        ui=UISettings(events_open="yes", cursor_blink=False, fps=FPS),
    )


# -- the app -------------------------------------------------------------------------------


async def _app_run(panes: int, chunks: int) -> float:
    """Seconds from send to the last chunk drawn, ``panes`` panes of ``chunks`` each."""
    app = make_app(_settings(panes, chunks))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        started = time.perf_counter()
        await app.send("go")
        await app.settle()
        elapsed = time.perf_counter() - started
        total = sum(p.session.timeline.chunks for p in app.panes if p.session.timeline)
        assert total == panes * _chunk_count(chunks), total
        assert all(p.session.state == "done" for p in app.panes)
    return elapsed


# -- baselines -----------------------------------------------------------------------------


class _Baseline(App[None]):
    """A bare app with one Textual log widget, fed once per frame by a worker that consumes
    the same ``astream_events`` stream as a pane does."""

    def __init__(
        self, widget_factory: Callable[[], Log | RichLog], chunks: int, panes: int
    ) -> None:
        super().__init__()
        self.factory = widget_factory
        self.chunks = chunks
        self.panes = panes
        self.buffers: list[list[str]] = [[] for _ in range(panes)]
        self.logs: list[Log | RichLog] = []
        self.done = 0
        self.finished = asyncio.Event()

    def compose(self) -> ComposeResult:
        for _ in range(self.panes):
            widget = self.factory()
            self.logs.append(widget)
            yield widget

    def on_mount(self) -> None:
        self.set_interval(1 / FPS, self.flush)

    def flush(self) -> None:
        for i, log in enumerate(self.logs):
            batch = self.buffers[i]
            if batch:
                self.buffers[i] = []
                joined = "".join(batch)
                if isinstance(log, Log):
                    log.write(joined)
                else:
                    log.write(Text(joined))

    def start(self) -> None:
        for i in range(self.panes):
            self.run_worker(self.consume(i))

    async def consume(self, index: int) -> None:
        llm = build_llm(_table(self.chunks))
        timeline = StreamTimeline()
        n = 0
        async for ev in llm.astream_events("go", {"timeline": timeline}, version="v2"):
            if ev["event"] == "on_chat_model_stream":
                chunk = ev["data"]["chunk"]
                assert isinstance(chunk, AIMessageChunk)  # scripted is a chat model
                text = chunk.content
                if text:
                    self.buffers[index].append(text)
            n += 1
            if n % 256 == 0:
                await asyncio.sleep(0)
        self.done += 1
        if self.done == self.panes:
            self.finished.set()


async def _baseline_run(factory: Callable[[], Log | RichLog], panes: int, chunks: int) -> float:
    app = _Baseline(factory, chunks, panes)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        started = time.perf_counter()
        app.start()
        await app.finished.wait()
        app.flush()
        elapsed = time.perf_counter() - started
        await pilot.pause()
    return elapsed


async def _core_run(panes: int, chunks: int) -> float:
    async def one() -> None:
        llm = build_llm(_table(chunks))
        n = 0
        async for _ev in llm.astream_events("go", {"timeline": StreamTimeline()}, version="v2"):
            n += 1
            if n % 256 == 0:
                await asyncio.sleep(0)

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(panes)))
    return time.perf_counter() - started


# -- key latency ---------------------------------------------------------------------------


async def _key_latency(chunks: int, presses: int) -> tuple[list[float], float]:
    """Latencies (seconds) from a key posted by a thread to the first screen update that
    draws the prompt with it, during the fastest stream; and the screen's frame period."""
    app = make_app(_settings(1, chunks))
    latencies: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        prompt = app.prompt_area
        timer = screen._update_timer
        original = timer._callback
        assert original is not None  # the screen's update timer always has its callback
        state: dict[str, Any] = {"pressed": None, "char": None}
        frames: list[float] = []

        def on_update() -> None:
            dirty = prompt in screen._dirty_widgets or screen._layout_required
            original()
            now = time.perf_counter()
            frames.append(now)
            char = state["char"]
            streaming = app.panes[0].session.state == "streaming"
            if char is not None and dirty and streaming and prompt.text.endswith(char):
                latencies.append(now - state["pressed"])
                state["char"] = None

        timer._callback = on_update  # the screen's frame: wrapped to timestamp each update
        loop = asyncio.get_running_loop()
        stop = threading.Event()

        def typist() -> None:
            time.sleep(0.1)
            for i in range(presses):
                if stop.is_set():
                    return
                char = "abcdefghij"[i % 10]
                state["char"] = char
                state["pressed"] = time.perf_counter()
                loop.call_soon_threadsafe(app.post_message, events.Key(char, char))
                time.sleep(0.12)

        await app.send("go")
        thread = threading.Thread(target=typist, daemon=True)
        thread.start()
        await app.settle()
        stop.set()
        thread.join()
        pane = app.panes[0]
        assert pane.session.state == "done"
        busy = [b - a for a, b in pairwise(frames)]
    frame = statistics.median(busy) if busy else 1 / 60
    return latencies, frame


# -- state per chunk -----------------------------------------------------------------------


def _deep_size(obj: Any, seen: set[int]) -> int:
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(_deep_size(k, seen) + _deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, list | tuple | set | frozenset):
        size += sum(_deep_size(x, seen) for x in obj)
    else:
        for klass in type(obj).__mro__:
            for name in getattr(klass, "__slots__", ()):
                if hasattr(obj, name):
                    size += _deep_size(getattr(obj, name), seen)
    return size


async def _state_bytes(chunks: int) -> tuple[float, float, int, int]:
    """Bytes kept per chunk by a finished pane (chunk view + conversation), and by the
    chunk view alone, after ``chunks`` chunks; plus view rows kept and events-log lines."""
    app = make_app(_settings(1, chunks))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.send("go")
        await app.settle()
        pane = app.panes[0]
        model = pane.body.chunk_text
        seen: set[int] = set()
        view = _deep_size(model.lines, seen) + _deep_size(model.rows, seen)
        convo = _deep_size(pane.session.conversation, seen)
        n = _chunk_count(chunks)
        log_lines = len(app.events_log.entries)
        rows = model.row_count
    return (view + convo) / n, view / n, rows, log_lines


# -- main ----------------------------------------------------------------------------------


def _median_runs(fn: Callable[[], float], repeats: int) -> list[float]:
    return [fn() for _ in range(repeats)]


def run_bench(smoke: bool = False, repeats: int = 3) -> list[Row]:
    """Every UI case, as rows for ``python -m bench``'s table."""
    small, big = (2_000, 6_000) if smoke else (20_000, 200_000)
    repeats = 1 if smoke else repeats
    long_session = 20_000 if smoke else 1_000_000
    os.environ.setdefault("LLMSTREAM_DATA_DIR", tempfile.mkdtemp(prefix="llmstream-bench-"))

    def run(coro: Any) -> float:
        gc.collect()
        return asyncio.run(coro)

    def timed(
        case: Callable[[int, int], Coroutine[Any, Any, float]], panes: int, chunks: int
    ) -> Callable[[], float]:
        """A case to time: each call runs a fresh coroutine (one cannot be awaited twice)."""
        return lambda: run(case(panes, chunks))

    rows: list[Row] = []

    # 1. one pane, and 2. four panes (the same total of chunks spread over four)
    for panes in (1, 4):
        per = big // panes
        total = _chunk_count(per) * panes
        cases: dict[str, Callable[[], float]] = {
            f"app, {panes} pane(s), delimiters+tints": timed(_app_run, panes, per),
            "Log per frame": timed(partial(_baseline_run, Log), panes, per),
            "RichLog(wrap) per frame": timed(
                partial(_baseline_run, lambda: RichLog(wrap=True)), panes, per
            ),
            "core astream_events only": timed(_core_run, panes, per),
        }
        samples: dict[str, list[float]] = {k: [] for k in cases}
        for _ in range(repeats):
            for name, fn in cases.items():
                samples[name].append(total / fn())
        rows += rows_from(
            f"ingest x{panes}",
            samples,
            "chunks/s",
            "Log per frame",
            notes={"core astream_events only": "(no UI: the ceiling)"},
        )

    # 3. cost per chunk as the stream grows
    scale: dict[str, list[float]] = {"app 20k": [], "app 200k": [], "core 20k": [], "core 200k": []}
    for _ in range(repeats):
        scale["app 20k"].append(run(_app_run(1, small)))
        scale["app 200k"].append(run(_app_run(1, big)))
        scale["core 20k"].append(run(_core_run(1, small)))
        scale["core 200k"].append(run(_core_run(1, big)))
    med = {k: statistics.median(v) for k, v in scale.items()}
    rows.append(
        Row(
            "scaling",
            f"app: time({big:,}) / time({small:,})",
            med["app 200k"] / med["app 20k"],
            "x",
            note="target <= 11x",
        )
    )
    rows.append(
        Row(
            "scaling",
            f"core only: time({big:,}) / time({small:,})",
            med["core 200k"] / med["core 20k"],
            "x",
            note="for comparison",
        )
    )

    # 4. key latency during the fastest stream
    # long enough that every key lands mid-stream (typing takes ~1.5 s), and a key shown
    # after the stream ended does not count
    latencies, frame = asyncio.run(
        _key_latency(200_000 if smoke else long_session, 3 if smoke else 12)
    )
    if latencies:
        rows.append(
            Row(
                "keys",
                "key to screen, median",
                statistics.median(latencies) * 1000,
                "ms",
                note=f"{len(latencies)} keys; frame {frame * 1000:.1f} ms",
            )
        )
        rows.append(
            Row(
                "keys",
                "key to screen, worst",
                max(latencies) * 1000,
                "ms",
                ratio=max(latencies) / frame,
                baseline="frames",
                note="target: within 2 frames",
            )
        )
    else:
        rows.append(Row("keys", "key to screen", float("nan"), "ms", note="no key measured"))

    # 5. state kept per chunk
    per_chunk, view_only, kept_rows, log_lines = asyncio.run(_state_bytes(long_session))
    rows.append(
        Row(
            "ui memory",
            f"pane state after {long_session:,} chunks",
            per_chunk,
            "B/chunk",
            note=f"view {view_only:.1f} B/chunk ({kept_rows:,} rows kept); "
            f"events log {log_lines:,} lines (bounded)",
        )
    )

    return rows


def run(smoke: bool = False) -> list[Row]:
    """The runner's entry point (``python -m bench``)."""
    return run_bench(smoke)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ui_ingest", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    rows = run_bench(args.smoke, args.repeats)
    repeats = 1 if args.smoke else args.repeats
    n_big = _chunk_count(6_000 if args.smoke else 200_000)
    print(
        f"chunks per case: {n_big:,} ({len(DEFAULT_CHUNKS)}-chunk song repeated), "
        f"headless {SIZE[0]}x{SIZE[1]}, {FPS} fps flush, median of {repeats}"
    )
    print(format_table(rows))
    if not args.smoke:
        path = write_json(rows, "ui_ingest.json")
        print(f"written {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
