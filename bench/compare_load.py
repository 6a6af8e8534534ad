"""``compare`` under load (issue 18): one client process, 1 to 256 concurrent streams, and
what the client itself adds to the times it reports.

A loopback OpenAI-compatible server (forked by ``wire.start_server``, one asyncio loop,
so it never competes with the client's loop) answers each request after ``TTFT`` with
``CHUNKS`` content chunks ``GAP`` apart, and notes when it received the request and when
it wrote each chunk (``time.perf_counter_ns()``, stamped just before the write; each event
carries its stamp as ``sent_ns`` too). ``GET /stamps`` hands the notes back. Both
processes read CLOCK_MONOTONIC (``check_clock`` verifies it, and that a stamp taken in the
server falls between two taken in the client around it), so the two sides' stamps are on
one clock.

The client is ``run_compare`` (the CLI's path, no chunks kept, ``--warmup`` one request
per stream), in a fresh interpreter per case (in this one with ``--smoke``). Per level
(closed loop at 1, 16, 64 and 256 streams, each prompt unique so a record finds its
server notes):

- **lag**: each answer chunk's timestamp in the request's ``GapTimeline`` minus the
  server's send stamp of that chunk (loopback transfer, the event loop's delay, HTTP and
  SSE decoding, the runnable): p50, p99, max, in ms;
- **send lag**: the server's receipt of the request minus the request's start (connect,
  pool, request building): p99 and max; a wait for a pooled connection would show here;
- **CPU**: the client's user+system time around the run (``getrusage``, imports
  excluded) per chunk and per stream (the same total divided by each count);
- **memory**: the client process's peak RSS (``wait4``), and its growth when the same
  level runs 4x the requests (bounded memory: the in-flight streams, not the total);
- **failed**: requests that did not succeed (must be 0).

At 256 streams the same run also goes through httpx's default pool (``size_pool`` a
no-op: what ``compare`` did before), and ``llmstream-tui compare --out DIR`` runs as a
whole process (``cli_process.run_child``: CPU and wall). Verdict: the lag is small when
its p99 is under ``SMALL`` of the gap the server keeps (what the figures would misstate).

Run: ``python -m bench.compare_load`` (``--smoke``: one small level, one run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .cli_process import _env, run_child
from .common import Row, format_table, write_json
from .wire import start_server

LEVELS = (1, 16, 64, 256)
SMOKE_LEVELS = (4,)
CHUNKS = 16
GAP = 0.020
TTFT = 0.050
#: The lag is "small" when its p99 stays under this share of the gap between chunks.
SMALL = 0.10


@dataclass(frozen=True)
class Pace:
    """What the server streams: ``chunks`` content chunks, ``gap`` s apart, after ``ttft``."""

    chunks: int
    gap: float
    ttft: float


# -- the server (its own process) --------------------------------------------------------


def _chunk(obj: dict[str, Any]) -> bytes:
    data = b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"
    return b"%x\r\n%s\r\n" % (len(data), data)


def _serve_paced(sock: socket.socket, pace: Pace) -> None:
    """The server process: keep-alive HTTP/1.1, paced answers, stamps kept by prompt."""
    stamps: dict[str, list[int]] = {}
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    done = b"data: [DONE]\n\n"
    tail = _chunk({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    tail += b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done)

    async def answer(writer: asyncio.StreamWriter, prompt: str, received: int) -> None:
        notes = stamps[prompt] = [received]
        writer.write(head)
        await asyncio.sleep(pace.ttft)
        for i in range(pace.chunks):
            if i:
                await asyncio.sleep(pace.gap)
            sent = time.perf_counter_ns()
            delta = {"content": f" w{i}"}
            writer.write(_chunk({"sent_ns": sent, "choices": [{"index": 0, "delta": delta}]}))
            notes.append(sent)
        writer.write(tail)
        await writer.drain()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                received = time.perf_counter_ns()
                length = 0
                for line in request.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                if request.startswith(b"GET /stamps"):
                    data = json.dumps(stamps).encode()
                    stamps.clear()
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                        b"content-length: %d\r\n\r\n%s" % (len(data), data)
                    )
                    continue
                prompt = json.loads(body)["messages"][-1]["content"]
                await answer(writer, prompt, received)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, sock=sock)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def check_clock() -> str:
    """Verify both processes' stamps share one clock: ``perf_counter`` is CLOCK_MONOTONIC
    here, and a stamp taken in a child falls between two taken in the parent around it.
    Returns the clock's description; ``RuntimeError`` when either check fails."""
    info = time.get_clock_info("perf_counter")
    if "CLOCK_MONOTONIC" not in info.implementation:
        raise RuntimeError(f"perf_counter is {info.implementation}, not CLOCK_MONOTONIC")
    code = "import sys, time; sys.stdin.read(1); print(time.perf_counter_ns(), flush=True)"
    with subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdin is not None and child.stdout is not None
        before = time.perf_counter_ns()
        child.stdin.write("x")
        child.stdin.flush()
        stamp = int(child.stdout.readline())
        after = time.perf_counter_ns()
    if not before <= stamp <= after:
        raise RuntimeError(f"a child's stamp {stamp} is not within [{before}, {after}]")
    return f"{info.implementation}, child stamp within a {(after - before) / 1e6:.1f} ms window"


