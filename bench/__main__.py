"""``python -m bench``: every benchmark, one table, one JSON file, optionally the README.

Sections (each a module with ``run(smoke) -> list[Row]``):

- ``wire``: wire to text per provider family (``wire.py``);
- ``ui``: the app's ingest, scaling, key latency (``ui_ingest.py``);
- ``memory``: retained bytes per chunk and peak RSS of a 1,000,000-chunk session
  (``memory.py``);
- ``startup``: first frame and a one-chunk ``stream`` against the bare imports
  (``startup.py``);
- ``linearity``: decoder cost against input size, and the simulated model's build time
  (``linearity.py``);
- ``run_tree``: the run tree of a 200-run graph streaming 100,000 events, into the model and
  through the app's events log, flat and as a tree (``run_tree.py``);
- ``terminal``: the app as a user runs it, in a pseudo-terminal: first chunk on screen to
  last, against the same run headless, and keys typed during a long stream (``terminal.py``).
- ``peers``: the same loopback stream through ``llm``, the openai SDK, langchain-openai
  and, in tmux, the apps, each peer in its own cached venv (``peers.py``);
- ``cli``: ``llmstream-tui stream`` as a whole process, history on and off, and its
  start-up, against a hand-written httpx script (``cli_process.py``).
- ``compare_load``: ``compare``'s client at 1 to 256 concurrent streams against a paced
  loopback server: the lag it adds to the chunks' timestamps, CPU per chunk and stream,
  peak RSS and its growth at 4x the requests (``compare_load.py``).

``--smoke`` runs everything with tiny sizes and one repeat (the test suite does, so the
benchmarks keep working); its figures say nothing about speed. ``--update-readme`` rewrites
the figures block of ``bench/README.md`` (between its markers) with this run's table and the
machine it ran on. A section that fails is reported and the others still run; the exit
status is then 1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .common import RESULTS, Row, format_table, machine

README = Path(__file__).resolve().parent / "README.md"
START = "<!-- figures:start (python -m bench --update-readme rewrites this block) -->"
END = "<!-- figures:end -->"
SECTIONS = (
    "wire",
    "ui",
    "memory",
    "startup",
    "linearity",
    "run_tree",
    "terminal",
    "peers",
    "cli",
    "compare_load",
)


class Missing(Exception):
    """A section that cannot run in this tree (said why, not a failure of the benchmark)."""


def _wire(smoke: bool) -> list[Row]:
    from . import wire

    return wire.run(smoke)


def _ui(smoke: bool) -> list[Row]:
    from . import ui_ingest

    run: Callable[[bool], list[Row]] | None = getattr(ui_ingest, "run", None)
    if run is None:
        raise Missing(
            "bench/ui_ingest.py has no run(smoke) -> list[Row] yet "
            "(run it alone: python -m bench.ui_ingest)"
        )
    return run(smoke)


def _memory(smoke: bool) -> list[Row]:
    from . import memory

    return memory.run(smoke)


def _startup(smoke: bool) -> list[Row]:
    from . import startup

    return startup.run(smoke)


def _linearity(smoke: bool) -> list[Row]:
    from . import linearity

    return linearity.run(smoke)


def _run_tree(smoke: bool) -> list[Row]:
    from . import run_tree

    return run_tree.run(smoke)


def _terminal(smoke: bool) -> list[Row]:
    from . import terminal

    return terminal.run(smoke)


def _peers(smoke: bool) -> list[Row]:
    from . import peers

    return peers.run(smoke)


def _cli(smoke: bool) -> list[Row]:
    from . import cli_process

    return cli_process.run(smoke)


def _compare_load(smoke: bool) -> list[Row]:
    from . import compare_load

    return compare_load.run(smoke)


RUNNERS: dict[str, Callable[[bool], list[Row]]] = {
    "wire": _wire,
    "ui": _ui,
    "memory": _memory,
    "startup": _startup,
    "linearity": _linearity,
    "run_tree": _run_tree,
    "terminal": _terminal,
    "peers": _peers,
    "cli": _cli,
    "compare_load": _compare_load,
}


def _number(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def markdown_table(rows: list[Row]) -> str:
    """The rows as a Markdown table (the README's figures)."""
    lines = [
        "| section | case | median | unit | ratio | vs / note |",
        "|---|---|---:|---|---:|---|",
    ]
    for r in rows:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else ""
        vs = "; ".join(x for x in (f"vs {r.baseline}" if r.baseline else "", r.note) if x)
        cells = [r.section, r.case, _number(r.value), r.unit, ratio, vs]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def describe_machine(info: dict[str, Any]) -> str:
    before, after = info.get("load_before"), info.get("load_after")
    shared = ""
    if before:
        shared = f"; load average {before[0]:.2f} at the start"
        if after:
            shared += f", {after[0]:.2f} at the end"
        shared += " (a shared machine: other work may have run alongside)"
    return (
        f"{info['date']}: Python {info['python']} on {info['system']} {info['machine']}, "
        f"{info['cpus']} CPUs{shared}; {info['elapsed_s']:.0f} s in all"
    )


def update_readme(rows: list[Row], info: dict[str, Any], path: Path = README) -> None:
    """Replace what lies between the figures markers of ``path``."""
    text = path.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{path}: figures markers not found ({START} ... {END})")
    block = f"{START}\n{describe_machine(info)}\n\n{markdown_table(rows)}\n{END}"
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    path.write_text(pattern.sub(lambda _m: block, text, count=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes, one repeat: checks the benchmarks work"
    )
    parser.add_argument(
        "--only", choices=SECTIONS, action="append", help="run only this section (repeatable)"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="where to write the results (default: bench/results/latest.json,"
        " or smoke.json with --smoke)",
    )
    parser.add_argument(
        "--update-readme", action="store_true", help="rewrite the figures block of bench/README.md"
    )
    args = parser.parse_args(argv)
    if args.update_readme and (args.smoke or args.only):
        parser.error("--update-readme needs a full run (no --smoke, no --only)")
    sections = tuple(args.only or SECTIONS)
    info: dict[str, Any] = {**machine(), "smoke": args.smoke, "load_before": list(os.getloadavg())}
    started = time.perf_counter()
    rows: list[Row] = []
    skipped: dict[str, str] = {}
    failed: dict[str, str] = {}
    for name in sections:
        print(f"== {name}", file=sys.stderr, flush=True)
        section_started = time.perf_counter()
        try:
            rows += RUNNERS[name](args.smoke)
        except Missing as exc:
            skipped[name] = str(exc)
        except Exception as exc:  # noqa: BLE001  # one broken section must not hide the rest
            traceback.print_exc()
            failed[name] = f"{type(exc).__name__}: {exc}"
        print(f"   {time.perf_counter() - section_started:.1f} s", file=sys.stderr, flush=True)
    info["elapsed_s"] = time.perf_counter() - started
    info["load_after"] = list(os.getloadavg())
    print(describe_machine(info))
    print(format_table(rows))
    for name, why in {**skipped, **failed}.items():
        print(f"{name}: {'skipped' if name in skipped else 'FAILED'}: {why}")
    path = args.json or RESULTS / ("smoke.json" if args.smoke else "latest.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "machine": info,
                "sections": list(sections),
                "skipped": skipped,
                "failed": failed,
                "rows": [asdict(r) for r in rows],
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"results: {path}")
    if args.update_readme and not failed:
        update_readme(rows, info)
        print(f"figures written to {README}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
