"""The app in a real pseudo-terminal: what a user's terminal receives, and when.

The headless ingest bench (``ui_ingest.py``) times the app drawing into Textual's headless
driver, which throws the frames away. A user's terminal gets every frame as escape
sequences through a pty, written by the driver's writer thread; that path (segments to
ANSI, the write, a terminal that falls behind) is what this section measures.

Each case starts ``llmstream-tui app go`` as a user does (a fresh process with a config of
one ``scripted`` provider with zero delays, delimiters and tints on, the events log open,
history on or off, HOME and the data dir in a temporary directory) on a pty of its own
(``TERM=xterm-256color``, the size set with ``TIOCSWINSZ`` before the app starts). The bench
reads the pty as fast as it can, timestamping every read, and answers nothing. It then
finds the first read whose bytes hold:

- a word of the answer ("first chunk visible"), and
- the last chunk, a word found nowhere else (``ZZEND``: "last chunk visible").

Textual writes only what is on the screen, and a run of text in one style as it is, so a
word on the wire is a word on the screen; ``tests/bench/test_bench_terminal.py`` checks it
with a terminal emulator (``emulated_screen``: pyte shows the last word after that read and
not before). pyte is pure Python (about 200 KB/s here, slower than the app writes), so it
stays out of the timed path: the reader only copies bytes, as a fast terminal would. The
app's CPU time over the same window is read from ``/proc/<pid>/stat``; its whole-process
CPU from ``getrusage`` when it exits.

Keys: during a 1,000,000-chunk stream a thread types a letter into the prompt every
~100 ms (written to the pty as a terminal would), and each key's latency is the time from
the write to the first read that draws the prompt holding every key typed so far.

Run: ``python -m bench.terminal`` (``--smoke``: tiny sizes, one repeat; ``--profile FILE``
runs one case (``--chunks``, 200k by default) at 160x48 under py-spy, writing its raw
samples to FILE).
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from .common import Row, format_table

#: The answer's first chunk: one of the words every repetition of the origin example holds
#: is enough to say the answer reached the screen (it is written nowhere else).
FIRST_WORDS = ("Bubbles", "Sparkling", "Refreshing", "dancing")
#: The answer's last chunk, found nowhere else on the screen.
LAST_WORD = "ZZEND"
#: Letters typed during the key test (none appears in the answer, the metrics or the chrome
#: as a run of several), so the prompt's text so far is found on the screen only there.
KEYS = "QJXZVKWQJXZVKW"
#: Keys typed before the timed ones (see ``key_latencies``).
UNTIMED = 2
SIZES = ((160, 48), (80, 24))
FPS = 30
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _answer(chunks: int) -> list[str]:
    """``chunks`` chunks of the origin example, the last one ``LAST_WORD``."""
    from llmstream_tui.providers.scripted import DEFAULT_CHUNKS

    body = (DEFAULT_CHUNKS * (chunks // len(DEFAULT_CHUNKS) + 1))[: chunks - 1]
    return [*body, f" {LAST_WORD}"]


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write_config(directory: Path, chunks: int, *, history: bool, repeat: int = 1) -> Path:
    """A config as a user would write it: one zero-delay ``scripted`` provider streaming
    ``chunks`` chunks (``repeat`` times), delimiters and tints on, the events log open."""
    answer = _answer(chunks)
    path = directory / "config.toml"
    path.write_text(
        f'default_providers = ["fast"]\ndelimiter = "|"\nhistory = {str(history).lower()}\n'
        '[ui]\ntints = true\nevents_open = "yes"\ncursor_blink = false\n'
        f"fps = {FPS}\n"
        '[providers.fast]\nkind = "scripted"\n'
        f"repeat = {repeat}\n"
        "chunks = [" + ",".join(_toml_string(c) for c in answer) + "]\n",
        encoding="utf-8",
    )
    return path


@dataclass
class Capture:
    """What the pty gave, read by read, with the app's CPU ticks at each read."""

    reads: list[tuple[float, bytes]] = field(default_factory=list)
    keys: list[tuple[float, str]] = field(default_factory=list)
    cpu: list[tuple[float, float]] = field(default_factory=list)  # (time, app CPU seconds)
    started: float = 0.0
    rusage_cpu_s: float = 0.0
    status: int = 0


