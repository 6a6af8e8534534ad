"""sessions/compare_run.py at scale (issue 18): one process drives 256 concurrent streams
against a loopback OpenAI-compatible server, none of them waits for a pooled connection
(a wait would land in its TTFT), and memory does not grow with the number of requests."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import sys
from typing import Any

from llmstream_tui.sessions.compare_run import LoadShape, PromptItem, RequestRun, run_compare

WIDTH = 256


class GateServer:
    """An OpenAI chat-completions server in the test's loop that holds each response until
    ``gate`` requests are open at once (or ``hold`` seconds have passed), so ``peak`` says
    how many streams the client really had on the wire together: a client whose pool is
    smaller than ``gate`` can never fill the gate."""

    def __init__(self, gate: int, words: int = 3, hold: float = 1.0) -> None:
        self.gate, self.words, self.hold = gate, words, hold
        self.open = self.peak = self.served = 0
        self.full = asyncio.Event()
        self.url = ""
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        body = b"".join(
            self._event({"choices": [{"index": 0, "delta": {"content": f" w{i}"}}]})
            for i in range(words)
        )
        end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        done = b"data: [DONE]\n\n"
        self.answer = (
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
            + body
            + self._event(end)
            + b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done)
        )

    @staticmethod
    def _event(obj: dict[str, Any]) -> bytes:
        data = b"data: " + json.dumps(obj).encode() + b"\n\n"
        return b"%x\r\n%s\r\n" % (len(data), data)

    async def __aenter__(self) -> GateServer:
        # a backlog that holds every connect at once: an overflowing accept queue costs a
        # SYN retry (a second) that would be the client's fault in the figures
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()  # the client's idle keep-alive connections
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()
        # one loop turn: the closed transports' connection_lost callbacks (client and server
        # side) run before the test's loop is closed, or they die "unclosed"
        await asyncio.sleep(0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                self.open += 1
                self.peak = max(self.peak, self.open)
                if self.open >= self.gate:
                    self.full.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.full.wait(), self.hold)
                writer.write(self.answer)
                await writer.drain()
                self.open -= 1
                self.served += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.transport.abort()
            self._writers.discard(writer)


def targets(url: str) -> list[tuple[str, dict[str, Any]]]:
    return [("loop", {"kind": "openai-chat", "model": "m", "base_url": url})]


async def test_256_streams_at_once_none_waiting_for_a_pooled_connection() -> None:
    prompts = [PromptItem(str(i), f"p{i}") for i in range(WIDTH)]
    async with GateServer(WIDTH) as server:
        run = await run_compare(targets(server.url), prompts, LoadShape(concurrency=WIDTH))
    failed = [r.error_message for r in run.records if not r.ok]
    assert failed == [] and len(run.records) == WIDTH
    assert all(r.output_sequence_length == 3 for r in run.records)
    # every request was on the wire together: none queued behind httpx's 100 connections
    assert server.peak == WIDTH
    assert server.full.is_set()


async def _blocks(url: str, requests: int) -> tuple[int, int]:
    """(peak, retained) Python memory blocks a run of ``requests`` at 256 streams adds:
    sampled as each request finishes, and after the run with its records still held."""
    prompts = [PromptItem(str(i), f"p{i}") for i in range(requests)]
    gc.collect()
    base = sys.getallocatedblocks()
    peak = 0

    def finished(_: RequestRun) -> None:
        nonlocal peak
        peak = max(peak, sys.getallocatedblocks() - base)

    run = await run_compare(
        targets(url), prompts, LoadShape(concurrency=WIDTH), on_request=finished
    )
    assert len(run.records) == requests and all(r.ok for r in run.records)
    gc.collect()
    return peak, sys.getallocatedblocks() - base


async def test_memory_at_256_streams_is_the_streams_in_flight_not_the_requests() -> None:
    """Twice the requests at the same width: the in-flight state (connections, timelines,
    buffers, tasks) is freed as each request ends, so the peak stays put and what is kept
    per extra request is its small record (gaps, ids), not its stream."""
    async with GateServer(gate=1, hold=0) as server:
        await _blocks(server.url, 32)  # warm: imports, caches, the pools
        one_peak, one_kept = await _blocks(server.url, WIDTH)
        two_peak, two_kept = await _blocks(server.url, 2 * WIDTH)
    per_request = (two_kept - one_kept) / WIDTH
    assert per_request < 80, (one_kept, two_kept)  # a record: ~35 blocks here
    assert two_peak < 1.3 * one_peak + 80 * WIDTH, (one_peak, two_peak)


async def test_an_open_loop_without_a_cap_never_queues_its_arrivals() -> None:
    """Poisson arrivals far faster than the answers: every one goes on the wire at once,
    none behind a pool limit (``size_pool(None)``: no bound, the load is the arrivals)."""
    n = 128
    prompts = [PromptItem(str(i), f"p{i}") for i in range(n)]
    async with GateServer(n) as server:
        run = await run_compare(
            targets(server.url), prompts, LoadShape(rate=50_000.0, max_requests=n)
        )
    assert len(run.records) == n and all(r.ok for r in run.records)
    assert server.peak == n
