"""Per-chunk cost of the ``openai-chat`` kind against a hand-written floor and the SDK.

A loopback server (a separate process, so it never competes with the client for the event
loop) answers every request with the same pre-built stream of ``CHUNKS`` OpenAI chat
chunks, one HTTP chunk per SSE event as the real API frames them. The cases run alternately
in one process, each the median of ``REPEATS`` runs:

- ``httpx aiter_bytes``: read the bytes and nothing else (shows the server keeps up);
- ``floor``: httpx ``aiter_lines`` + ``json.loads`` + the content of each chunk, by hand;
- ``openai-chat astream``: our backend, yielding ``AIMessageChunk`` as a caller sees them
  (with orjson, an optional accelerator, and again with the stdlib's json);
- ``openai-chat astream_events v2``: the same with the event trace the app consumes;
- ``openai SDK``: ``AsyncOpenAI(...).chat.completions.create(stream=True)``.

Targets (issue 3): ours within 1.3x of the floor, at least 10x the SDK's chunk rate.

Run: ``python -m bench.wire_openai`` (``--smoke`` for a quick check, ``--chunks N``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from .common import Row, format_table, rows_from, write_json

CHUNKS = 50_000
REPEATS = 7
WORDS = ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", "."]


def sse_body(chunks: int, framing: str = "event") -> bytes:
    """The HTTP/1.1 chunked body: role chunk, ``chunks`` content chunks, finish, usage,
    ``[DONE]``; each event its own HTTP chunk (``framing="event"``, as the API sends them),
    or the same events in HTTP chunks of 64 KiB (``"bulk"``: what a client sees when reads
    coalesce, leaving only the per-event parsing to measure)."""
    head = {"id": "chatcmpl-AB7c3BenchmarkStream0001", "object": "chat.completion.chunk",
            "created": 1727346171, "model": "gpt-4o-2024-08-06",
            "system_fingerprint": "fp_7568d46099"}

    def event(obj: dict[str, Any]) -> bytes:
        return b"data: " + json.dumps({**head, **obj}, separators=(",", ":")).encode() + b"\n\n"

    def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"choices": [{"index": 0, "delta": delta, "logprobs": None,
                             "finish_reason": finish}]}

    parts = [event(choice({"role": "assistant", "content": "", "refusal": None}))]
    words = [event(choice({"content": w})) for w in WORDS]
    parts += [words[i % len(words)] for i in range(chunks)]
    parts.append(event(choice({}, "stop")))
    parts.append(event({"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": chunks,
                                                  "total_tokens": chunks + 9}}))
    parts.append(b"data: [DONE]\n\n")
    if framing == "bulk":
        whole = b"".join(parts)
        step = 65536
        parts = [whole[i : i + step] for i in range(0, len(whole), step)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def _serve(sock: socket.socket, chunks: int, framing: str) -> None:
    """The server process: keep-alive HTTP/1.1, every request gets the same stream."""
    response = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
                b"transfer-encoding: chunked\r\n\r\n" + sse_body(chunks, framing))

    def handle(conn: socket.socket) -> None:
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                while len(buf) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                buf = buf[length:]
                try:
                    conn.sendall(response)
                except OSError:
                    return

    while True:
        conn, _ = sock.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def start_server(chunks: int, framing: str = "event") -> tuple[multiprocessing.Process, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    process = multiprocessing.get_context("fork").Process(
        target=_serve, args=(sock, chunks, framing), daemon=True
    )
    process.start()
    sock.close()
    return process, f"http://127.0.0.1:{port}/v1"


# -- the cases --------------------------------------------------------------------------------

MESSAGES = [{"role": "user", "content": "hi"}]
BODY = {"model": "gpt-4o", "messages": MESSAGES, "stream": True,
        "stream_options": {"include_usage": True}}


async def raw_bytes(client: httpx.AsyncClient, base: str, chunks: int) -> int:
    size = 0
    async with client.stream("POST", base + "/chat/completions", json=BODY) as response:
        async for data in response.aiter_bytes():
            size += len(data)
    return size


async def floor(client: httpx.AsyncClient, base: str, chunks: int) -> int:
    loads = json.loads
    n = 0
    async with client.stream("POST", base + "/chat/completions", json=BODY) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                obj = loads(line[6:])
                choices = obj["choices"]
                if choices and choices[0]["delta"].get("content"):
                    n += 1
    return n


async def ours_astream(llm: Any) -> int:
    n = 0
    async for chunk in llm.astream("hi"):
        if chunk.content:
            n += 1
    return n


async def ours_stdlib_json(llm: Any) -> int:
    """Our astream with the stdlib's json instead of orjson (which is optional)."""
    from llmstream_tui.providers import openai as module

    saved, module._loads = module._loads, json.JSONDecoder().decode
    try:
        return await ours_astream(llm)
    finally:
        module._loads = saved


