"""Memory of a long session: what stays allocated per chunk, and the process's peak RSS.

Every case runs in a fresh interpreter (``python -m bench.memory --child CASE``), so one
case's garbage, caches and allocator arenas never count against another. A child builds what
it needs first, then streams ``CHUNKS`` chunks (a zero-latency ``scripted`` provider, the
origin example's chunks repeated) and reports:

- **retained**: bytes still allocated when the session is over, per chunk (tracemalloc,
  after a full collection), with the session's objects still alive: what a long session
  costs for as long as it is kept. The ratio column compares it with the text itself
  (``len(text.encode())``), the least any store that keeps the answer can hold;
- **peak traced**: the most tracemalloc saw allocated at once during the stream, per chunk;
- **peak RSS**: the process's high-water mark (``VmHWM``; ``resource.getrusage`` where
  there is no ``/proc``) in a run without tracemalloc (which costs memory of its own), and
  its growth per chunk over the RSS after the imports and set-up.

Cases:

- ``core``: ``astream_events`` v2 into a consumer that keeps what the app keeps of a run: a
  ``StreamTimeline`` and the text (joined once per 4,096 chunks, as a pane joins per frame);
- ``pane store``: ``ChunkText`` (the model behind a pane's ``ChunkView``: wrapped rows,
  delimiters, tints, bounded scrollback of ``max_rows``) fed the chunks directly, 4,096 per
  call as a frame would, no screen;
- ``pane session``: the pane without a screen: ``PaneSession.run`` (the worker a pane runs:
  conversation, pending chunks, events) drained into a ``ChunkText``, events dropped as
  the bounded events log would drop them;
- ``recorder file`` / ``recorder file+history``: ``SessionRecorder`` fed every event, writing
  a recording file (``--record``), and that plus the history database (what ``stream
  --record`` does by default). Memory should stay flat however long the stream: the writer
  thread drains the pending lines every 50 ms.

Run: ``python -m bench.memory`` (``--smoke``: 20,000 chunks; ``--chunks N``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from .common import Row, format_table, write_json

CHUNKS = 1_000_000
SMOKE_CHUNKS = 20_000
REPEATS = 3
FRAME = 4096
CASES = ("core", "pane store", "pane session", "recorder file", "recorder file+history")


def _chunk_list() -> list[str]:
    """25 of the origin example's chunks (three newlines among them): 1,000,000 divides."""
    from llmstream_tui.providers.scripted import DEFAULT_CHUNKS

    return list(DEFAULT_CHUNKS[:25])


