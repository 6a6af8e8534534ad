"""Costs that must grow linearly with the input, and one start-up cost, measured here
rather than asserted in unit tests (a wall-clock ratio in a unit test fails on a busy
machine and proves nothing on an idle one).

- ``sse``: one event of 4 MiB and of 32 MiB through ``SSEDecoder`` in 64 KiB reads;
- ``ndjson``: one line of 4 MiB and of 32 MiB through ``NDJSONDecoder``;
- ``simulated model``: building the offline simulated model from its corpus.

Each size keeps its best of ``repeats`` runs, each run starting with no cached free memory
(``release_free_memory``), so a small run does not reuse warm pages the large one pays for.
Targets: 8x the input costs at most 16x the time (linear is 8x, quadratic about 64x); the
model builds in at most 50 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import math
import sys
import time
from collections.abc import Callable

from llmstream_tui.core.markov import MarkovModel, load_corpus
from llmstream_tui.wire.ndjson import NDJSONDecoder
from llmstream_tui.wire.sse import SSEDecoder

from .common import Row, format_table

SMALL = 4 * 1024 * 1024
FACTOR = 8
STEP = 64 * 1024
#: 8x the input may cost at most this many times as much.
LINEAR_LIMIT = 2 * FACTOR
MODEL_LIMIT_MS = 50.0


def release_free_memory() -> None:
    """Hand glibc's cached free pages back to the OS (a no-op elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def _best(fn: Callable[[], object], repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        release_free_memory()
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def _sse(size: int) -> Callable[[], None]:
    unit = b"0123456789abcdef" * 3 + "\u00e9\u00e9".encode() + b"xxxxxxxxxx"
    units = size // len(unit)
    stream = b"data: " + unit * units + b"\r\n\r\n"

    def decode() -> None:
        decoder = SSEDecoder()
        events = [
            e for i in range(0, len(stream), STEP) for e in decoder.feed(stream[i : i + STEP])
        ]
        assert len(events) == 1 and len(events[0].data) == units * 60

    return decode


def _ndjson(size: int) -> Callable[[], None]:
    unit = "\u00e9\\nxxxx\\t".encode()  # escapes keep json's own work compute-bound
    line = b'{"t": "' + unit * (size // len(unit)) + b'"}\n'

    def decode() -> None:
        decoder = NDJSONDecoder()
        values = [v for i in range(0, len(line), STEP) for v in decoder.feed(line[i : i + STEP])]
        assert len(values) == 1

    return decode


def _linear_row(
    name: str, make: Callable[[int], Callable[[], None]], small: int, repeats: int
) -> list[Row]:
    a = _best(make(small), repeats)
    b = _best(make(small * FACTOR), repeats)
    ratio = b / a if a else math.inf
    verdict = "met" if ratio <= LINEAR_LIMIT else "MISSED"
    mib = small / (1024 * 1024)
    return [
        Row("linearity", f"{name}, {mib:g} MiB", a, "s"),
        Row(
            "linearity",
            f"{name}, {mib * FACTOR:g} MiB",
            b,
            "s",
            ratio,
            f"{mib:g} MiB",
            f"target <= {LINEAR_LIMIT}x: {verdict}",
        ),
    ]


def run(smoke: bool = False, repeats: int = 3) -> list[Row]:
    small = 64 * 1024 if smoke else SMALL
    repeats = 1 if smoke else repeats
    rows = _linear_row("sse one event", _sse, small, repeats)
    rows += _linear_row("ndjson one line", _ndjson, small, repeats)
    text = load_corpus()
    build = _best(lambda: MarkovModel.from_text(text), 1 if smoke else 5)
    ms = build * 1000
    verdict = "met" if ms <= MODEL_LIMIT_MS else "MISSED"
    rows.append(
        Row(
            "linearity",
            "simulated model build",
            ms,
            "ms",
            note=f"target <= {MODEL_LIMIT_MS:g} ms: {verdict}",
        )
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.linearity", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run")
    args = parser.parse_args(argv)
    print(format_table(run(args.smoke)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