async def ours_events(llm: Any) -> int:
    n = 0
    async for event in llm.astream_events("hi", version="v2"):
        if event["event"] == "on_chat_model_stream" and event["data"]["chunk"].content:
            n += 1
    return n


async def sdk(client: Any) -> int:
    n = 0
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES,
                                                  stream=True,
                                                  stream_options={"include_usage": True})
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            n += 1
    return n


async def measure(chunks: int, repeats: int, framing: str) -> dict[str, list[float]]:
    import openai

    from llmstream_tui.providers.registry import build_llm

    process, base = start_server(chunks, framing)
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            llm = build_llm(f"openai-chat:gpt-4o@{base}", client=client)
            sdk_client = openai.AsyncOpenAI(base_url=base, api_key="bench", max_retries=0,
                                            timeout=60)
            cases: dict[str, Callable[[], Awaitable[int]]] = {
                "httpx aiter_bytes (server check)": lambda: raw_bytes(client, base, chunks),
                "floor: aiter_lines + json.loads": lambda: floor(client, base, chunks),
                "openai-chat astream": lambda: ours_astream(llm),
                "openai-chat astream, stdlib json": lambda: ours_stdlib_json(llm),
                "openai-chat astream_events v2": lambda: ours_events(llm),
                "openai SDK (AsyncOpenAI) stream": lambda: sdk(sdk_client),
            }
            for fn in cases.values():  # warm-up: connections, imports, caches
                await fn()
            samples: dict[str, list[float]] = {name: [] for name in cases}
            for _ in range(repeats):
                for name, fn in cases.items():
                    started = time.perf_counter()
                    count = await fn()
                    elapsed = time.perf_counter() - started
                    if name != "httpx aiter_bytes (server check)":
                        assert count == chunks, (name, count)
                    samples[name].append(chunks / elapsed)
            await sdk_client.close()
    finally:
        process.terminate()
        process.join()
    return samples


FRAMINGS = ("event", "bulk")


def run(smoke: bool = False, chunks: int = CHUNKS, repeats: int = REPEATS,
        framings: tuple[str, ...] = FRAMINGS) -> list[Row]:
    """Both framings: ``event`` (one HTTP chunk per event, as the API sends: the HTTP/1.1
    layer's per-chunk cost is in every case) and ``bulk`` (64 KiB HTTP chunks: the
    per-event parsing alone)."""
    if smoke:
        chunks, repeats = 2_000, 1
    rows: list[Row] = []
    for framing in framings:
        samples = asyncio.run(measure(chunks, repeats, framing))
        section = f"openai/{framing}"
        found = rows_from(section, samples, "chunks/s", "floor: aiter_lines + json.loads")
        sdk_rate = statistics.median(samples["openai SDK (AsyncOpenAI) stream"])
        floor_rate = statistics.median(samples["floor: aiter_lines + json.loads"])
        for row in found:
            if row.case.startswith("openai-chat"):
                row.note = (f"floor/ours {floor_rate / row.value:.2f}x, "
                            f"{row.value / sdk_rate:.1f}x the SDK")
        rows += found
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wire_openai")
    parser.add_argument("--smoke", action="store_true", help="2,000 chunks, one run")
    parser.add_argument("--chunks", type=int, default=CHUNKS)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--framing", choices=FRAMINGS, action="append",
                        help="only this framing (repeatable; default: both)")
    args = parser.parse_args(argv)
    framings = tuple(args.framing or FRAMINGS)
    rows = run(args.smoke, args.chunks, args.repeats, framings)
    chunks, repeats = (2_000, 1) if args.smoke else (args.chunks, args.repeats)
    print(f"{chunks:,} chunks per run, median of {repeats} alternating runs; "
          "ratio = rate / the floor's rate. Targets: floor/ours <= 1.3x, >= 10x the SDK")
    print(format_table(rows))
    if not args.smoke:
        print(f"results: {write_json(rows, 'wire_openai.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
