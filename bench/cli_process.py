"""The CLI as a whole process (issue 17): what a user of ``llmstream-tui stream`` waits for,
against a hand-written floor script, both run as fresh subprocesses.

- ``stream``: a loopback server (forked by the bench) streams an OpenAI Chat Completions
  answer of 20,000 or 200,000 chunks; ``llmstream-tui stream`` reads it with history on
  (the default: the process ends when every chunk is in the database) and with
  ``--no-history``, stdout to /dev/null. The floor is ``FLOOR``: httpx ``iter_lines`` +
  ``json.loads``, printing each chunk's text and the ``|`` delimiter, as ours prints it.
  Figures are the child's CPU time (user + system, from ``os.wait4``) and its wall time.
- ``start-up``: a one-chunk answer: ours for a ``scripted`` provider (history on), and for
  the loopback server; the floor script against the same one-chunk stream. Wall time.

Every case is a fresh interpreter with an empty HOME and a private ``LLMSTREAM_DATA_DIR``
(so no user config or history is read, and each history run writes a new database); cases
alternate (A B C A B C) and the figure is the median. Targets: history on within 1.3x of the
floor's CPU at 200k chunks, ``--no-history`` within 1.15x, start-up within 1.5x of the
floor's wall time.

Run: ``python -m bench.cli_process`` (``--smoke``: tiny sizes, one run each). ``--before
SRC`` adds each of ours run from another checkout's ``src`` (``git archive HEAD src | tar -x
-C /tmp/old``, then ``--before /tmp/old/src``), alternating with the rest: a change's
before and after figures from the same run, under the same load; ``--ours SRC`` runs ours
from such a ``src`` too (committed work only, not a shared tree's uncommitted edits).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .common import Row, alternate, format_table, write_json
from .wire import http_response, openai_events, start_server

REPEATS = 3
SIZES = (20_000, 200_000)
SMOKE_SIZES = (300,)
#: The floor: what a user could write by hand with httpx to print the same stream.
FLOOR = (
    "import json, sys, httpx\n"
    "url = sys.argv[1]\n"
    "out = sys.stdout\n"
    "body = {'model': 'gpt-4o', 'stream': True,"
    " 'messages': [{'role': 'user', 'content': 'hi'}]}\n"
    "with httpx.Client() as client:\n"
    "    with client.stream('POST', url + '/chat/completions', json=body) as r:\n"
    "        for line in r.iter_lines():\n"
    "            if line.startswith('data: ') and line != 'data: [DONE]':\n"
    "                choices = json.loads(line[6:])['choices']\n"
    "                if choices:\n"
    "                    text = choices[0]['delta'].get('content')\n"
    "                    if text:\n"
    "                        out.write(text + '|')\n"
    "out.write('\\n')\n"
)
CONFIG = (
    "[providers.loop]\n"
    'kind = "openai-chat"\n'
    'model = "gpt-4o"\n'
    'base_url = "{url}"\n'
    'api_key_env = "BENCH_KEY"\n'
    "[providers.one]\n"
    'kind = "scripted"\n'
    'chunks = ["Hi!"]\n'
)
TARGETS = {"history on": 1.3, "--no-history": 1.15, "start-up": 1.5}
#: One run of a case: (CPU seconds, wall seconds) of its process.
Case = Callable[[], tuple[float, float]]


def _env(home: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LLMSTREAM_DATA_DIR": str(home / "data"),
        "BENCH_KEY": "sk-bench-not-a-key",
    }


def run_child(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run ``cmd`` with stdout to /dev/null: (CPU seconds, wall seconds) of the child.
    A child that fails raises ``RuntimeError`` with the end of its stderr."""
    started = time.perf_counter()
    with (
        open(os.devnull, "wb") as null,
        tempfile.TemporaryFile() as err,
    ):
        child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=null, stderr=err, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            err.seek(0)
            tail = err.read()[-2000:].decode(errors="replace")
            raise RuntimeError(f"{' '.join(cmd[:6])}... exited {child.returncode}: {tail}")
    return usage.ru_utime + usage.ru_stime, wall


def _ours(config: Path, provider: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "llmstream_tui",
        "stream",
        "--config",
        str(config),
        "-p",
        provider,
        *extra,
        "hi",
    ]


def _verdict(ratio: float, target: float) -> str:
    return f"target <= {target}x: {'met' if ratio <= target else 'MISSED'} (taken under load)"