# -- the client (a fresh interpreter per case) -------------------------------------------


def client_data(url: str, streams: int, requests: int, pool: str) -> dict[str, Any]:
    """Run ``run_compare`` (one warm-up request per stream first, not counted: the
    connections and the lazy imports of a first request are ``--warmup``'s business):
    its records, origin and CPU."""
    from llmstream_tui.providers.http import HTTPModel
    from llmstream_tui.sessions.compare_run import LoadShape, PromptItem, run_compare

    if pool == "httpx-default":

        def unsized(self: HTTPModel, streams: int | None) -> None:
            del self, streams  # what compare did before size_pool: httpx's own pool

        HTTPModel.size_pool = unsized  # type: ignore[method-assign]  # the "before" case
    targets = [("loop", {"kind": "openai-chat", "model": "m", "base_url": url + "/v1"})]
    prompts = [PromptItem(str(i), f"req-{i}") for i in range(requests)]
    shape = LoadShape(concurrency=streams, warmup=streams)
    before = resource.getrusage(resource.RUSAGE_SELF)
    run = asyncio.run(run_compare(targets, prompts, shape))
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    records = [
        {
            "prompt": f"req-{r.prompt_id}",
            "ok": r.ok,
            "error": r.error_message,
            "start_s": r.start_s,
            "ttfo": r.time_to_first_output_token,
            "gaps": r.inter_chunk_latency,
        }
        for r in run.records
    ]
    return {"origin_ns": run.origin_ns, "cpu_s": cpu, "records": records}


@dataclass
class Measured:
    """One client run: per-chunk lags and per-request send lags (ns), CPU, RSS, failures."""

    lags: list[int]
    send_lags: list[int]
    cpu_s: float
    maxrss_kb: int
    chunks: int
    requests: int
    failed: int
    streams: int


