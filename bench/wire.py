"""Wire to text, per provider family: our backends against a hand-written floor, the
official SDKs and langchain-openai, on the same loopback bytes in the same run.

A loopback server (a separate process, so it never competes with the client for the event
loop) answers every request with one pre-built response: ``CHUNKS`` content chunks in the
family's wire format. Two framings of the same bytes:

- ``event``: one HTTP/1.1 chunk per event (per line for NDJSON), as the APIs send them, so
  the HTTP layer's per-read cost is in every case;
- ``bulk``: the same bytes in 64 KiB HTTP chunks (what a client sees when reads coalesce),
  leaving the per-event parsing alone to compare.

Consumers, each counting the text chunks it sees (every run asserts it saw them all):

- ``httpx aiter_bytes``: read the bytes and nothing else (shows the server keeps up, and is
  the ceiling of every other case);
- ``floor``: httpx ``aiter_lines`` + ``json.loads`` + the chunk's text, written by hand;
- ``astream`` / ``astream_events v2``: our backend as a caller and as the app consume it;
- the official SDK's async stream (``openai``, ``anthropic``, ``ollama``);
- OpenAI only: our ``astream`` with the stdlib's ``json`` (orjson is an accelerator, not a
  requirement), and langchain-openai's ``ChatOpenAI.astream`` / ``astream_events`` v2.

Figures are chunks/s, the median of alternating runs (``common.alternate``); ratios are to
the floor. Targets (issue 6): floor/astream <= 1.3x; astream >= 10x the SDK and >= 20x
langchain-openai; astream/astream_events <= 1.5x. They are rows of their own, computed from
the same run's medians.

Run: ``python -m bench.wire`` (``--smoke``, ``--chunks N``, ``--family``, ``--framing``).
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
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any
from unittest import mock

import httpx
from pydantic import SecretStr

from .common import Row, alternate, format_table, rows_from, write_json

CHUNKS = 50_000
REPEATS = 5
SMOKE_CHUNKS = 2_000
WORDS = ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", "."]
FRAMINGS = ("event", "bulk")
FAMILIES = ("openai", "anthropic", "ollama")
BULK = 65536

RAW = "httpx aiter_bytes (server check)"
FLOOR = "floor: aiter_lines + json.loads"
OURS = "ours astream"
OURS_EVENTS = "ours astream_events v2"
OURS_STDLIB = "ours astream, stdlib json"
LC = "langchain-openai astream"
LC_EVENTS = "langchain-openai astream_events v2"
MESSAGES = [{"role": "user", "content": "hi"}]


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


# -- the server ---------------------------------------------------------------------------


def http_response(content_type: str, events: list[bytes], framing: str) -> bytes:
    """A whole HTTP/1.1 chunked response carrying ``events`` (each its own HTTP chunk for
    ``framing="event"``, or the concatenation cut in 64 KiB HTTP chunks for ``"bulk"``)."""
    parts = events
    if framing == "bulk":
        whole = b"".join(events)
        parts = [whole[i : i + BULK] for i in range(0, len(whole), BULK)]
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    head = (
        f"HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\n\r\n"
    ).encode()
    return head + body


def _serve(sock: socket.socket, response: bytes) -> None:
    """The server process: keep-alive HTTP/1.1, every request gets ``response``."""

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


def start_server(
    response: Any, *, serve: Callable[[socket.socket, Any], None] = _serve, backlog: int = 16
) -> tuple[BaseProcess, str]:
    """Serve ``response`` from a forked process; returns it and ``http://127.0.0.1:PORT``.
    ``serve(listening socket, response)`` is the process's loop (another bench passes its
    own, e.g. ``compare_load``'s paced streams); ``backlog`` bounds the connects queued at
    once (an overflow costs the client a SYN retry, a second)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    port = sock.getsockname()[1]
    process = multiprocessing.get_context("fork").Process(
        target=serve, args=(sock, response), daemon=True
    )
    process.start()
    sock.close()
    return process, f"http://127.0.0.1:{port}"


# -- wire formats -------------------------------------------------------------------------


def openai_events(chunks: int) -> list[bytes]:
    """Chat Completions: role chunk, ``chunks`` content chunks, finish, usage, ``[DONE]``."""
    head = {
        "id": "chatcmpl-AB7c3BenchmarkStream0001",
        "object": "chat.completion.chunk",
        "created": 1727346171,
        "model": "gpt-4o-2024-08-06",
        "system_fingerprint": "fp_7568d46099",
    }

    def event(obj: dict[str, Any]) -> bytes:
        return b"data: " + _dumps({**head, **obj}) + b"\n\n"

    def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        }

    words = [event(choice({"content": w})) for w in WORDS]
    return [
        event(choice({"role": "assistant", "content": "", "refusal": None})),
        *(words[i % len(words)] for i in range(chunks)),
        event(choice({}, "stop")),
        event(
            {
                "choices": [],
                "usage": {
                    "prompt_tokens": 9,
                    "completion_tokens": chunks,
                    "total_tokens": chunks + 9,
                },
            }
        ),
        b"data: [DONE]\n\n",
    ]