def _rows(
    section: str,
    cpu: dict[str, list[float]],
    wall: dict[str, list[float]],
    floor: str,
    targets: dict[str, float],
    *,
    by: str,
) -> list[Row]:
    """A row per case, CPU and wall, each with its ratio to the floor; the case named in
    ``targets`` carries its verdict (on ``by``: "cpu" or "wall")."""
    out = []
    for kind, samples in (("cpu", cpu), ("wall", wall)):
        base = statistics.median(samples[floor])
        for name, values in samples.items():
            value = statistics.median(values)
            ratio = value / base if base else float("nan")
            note = ""
            target = targets.get(name)
            if target is not None and kind == by:
                note = _verdict(ratio, target)
            out.append(
                Row(
                    section,
                    f"{name} ({kind})",
                    value,
                    "s",
                    ratio,
                    f"{floor} ({kind})",
                    note,
                    values,
                )
            )
    return out


def _measured(
    cases: dict[str, Case], repeats: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    wall: dict[str, list[float]] = {name: [] for name in cases}

    def one(name: str) -> Callable[[], float]:
        def case() -> float:
            c, w = cases[name]()
            cpu[name].append(c)
            wall[name].append(w)
            return c

        return case

    alternate({name: one(name) for name in cases}, repeats)
    return cpu, wall


def _cases(
    commands: dict[str, list[str]],
    env: dict[str, str],
    before: Path | None = None,
    ours: Path | None = None,
) -> dict[str, Case]:
    """A case per command; with ``before``, each of ours (not the floor) once more as
    ``NAME (before)``, importing the package from that ``src`` directory instead; with
    ``ours``, ours import it from that one."""
    cases: dict[str, Case] = {}
    for name, cmd in commands.items():
        mine = {**env, "PYTHONPATH": str(ours)} if ours is not None and cmd[1] == "-m" else env
        cases[name] = functools.partial(run_child, cmd, mine)
        if before is not None and cmd[1] == "-m":
            old = {**env, "PYTHONPATH": str(before)}
            cases[f"{name} (before)"] = functools.partial(run_child, cmd, old)
    return cases


def run(
    smoke: bool = False,
    repeats: int = REPEATS,
    sizes: tuple[int, ...] | None = None,
    before: Path | None = None,
    ours: Path | None = None,
) -> list[Row]:
    """Every size, then start-up; each case ``repeats`` times (1 with ``smoke``); ``before``:
    see the module docstring."""
    repeats = 1 if smoke else repeats
    sizes = sizes or (SMOKE_SIZES if smoke else SIZES)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="llmstream-bench-cli-") as tmp:
        home = Path(tmp)
        env = _env(home)
        for n in (*sizes, 1):
            response = http_response("text/event-stream", openai_events(n), "bulk")
            server, url = start_server(response)
            try:
                config = home / f"loop{n}.toml"
                config.write_text(CONFIG.format(url=url), encoding="utf-8")
                floor = [sys.executable, "-c", FLOOR, url]
                if n == 1:
                    commands = {
                        "floor script": floor,
                        "start-up": _ours(config, "one"),
                        "start-up, loopback openai": _ours(config, "loop"),
                    }
                    cpu, wall = _measured(
                        _cases(commands, env, before, ours), 1 if smoke else 2 * repeats
                    )
                    rows += _rows("cli/start-up", cpu, wall, "floor script", TARGETS, by="wall")
                    continue
                commands = {
                    "floor script": floor,
                    "history on": _ours(config, "loop"),
                    "--no-history": _ours(config, "loop", "--no-history"),
                }
                cpu, wall = _measured(_cases(commands, env, before, ours), repeats)
                targets = TARGETS if n == max(sizes) else {}
                rows += _rows(f"cli/{n:,} chunks", cpu, wall, "floor script", targets, by="cpu")
            finally:
                server.kill()
                server.join()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cli_process",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run of each")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--size", type=int, action="append", help="chunks (repeatable)")
    parser.add_argument(
        "--before", type=Path, metavar="SRC", help="also run ours from this src directory"
    )
    parser.add_argument("--ours", type=Path, metavar="SRC", help="run ours from this src")
    args = parser.parse_args(argv)
    sizes = tuple(args.size) if args.size else None
    rows = run(args.smoke, args.repeats, sizes, args.before, args.ours)
    print(format_table(rows))
    if not args.smoke:
        print(f"results: {write_json(rows, 'cli_process.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