def run_client(
    url: str, streams: int, requests: int, pool: str = "sized", *, inprocess: bool = False
) -> Measured:
    """One client process against the server at ``url``; its records matched with the
    server's stamps."""
    if inprocess:  # --smoke: no interpreter to start; the RSS is this process's
        data = client_data(url, streams, requests, pool)
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    else:
        cmd = [sys.executable, "-m", "bench.compare_load", "--client", url, str(streams)]
        cmd += [str(requests), pool]
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            child = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
            _, status, usage = os.wait4(child.pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                err.seek(0)
                raise RuntimeError(f"client at {streams} streams failed: {err.read()[-2000:]!r}")
            out.seek(0)
            data = json.loads(out.read())
        maxrss = usage.ru_maxrss
    stamps: dict[str, list[int]] = httpx.get(url + "/stamps").json()
    origin = data["origin_ns"]
    lags: list[int] = []
    send_lags: list[int] = []
    failed = chunks = 0
    for rec in data["records"]:
        notes = stamps.get(rec["prompt"])
        if not rec["ok"] or notes is None or rec["ttfo"] is None:
            failed += 1
            continue
        start = origin + rec["start_s"] * 1e9
        send_lags.append(round(notes[0] - start))
        t = start + rec["ttfo"] * 1e9
        times = [t]
        for gap in rec["gaps"]:
            t += gap * 1e9
            times.append(t)
        if len(times) != len(notes) - 1:
            failed += 1  # a chunk lost or merged: not the answer the server sent
            continue
        lags += [round(c - s) for c, s in zip(times, notes[1:], strict=True)]
        chunks += len(times)
    records = len(data["records"])
    return Measured(lags, send_lags, data["cpu_s"], maxrss, chunks, records, failed, streams)


def _q(values: list[int], q: float) -> float:
    """The ``q`` quantile of ``values`` in ms (0 when there are none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] / 1e6


SENT = "the run's CPU over every request sent (warm-up included) and its chunks"


def _per_stream(m: Measured) -> float:
    """CPU ms per request sent: the counted ones and the warm-up (one per stream)."""
    return m.cpu_s / max(1, m.requests + m.streams) * 1e3


def _level_rows(section: str, m: Measured, big: Measured, pace: Pace) -> list[Row]:
    gap_ms = pace.gap * 1e3
    p99 = _q(m.lags, 0.99)
    small = p99 < SMALL * gap_ms
    verdict = f"p99 {'<' if small else '>='} {SMALL:.0%} of the {gap_ms:g} ms gap"
    verdict += ": small" if small else ": DISTORTS"
    growth = (big.maxrss_kb - m.maxrss_kb) / 1024
    return [
        Row(section, "lag p50", _q(m.lags, 0.5), "ms", _q(m.lags, 0.5) / gap_ms, "gap"),
        Row(section, "lag p99", p99, "ms", p99 / gap_ms, "gap", verdict),
        Row(section, "lag max", _q(m.lags, 1.0), "ms", _q(m.lags, 1.0) / gap_ms, "gap"),
        Row(section, "send lag p99", _q(m.send_lags, 0.99), "ms"),
        Row(section, "send lag max", _q(m.send_lags, 1.0), "ms"),
        Row(section, "cpu per chunk", _per_stream(m) / pace.chunks * 1e3, "us", note=SENT),
        Row(section, "cpu per stream", _per_stream(m), "ms", note=SENT),
        Row(section, "peak RSS", m.maxrss_kb / 1024, "MB"),
        Row(
            section,
            f"RSS growth at 4x requests ({big.requests})",
            growth,
            "MB",
            note=f"{m.requests} -> {big.requests} requests",
        ),
        Row(
            section,
            "failed requests",
            m.failed + big.failed,
            "",
            note=f"of {m.requests + big.requests}",
        ),
    ]


def _whole_cli(url: str, streams: int, requests: int) -> list[Row]:
    """``llmstream-tui compare --out DIR`` as a user runs it: CPU and wall of the process."""
    with tempfile.TemporaryDirectory(prefix="llmstream-bench-compare-") as tmp:
        home = Path(tmp)
        config = home / "loop.toml"
        config.write_text(
            f'[providers.loop]\nkind = "openai-chat"\nmodel = "m"\nbase_url = "{url}/v1"\n',
            encoding="utf-8",
        )
        prompts = home / "prompts.txt"
        prompts.write_text("".join(f"req-{i}\n" for i in range(requests)), encoding="utf-8")
        cmd = [sys.executable, "-m", "llmstream_tui", "compare", str(prompts), "--config"]
        cmd += [str(config), "-p", "loop", "--concurrency", str(streams), "--no-progress"]
        cmd += ["--out", str(home / "out")]
        cpu, wall = run_child(cmd, _env(home))
        httpx.get(url + "/stamps")  # drop the notes
    section = f"compare_load/cli c{streams}"
    note = f"{requests} requests of {CHUNKS} chunks, --out DIR (recordings, report, plots)"
    return [
        Row(section, "compare --out (cpu)", cpu, "s", note=note),
        Row(section, "compare --out (wall)", wall, "s"),
    ]


def run(smoke: bool = False, levels: tuple[int, ...] | None = None) -> list[Row]:
    """Every level: a run and a 4x run; at the top level the httpx-default pool beside
    ours and the whole CLI process (not with ``smoke``)."""
    levels = levels or (SMOKE_LEVELS if smoke else LEVELS)
    pace = Pace(3, 0.005, 0.005) if smoke else Pace(CHUNKS, GAP, TTFT)
    clock = check_clock()
    server, url = start_server(pace, serve=_serve_paced, backlog=4096)
    rows: list[Row] = []
    try:
        for streams in levels:
            requests = max(4, 2 * streams)
            m = run_client(url, streams, requests, inprocess=smoke)
            big = run_client(url, streams, 4 * requests, inprocess=smoke)
            section = f"compare_load/c{streams}"
            rows += _level_rows(section, m, big, pace)
            if streams == max(levels) and not smoke:
                old = run_client(url, streams, requests, "httpx-default")
                for name, ours, theirs in (
                    ("lag p99", _q(m.lags, 0.99), _q(old.lags, 0.99)),
                    ("send lag p99", _q(m.send_lags, 0.99), _q(old.send_lags, 0.99)),
                    ("cpu per stream", _per_stream(m), _per_stream(old)),
                ):
                    unit = "ms"
                    rows.append(
                        Row(
                            section + " httpx pool",
                            name,
                            theirs,
                            unit,
                            theirs / ours if ours else None,
                            "ours (sized pool)",
                        )
                    )
                rows += _whole_cli(url, streams, requests)
    finally:
        server.kill()
        server.join()
    rows.append(Row("compare_load/clock", "perf_counter", 0.0, "", note=clock))
    return rows


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--client"]:
        json.dump(client_data(args[1], int(args[2]), int(args[3]), args[4]), sys.stdout)
        return 0
    parser = argparse.ArgumentParser(
        prog="python -m bench.compare_load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true", help="one small level, tiny answers")
    parser.add_argument("--level", type=int, action="append", help="streams (repeatable)")
    parsed = parser.parse_args(args)
    rows = run(parsed.smoke, tuple(parsed.level) if parsed.level else None)
    print(format_table(rows))
    if not parsed.smoke:
        print(f"results: {write_json(rows, 'compare_load.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