def anthropic_events(chunks: int) -> list[bytes]:
    """Messages: message_start, a text block of ``chunks`` text_delta events, message_delta
    (stop reason, cumulative usage), message_stop; a ping as the API sends one."""

    def event(name: str, obj: dict[str, Any]) -> bytes:
        return b"event: " + name.encode() + b"\ndata: " + _dumps({"type": name, **obj}) + b"\n\n"

    message: dict[str, Any] = {
        "id": "msg_01BenchmarkStream000000001",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": "claude-sonnet-4-5-20250929",
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 9, "output_tokens": 1},
    }
    words = [
        event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": w}})
        for w in WORDS
    ]
    return [
        event("message_start", {"message": message}),
        event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        event("ping", {}),
        *(words[i % len(words)] for i in range(chunks)),
        event("content_block_stop", {"index": 0}),
        event(
            "message_delta",
            {
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": chunks},
            },
        ),
        event("message_stop", {}),
    ]


def ollama_events(chunks: int) -> list[bytes]:
    """``/api/chat`` NDJSON: one line per content delta, then the ``done`` line with the
    server's counters."""
    stamp = "2025-01-01T12:00:00.000000000Z"

    def line(obj: dict[str, Any]) -> bytes:
        return _dumps({"model": "llama3.2", "created_at": stamp, **obj}) + b"\n"

    words = [line({"message": {"role": "assistant", "content": w}, "done": False}) for w in WORDS]
    done = {
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
        "total_duration": 4883583458,
        "load_duration": 1334875,
        "prompt_eval_count": 9,
        "prompt_eval_duration": 342546000,
        "eval_count": chunks,
        "eval_duration": 4535599000,
    }
    return [*(words[i % len(words)] for i in range(chunks)), line(done)]


# -- consumers ----------------------------------------------------------------------------

Case = Callable[[], Awaitable[int]]


async def raw_bytes(client: httpx.AsyncClient, url: str, body: Any) -> int:
    size = 0
    async with client.stream("POST", url, json=body) as response:
        async for data in response.aiter_bytes():
            size += len(data)
    return size


async def floor_openai(client: httpx.AsyncClient, url: str, body: Any) -> int:
    loads = json.loads
    n = 0
    async with client.stream("POST", url, json=body) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                choices = loads(line[6:])["choices"]
                if choices and choices[0]["delta"].get("content"):
                    n += 1
    return n


async def floor_anthropic(client: httpx.AsyncClient, url: str, body: Any) -> int:
    """``event:`` lines are skipped: the JSON's ``type`` says the same."""
    loads = json.loads
    n = 0
    async with client.stream("POST", url, json=body) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                obj = loads(line[6:])
                if obj["type"] == "content_block_delta":
                    delta = obj["delta"]
                    if delta["type"] == "text_delta" and delta["text"]:
                        n += 1
    return n


async def floor_ollama(client: httpx.AsyncClient, url: str, body: Any) -> int:
    loads = json.loads
    n = 0
    async with client.stream("POST", url, json=body) as response:
        async for line in response.aiter_lines():
            if line:
                obj = loads(line)
                if not obj["done"] and obj["message"]["content"]:
                    n += 1
    return n


async def count_astream(llm: Any) -> int:
    """Chunks with text from ``astream``: ours and langchain-openai's alike."""
    n = 0
    async for chunk in llm.astream("hi"):
        if chunk.content:
            n += 1
    return n


async def count_events(llm: Any) -> int:
    """Stream events with text from ``astream_events`` v2: ours and langchain-openai's."""
    n = 0
    async for event in llm.astream_events("hi", version="v2"):
        if event["event"] == "on_chat_model_stream" and event["data"]["chunk"].content:
            n += 1
    return n


async def ours_stdlib_json(llm: Any) -> int:
    """Our astream with the stdlib's json instead of orjson (an optional accelerator)."""
    from llmstream_tui.providers import openai as module

    # the module's private JSON function swapped for this run only
    with mock.patch.object(module, "_loads", json.JSONDecoder().decode):
        return await count_astream(llm)


async def sdk_openai(client: Any) -> int:
    n = 0
    stream = await client.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            n += 1
    return n


async def sdk_anthropic(client: Any) -> int:
    """``messages.create(stream=True)``: the SDK's raw event stream, its cheapest way to
    stream (``messages.stream()`` adds a snapshot accumulated on every event)."""
    n = 0
    stream = await client.messages.create(
        model="claude-sonnet-4-5", max_tokens=1024, messages=MESSAGES, stream=True
    )
    async for event in stream:
        if (
            event.type == "content_block_delta"
            and event.delta.type == "text_delta"
            and event.delta.text
        ):
            n += 1
    return n