def _llm(chunks: int) -> Any:
    from llmstream_tui import build_llm

    pieces = _chunk_list()
    return build_llm(
        {"kind": "scripted", "chunks": pieces, "repeat": max(1, chunks // len(pieces))},
        name="bench",
    )


def _text_bytes(chunks: int) -> int:
    pieces = _chunk_list()
    return len("".join(pieces).encode()) * max(1, chunks // len(pieces))


def _rss_now() -> int:
    """Resident set size now, in bytes (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _maxrss() -> int:
    """Peak resident set size of this process, in bytes. Linux's ``getrusage`` carries
    ``ru_maxrss`` over from the parent across fork and exec (a child of a big runner would
    report the runner's peak), so ``VmHWM``, which starts afresh with the new program, is
    read first."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


# -- the cases (each returns what the session keeps, and the chunks it saw) -------------------


async def _core(llm: Any, tmp: Path) -> tuple[Any, int]:
    from llmstream_tui.core.metrics import StreamTimeline

    timeline = StreamTimeline()
    frames: list[str] = []
    recent: list[str] = []
    append = recent.append
    async for ev in llm.astream_events("go", {"timeline": timeline}, version="v2"):
        if ev["event"] == "on_chat_model_stream":
            text = ev["data"]["chunk"].content
            if text:
                append(text)
                if len(recent) >= FRAME:
                    frames.append("".join(recent))
                    recent.clear()
    frames.append("".join(recent))
    return (timeline, frames), timeline.chunks


async def _pane_store(llm: Any, tmp: Path) -> tuple[Any, int]:
    from llmstream_tui.ui.chunk_text import ChunkText

    layout = ChunkText(78, delimiter="|")
    pieces = _chunk_list()
    total = llm.spec.repeat * len(pieces)
    frame = (pieces * (FRAME // len(pieces) + 1))[: FRAME - FRAME % len(pieces)]
    sent = 0
    while sent < total:
        batch = frame if total - sent >= len(frame) else frame[: total - sent]
        layout.add_chunks(batch)
        sent += len(batch)
    return layout, layout.chunks


async def _pane_session(llm: Any, tmp: Path) -> tuple[Any, int]:
    from llmstream_tui.ui.chunk_text import ChunkText
    from llmstream_tui.ui.session import PaneSession

    session = PaneSession("bench", "scripted", llm)
    layout = ChunkText(78, delimiter="|")
    task = asyncio.ensure_future(session.run("go"))
    while True:
        done = task.done()
        batch = session.take_pending()
        if batch:
            layout.add_chunks(batch)
        session.take_events()  # the events log keeps a bounded tail (measured in ui_ingest)
        if done:
            break
        await asyncio.sleep(0)
    await task
    assert session.state == "done", session.error
    timeline = session.timeline
    return (session, layout), timeline.chunks if timeline is not None else 0


async def _record(llm: Any, tmp: Path, history: bool) -> tuple[Any, int]:
    from llmstream_tui.core.metrics import StreamTimeline
    from llmstream_tui.sessions import SessionRecorder

    recorder = SessionRecorder.open(
        record=tmp / "session.jsonl", history=history, history_path=tmp / "history.db"
    )
    recorder.begin_turn("go")
    timeline = StreamTimeline()
    run = recorder.start_run(llm, timeline=timeline)
    observe = run.observe
    async for ev in llm.astream_events("go", {"timeline": timeline}, version="v2"):
        observe(ev)
    recorder.close()
    assert not recorder.problems, recorder.problems
    return timeline, timeline.chunks


async def _recorder_file(llm: Any, tmp: Path) -> tuple[Any, int]:
    return await _record(llm, tmp, history=False)


async def _recorder_history(llm: Any, tmp: Path) -> tuple[Any, int]:
    return await _record(llm, tmp, history=True)


RUNNERS: dict[str, Callable[[Any, Path], Coroutine[Any, Any, tuple[Any, int]]]] = {
    "core": _core,
    "pane store": _pane_store,
    "pane session": _pane_session,
    "recorder file": _recorder_file,
    "recorder file+history": _recorder_history,
}


def child(case: str, chunks: int, traced: bool) -> dict[str, Any]:
    """Run one case in this (fresh) process and report its figures."""
    with tempfile.TemporaryDirectory(prefix="llmstream-bench-") as tmp:
        os.environ["LLMSTREAM_DATA_DIR"] = tmp
        llm = _llm(chunks)
        # import what the case imports, and let any lazy set-up happen, before measuring
        asyncio.run(RUNNERS[case](_llm(len(_chunk_list())), Path(tmp)))
        for name in ("session.jsonl", "history.db", "history.db-wal", "history.db-shm"):
            (Path(tmp) / name).unlink(missing_ok=True)
        gc.collect()
        rss_before, maxrss_before = _rss_now(), _maxrss()
        if traced:
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        kept, seen = asyncio.run(RUNNERS[case](llm, Path(tmp)))
        elapsed = time.perf_counter() - started
        gc.collect()
        out: dict[str, Any] = {
            "case": case,
            "chunks": seen,
            "seconds": elapsed,
            "text_bytes": _text_bytes(chunks),
        }
        if traced:
            current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            out.update(retained=current - base, peak=peak - base)
        else:
            out.update(
                maxrss=_maxrss(),
                rss_before=rss_before,
                growth=max(0, _maxrss() - max(rss_before, maxrss_before)),
            )
        recording = Path(tmp) / "session.jsonl"
        if recording.exists():
            out["file_bytes"] = recording.stat().st_size
        del kept
    return out


def _spawn(case: str, chunks: int, traced: bool) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.memory", "--child", case, "--chunks", str(chunks)]
    if traced:
        cmd.append("--traced")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=root)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(
    smoke: bool = False,
    chunks: int = CHUNKS,
    repeats: int = REPEATS,
    cases: tuple[str, ...] = CASES,
) -> list[Row]:
    """Retained bytes per chunk (one traced run per case: tracemalloc's counts do not vary
    from run to run) and peak RSS (the median of ``repeats`` alternating untraced runs)."""
    if smoke:
        chunks, repeats = SMOKE_CHUNKS, 1
    traced = {case: _spawn(case, chunks, True) for case in cases}
    untraced: dict[str, list[dict[str, Any]]] = {case: [] for case in cases}
    for _ in range(repeats):
        for case in cases:
            untraced[case].append(_spawn(case, chunks, False))
    rows: list[Row] = []
    for case in cases:
        t = traced[case]
        n = t["chunks"]
        assert n == max(1, chunks // len(_chunk_list())) * len(_chunk_list()), (case, n)
        text = t["text_bytes"]
        note = (
            f"{n:,} chunks: {t['retained'] / 2**20:.1f} MiB in all; "
            f"peak traced {t['peak'] / n:.1f} B/chunk; text {text / n:.2f} B/chunk"
        )
        if "file_bytes" in t:
            note += f"; recording {t['file_bytes'] / n:.0f} B/chunk on disk"
        rows.append(
            Row(
                "memory",
                f"{case}, retained",
                t["retained"] / n,
                "B/chunk",
                t["retained"] / text,
                "the text's bytes",
                note,
            )
        )
        runs = untraced[case]
        peak = [r["maxrss"] / 2**20 for r in runs]
        growth = statistics.median(r["growth"] for r in runs)
        seconds = statistics.median(r["seconds"] for r in runs)
        rows.append(
            Row(
                "memory",
                f"{case}, peak RSS",
                statistics.median(peak),
                "MiB",
                note=f"+{growth / n:.1f} B/chunk over the RSS after set-up; "
                f"{n / seconds:,.0f} chunks/s untraced",
                samples=peak,
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.memory",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_CHUNKS:,} chunks")
    parser.add_argument("--chunks", type=int, default=CHUNKS)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument(
        "--case", choices=CASES, action="append", help="only this case (repeatable; default: all)"
    )
    parser.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.chunks, args.traced)))
        return 0
    rows = run(args.smoke, args.chunks, args.repeats, tuple(args.case or CASES))
    print(format_table(rows))
    if not args.smoke:
        print(f"results: {write_json(rows, 'memory.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