def _proc_cpu(pid: int) -> float:
    """The process's user + system CPU seconds so far (``/proc/<pid>/stat``)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def run_in_pty(
    argv: list[str],
    env: dict[str, str],
    size: tuple[int, int],
    *,
    typist: Callable[[int, Capture], None] | None = None,
    timeout: float = 120.0,
) -> Capture:
    """Run ``argv`` on a new pty of ``size`` (columns, rows), reading everything it writes
    until it exits. Ctrl+Q is sent once the last word has been written (the app quits);
    ``typist(master_fd, capture)`` runs in a thread and may write keys meanwhile."""
    cols, rows = size
    capture = Capture()
    before = os.times()
    pid, master = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal and stdio
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    capture.started = time.perf_counter()
    last = LAST_WORD.encode()
    tail = b""
    quit_sent = False
    seen = False
    thread: threading.Thread | None = None
    if typist is not None:
        thread = threading.Thread(target=typist, args=(master, capture), daemon=True)
        thread.start()
    deadline = capture.started + timeout
    try:
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError(f"{' '.join(argv)}: still running after {timeout:.0f} s")
            ready, _, _ = select.select([master], [], [], min(remaining, 0.2))
            if ready:
                try:
                    data = os.read(master, 1 << 20)
                except OSError:  # EIO: the child closed the pty (exited)
                    break
                if not data:
                    break
                now = time.perf_counter()
                capture.reads.append((now, data))
                capture.cpu.append((now, _proc_cpu(pid)))
                seen = seen or last in tail + data
                tail = data[-len(last) :]
            done = not thread.is_alive() if thread is not None else seen
            if done and not quit_sent:
                os.write(master, b"\x11")  # ctrl+q: the app quits
                quit_sent = True
    finally:
        if time.perf_counter() >= deadline:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(master)
    after = os.times()
    capture.rusage_cpu_s = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    capture.status = status
    if thread is not None:
        thread.join()
    return capture


# -- reading the screen afterwards ---------------------------------------------------------


def first_read_with(
    capture: Capture, words: tuple[str, ...], *, after: float = 0.0
) -> tuple[int, float] | None:
    """The index and time of the first read (at or after ``after``) whose bytes, with the
    end of the read before, hold one of ``words``.

    Textual writes only what is visible and writes a line's text as runs of characters
    between style changes, so a word in one style (a chunk, the prompt's text) is on the
    wire only when it reaches the screen. ``emulated_screen`` checks it on a full terminal
    emulator (the smoke test compares both).
    """
    encoded = [w.encode() for w in words]
    keep = max(len(w) for w in encoded)
    tail = b""
    for index, (when, data) in enumerate(capture.reads):
        window = tail + data
        tail = window[-keep:]
        if when >= after and any(w in window for w in encoded):
            return index, when
    return None


def emulated_screen(capture: Capture, size: tuple[int, int], upto: int) -> list[str]:
    """The screen a terminal emulator (pyte, xterm-like) shows after reads ``0..upto``.

    pyte is pure Python (about 200 KB/s here, slower than the app writes), so the timing
    uses ``first_read_with`` and this confirms what it found."""
    import pyte

    cols, rows = size
    screen = pyte.Screen(cols, rows)
    stream = pyte.ByteStream(screen)
    for _, data in capture.reads[: upto + 1]:
        stream.feed(data)
    return list(screen.display)


def key_latencies(capture: Capture) -> list[float]:
    """Seconds from each key's write to the first read that draws the prompt holding every
    key typed so far. The first ``UNTIMED`` keys are not timed: one letter alone may be
    written elsewhere (the footer's "Quit" holds a Q)."""
    latencies: list[float] = []
    typed = ""
    for number, (pressed, char) in enumerate(capture.keys):
        typed += char
        if number < UNTIMED:
            continue
        hit = first_read_with(capture, (typed,), after=pressed)
        if hit is not None:
            latencies.append(hit[1] - pressed)
    return latencies


# -- the cases -----------------------------------------------------------------------------


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX", "NO_COLOR")}
    env.update(
        HOME=str(home),
        LLMSTREAM_DATA_DIR=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "share"),
        TERM="xterm-256color",
        COLORTERM="truecolor",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def _argv(config: Path) -> list[str]:
    return [sys.executable, "-m", "llmstream_tui", "--config", str(config), "app", "go"]


@dataclass
class Ingest:
    """One run: first chunk visible -> last chunk visible, and the app's CPU meanwhile."""

    seconds: float
    cpu_s: float
    process_cpu_s: float
    chunks: int
    capture: Capture = field(repr=False)
    first_read: int = 0
    last_read: int = 0


def _cpu_at(capture: Capture, when: float) -> float:
    for t, cpu in capture.cpu:
        if t >= when:
            return cpu
    return capture.cpu[-1][1]


def ingest_once(
    chunks: int, size: tuple[int, int], *, history: bool, profile: Path | None = None
) -> Ingest:
    """One run of the app; ``profile``: under py-spy, its samples written there."""
    with tempfile.TemporaryDirectory(prefix="llmstream-term-") as tmp:
        home = Path(tmp)
        config = write_config(home, chunks, history=history)
        argv = _argv(config)
        if profile is not None:
            spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
            argv = [spy, "record", "-r", "100", "-f", "raw", "-o", str(profile), "--", *argv]
        capture = run_in_pty(argv, _env(home), size, timeout=600 if profile else 120)
        if capture.status != 0:
            tail = b"".join(d for _, d in capture.reads[-5:])[-2000:]
            raise RuntimeError(f"app exited with status {capture.status}: {tail!r}")
    first = first_read_with(capture, FIRST_WORDS)
    last = first_read_with(capture, (LAST_WORD,))
    if first is None or last is None:
        raise RuntimeError(f"{chunks:,} chunks at {size}: the answer never reached the pty")
    seconds = last[1] - first[1]
    cpu = _cpu_at(capture, last[1]) - _cpu_at(capture, first[1])
    return Ingest(seconds, cpu, capture.rusage_cpu_s, chunks, capture, first[0], last[0])


def headless_once(chunks: int, size: tuple[int, int]) -> tuple[float, float]:
    """The same app, settings and chunks, headless (``run_test``), in this process: seconds
    from sending the prompt to the last chunk drawn, and this process's CPU seconds
    meanwhile (every thread: the history writer's too)."""
    from llmstream_tui.config import Settings, UISettings
    from llmstream_tui.ui.app import make_app

    settings = Settings(
        providers={"fast": {"kind": "scripted", "chunks": _answer(chunks)}},
        default_providers=["fast"],
        history=True,
        ui=UISettings(events_open="yes", cursor_blink=False, fps=FPS),
    )

    async def go() -> tuple[float, float]:
        app = make_app(settings)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            started, cpu = time.perf_counter(), time.process_time()
            await app.send("go")
            await app.settle()
            return time.perf_counter() - started, time.process_time() - cpu

    return asyncio.run(go())


def keys_once(chunks: int, size: tuple[int, int], presses: int) -> tuple[list[float], int]:
    """Key latencies (seconds) during a ``chunks``-chunk stream, and how many keys were
    typed."""
    from llmstream_tui.providers.scripted import DEFAULT_CHUNKS

    def typist(master: int, capture: Capture) -> None:
        # wait for the answer to be streaming: its words on the wire
        words = tuple(w.encode() for w in FIRST_WORDS)
        give_up = time.perf_counter() + 60
        while not any(w in d for _, d in capture.reads[-3:] for w in words):
            if time.perf_counter() > give_up:
                return
            time.sleep(0.02)
        time.sleep(0.2)
        for i in range(presses):
            char = KEYS[i % len(KEYS)]
            capture.keys.append((time.perf_counter(), char))
            os.write(master, char.encode())
            time.sleep(0.1)
        time.sleep(0.3)

    with tempfile.TemporaryDirectory(prefix="llmstream-term-") as tmp:
        home = Path(tmp)
        repeat = max(1, chunks // len(DEFAULT_CHUNKS))
        config = home / "config.toml"
        config.write_text(
            'default_providers = ["fast"]\ndelimiter = "|"\nhistory = true\n'
            '[ui]\ntints = true\nevents_open = "yes"\ncursor_blink = false\n'
            f"fps = {FPS}\n"
            '[providers.fast]\nkind = "scripted"\n'
            f"repeat = {repeat}\n",
            encoding="utf-8",
        )
        capture = run_in_pty(_argv(config), _env(home), size, typist=typist)
    return key_latencies(capture), len(capture.keys)


# -- main ----------------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_bench(smoke: bool = False, repeats: int = 3) -> list[Row]:
    """Every terminal case, as rows for ``python -m bench``'s table. Cases alternate
    (A B C A B C ...) so a machine that slows down part-way slows them alike."""
    sizes = ((80, 24),) if smoke else SIZES
    counts = (2_000,) if smoke else (20_000, 200_000)
    repeats = 1 if smoke else repeats
    os.environ.setdefault("LLMSTREAM_DATA_DIR", tempfile.mkdtemp(prefix="llmstream-bench-"))
    rows: list[Row] = []
    frame_ms = 1000 / FPS
    cases: dict[tuple[tuple[int, int], int, str], Callable[[], Ingest | tuple[float, float]]] = {}
    for size in sizes:
        for chunks in counts:
            cases[size, chunks, "on"] = partial(ingest_once, chunks, size, history=True)
            if chunks == counts[-1]:
                if not smoke:  # the smoke run stays short: python -m bench --smoke has a budget
                    cases[size, chunks, "off"] = partial(ingest_once, chunks, size, history=False)
                cases[size, chunks, "headless"] = partial(headless_once, chunks, size)
    samples: dict[tuple[tuple[int, int], int, str], list[Ingest | tuple[float, float]]] = {
        k: [] for k in cases
    }
    for _ in range(repeats):
        for key, case in cases.items():
            samples[key].append(case())
    for (size, chunks, kind), runs in samples.items():
        label = f"{size[0]}x{size[1]}, {chunks:,} chunks"
        if kind == "headless":
            pairs = [r for r in runs if isinstance(r, tuple)]
            headless = statistics.median(wall for wall, _ in pairs)
            headless_cpu = statistics.median(cpu for _, cpu in pairs)
            real = [r for r in samples[size, chunks, "on"] if isinstance(r, Ingest)]
            ratio = statistics.median(r.seconds for r in real) / headless
            cpu_ratio = statistics.median(r.cpu_s for r in real) / headless_cpu
            rows.append(
                Row(
                    "terminal",
                    f"{label}, headless, history on",
                    chunks / headless,
                    "chunks/s",
                    ratio=ratio,
                    baseline="real terminal time / headless time",
                    note=f"{headless:.2f} s, CPU {headless_cpu:.2f} s (real/headless CPU "
                    f"{cpu_ratio:.2f}x); target <= 1.5x: {'met' if ratio <= 1.5 else 'MISSED'}",
                    samples=[chunks / wall for wall, _ in pairs],
                )
            )
            continue
        ingests = [r for r in runs if isinstance(r, Ingest)]
        wall = statistics.median(r.seconds for r in ingests)
        cpu = statistics.median(r.cpu_s for r in ingests)
        whole = statistics.median(r.process_cpu_s for r in ingests)
        note = f"{wall:.2f} s; app CPU {cpu:.2f} s in the window, {whole:.2f} s in all"
        if size == SIZES[0] and chunks == 200_000 and kind == "on":
            note += f"; target <= 1.5 s: {'met' if wall <= 1.5 else 'MISSED'}"
        rows.append(
            Row(
                "terminal",
                f"{label}, history {kind}",
                chunks / wall,
                "chunks/s",
                note=note,
                samples=[chunks / r.seconds for r in ingests],
            )
        )
    latencies, typed = keys_once(
        20_000 if smoke else 1_000_000, sizes[0], UNTIMED + (1 if smoke else 34)
    )
    if latencies:
        p95 = _percentile(latencies, 0.95) * 1000
        rows.append(
            Row(
                "terminal keys",
                "key to screen p50",
                statistics.median(latencies) * 1000,
                "ms",
                note=f"{len(latencies)} keys timed of {typed} typed; frame {frame_ms:.1f} ms",
            )
        )
        rows.append(
            Row(
                "terminal keys",
                "key to screen p95",
                p95,
                "ms",
                ratio=p95 / frame_ms,
                baseline="frames",
                note=f"target <= 2 frames ({2 * frame_ms:.1f} ms): "
                + ("met" if p95 <= 2 * frame_ms else "MISSED"),
            )
        )
        rows.append(Row("terminal keys", "key to screen max", max(latencies) * 1000, "ms"))
    else:
        rows.append(Row("terminal keys", "key to screen", float("nan"), "ms", note="no key shown"))
    return rows


def run(smoke: bool = False) -> list[Row]:
    """The runner's entry point (``python -m bench``)."""
    return run_bench(smoke)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.terminal", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--profile", type=Path, default=None, help="py-spy samples of one 200k run at 160x48"
    )
    parser.add_argument("--chunks", type=int, default=200_000)
    args = parser.parse_args(argv)
    if args.profile is not None:
        result = ingest_once(args.chunks, SIZES[0], history=True, profile=args.profile)
        print(f"{result.seconds:.2f} s, {args.chunks / result.seconds:,.0f} chunks/s")
        return 0
    rows = run_bench(args.smoke, args.repeats)
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