async def sdk_ollama(client: Any) -> int:
    n = 0
    async for part in await client.chat(model="llama3.2", messages=MESSAGES, stream=True):
        if not part.done and part.message.content:
            n += 1
    return n


# -- the families -------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """One provider family: its bytes, where they are asked for, and who reads them."""

    name: str
    content_type: str
    events: Callable[[int], list[bytes]]
    path: str
    body: dict[str, Any]
    floor: Callable[[httpx.AsyncClient, str, Any], Coroutine[Any, Any, int]]
    ours: str  # a build_llm reference; {root} is the server's address
    sdk_name: str


OPENAI = Family(
    "openai",
    "text/event-stream; charset=utf-8",
    openai_events,
    "/v1/chat/completions",
    {
        "model": "gpt-4o",
        "messages": MESSAGES,
        "stream": True,
        "stream_options": {"include_usage": True},
    },
    floor_openai,
    "openai-chat:gpt-4o@{root}/v1",
    "openai SDK (AsyncOpenAI) stream",
)
ANTHROPIC = Family(
    "anthropic",
    "text/event-stream; charset=utf-8",
    anthropic_events,
    "/v1/messages",
    {"model": "claude-sonnet-4-5", "max_tokens": 1024, "messages": MESSAGES, "stream": True},
    floor_anthropic,
    "anthropic:claude-sonnet-4-5@{root}",
    "anthropic SDK messages.create(stream)",
)
OLLAMA = Family(
    "ollama",
    "application/x-ndjson",
    ollama_events,
    "/api/chat",
    {"model": "llama3.2", "messages": MESSAGES, "stream": True},
    floor_ollama,
    "ollama-chat:llama3.2@{root}",
    "ollama SDK AsyncClient.chat(stream)",
)
BY_NAME = {f.name: f for f in (OPENAI, ANTHROPIC, OLLAMA)}


def _sdk(family: Family, root: str) -> tuple[Any, Case]:
    """The official SDK's client for ``root`` and the case that streams with it."""
    if family.name == "openai":
        import openai

        client: Any = openai.AsyncOpenAI(
            base_url=root + "/v1", api_key="bench", max_retries=0, timeout=60
        )
        return client, lambda: sdk_openai(client)
    if family.name == "anthropic":
        import anthropic

        client = anthropic.AsyncAnthropic(base_url=root, api_key="bench", max_retries=0, timeout=60)
        return client, lambda: sdk_anthropic(client)
    import ollama

    client = ollama.AsyncClient(host=root, timeout=60)
    return client, lambda: sdk_ollama(client)


def _langchain_openai(root: str) -> tuple[dict[str, Case], str]:
    """langchain-openai's cases, or none and why (it is in the ``bench`` extra only)."""
    try:
        # in the bench extra only: missing from a test install, where mypy also runs (and
        # when it is installed, this ignore is unused, hence ``unused-ignore``)
        from langchain_openai import ChatOpenAI  # type: ignore[import-not-found, unused-ignore]
    except ImportError as exc:
        return {}, f"langchain-openai not installed ({exc.name}): pip install -e '.[bench]'"
    model = ChatOpenAI(
        model="gpt-4o",
        base_url=root + "/v1",
        api_key=SecretStr("bench"),
        max_retries=0,
        timeout=60,
        stream_usage=True,
    )
    return {LC: lambda: count_astream(model), LC_EVENTS: lambda: count_events(model)}, ""


async def _close(client: Any) -> None:
    for name in ("close", "aclose"):
        fn = getattr(client, name, None)
        if fn is not None:
            await fn()
            return
    inner = getattr(client, "_client", None)  # ollama.AsyncClient keeps its httpx client here
    if inner is not None:
        await inner.aclose()


def measure(
    family: Family, chunks: int, repeats: int, framing: str, langchain: bool = True
) -> tuple[dict[str, list[float]], str]:
    """Samples (chunks/s per case, ``repeats`` alternating runs after a warm-up) for one
    family and framing; plus a note about anything left out."""
    from llmstream_tui.providers.registry import build_llm

    response = http_response(family.content_type, family.events(chunks), framing)
    process, root = start_server(response)
    loop = asyncio.new_event_loop()
    note = ""
    try:
        client = httpx.AsyncClient(timeout=60)
        url = root + family.path
        llm = build_llm(family.ours.format(root=root), client=client)
        sdk_client, sdk_case = _sdk(family, root)
        cases: dict[str, Case] = {
            RAW: lambda: raw_bytes(client, url, family.body),
            FLOOR: lambda: family.floor(client, url, family.body),
            OURS: lambda: count_astream(llm),
            OURS_EVENTS: lambda: count_events(llm),
            family.sdk_name: sdk_case,
        }
        if family.name == "openai":
            cases[OURS_STDLIB] = lambda: ours_stdlib_json(llm)
            if langchain:
                extra, note = _langchain_openai(root)
                cases.update(extra)

        def timed_case(name: str, case: Case) -> Callable[[], float]:
            def once() -> float:
                started = time.perf_counter()
                count = loop.run_until_complete(case())
                elapsed = time.perf_counter() - started
                if name != RAW:
                    assert count == chunks, (family.name, framing, name, count)
                return chunks / elapsed

            return once

        sync_cases = {name: timed_case(name, case) for name, case in cases.items()}
        for fn in sync_cases.values():  # warm-up: connections, imports, caches
            fn()
        samples = alternate(sync_cases, repeats)
        loop.run_until_complete(_close(sdk_client))
        loop.run_until_complete(client.aclose())
    finally:
        loop.close()
        process.terminate()
        process.join()
    return samples, note


def _verdict(value: float, target: float, at_most: bool) -> str:
    met = value <= target if at_most else value >= target
    return f"target {'<=' if at_most else '>='} {target:g}x: {'met' if met else 'MISSED'}"


def target_rows(section: str, family: Family, samples: dict[str, list[float]]) -> list[Row]:
    """The issue's targets as ratios of this run's medians, each with its verdict. The notes
    on the "N times" targets give the ceiling: reading the bytes alone (no parsing at all)
    is only so many times faster than the slower consumer."""
    med = {name: statistics.median(v) for name, v in samples.items()}
    ours, raw = med[OURS], med[RAW]

    def ceiling(other: float) -> str:
        return f"; bytes alone: {raw / other:.1f}x"

    checks: list[tuple[str, float, float, bool, str]] = [
        ("target floor/astream (time)", med[FLOOR] / ours, 1.3, True, ""),
        (
            "target astream/SDK",
            ours / med[family.sdk_name],
            10,
            False,
            ceiling(med[family.sdk_name]),
        ),
    ]
    if LC in med:
        checks.append(
            ("target astream/langchain astream", ours / med[LC], 20, False, ceiling(med[LC]))
        )
        checks.append(
            (
                "target events/langchain events",
                med[OURS_EVENTS] / med[LC_EVENTS],
                20,
                False,
                ceiling(med[LC_EVENTS]),
            )
        )
    checks.append(("target astream/astream_events (time)", ours / med[OURS_EVENTS], 1.5, True, ""))
    return [
        Row(section, case, value, "x", note=_verdict(value, target, at_most) + extra)
        for case, value, target, at_most, extra in checks
    ]


def run(
    smoke: bool = False,
    chunks: int = CHUNKS,
    repeats: int = REPEATS,
    families: tuple[str, ...] = FAMILIES,
    framings: tuple[str, ...] = FRAMINGS,
    langchain_framings: tuple[str, ...] = FRAMINGS,
) -> list[Row]:
    """Every family in every framing: a row per consumer (chunks/s, ratio to the floor) and
    the targets as ratios (``langchain_framings``: where langchain-openai runs; at a few
    thousand chunks/s it is most of the run time)."""
    if smoke:
        chunks, repeats = SMOKE_CHUNKS, 1
    rows: list[Row] = []
    for name in families:
        family = BY_NAME[name]
        for framing in framings:
            section = f"{name}/{framing}"
            samples, note = measure(
                family, chunks, repeats, framing, langchain=framing in langchain_framings
            )
            rows += rows_from(
                section,
                samples,
                "chunks/s",
                FLOOR,
                notes={RAW: "bytes read, no parsing", FLOOR: note},
            )
            rows += target_rows(section, family, samples)
    return rows


def main(argv: list[str] | None = None, families: tuple[str, ...] = FAMILIES) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.wire",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_CHUNKS:,} chunks, one run")
    parser.add_argument("--chunks", type=int, default=CHUNKS)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument(
        "--family",
        choices=FAMILIES,
        action="append",
        help="only this family (repeatable; default: all)",
    )
    parser.add_argument(
        "--framing",
        choices=FRAMINGS,
        action="append",
        help="only this framing (repeatable; default: both)",
    )
    args = parser.parse_args(argv)
    chosen = tuple(args.family or families)
    rows = run(args.smoke, args.chunks, args.repeats, chosen, tuple(args.framing or FRAMINGS))
    chunks, repeats = (SMOKE_CHUNKS, 1) if args.smoke else (args.chunks, args.repeats)
    print(
        f"{chunks:,} chunks per run, median of {repeats} alternating runs; "
        "ratio = rate / the floor's rate"
    )
    print(format_table(rows))
    if not args.smoke:
        print(f"results: {write_json(rows, 'wire.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
