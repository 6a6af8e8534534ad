"""Every fault mode x every HTTP provider kind, against a real loopback server.

Each case asserts the documented error type, a one-line message naming the provider, the
text received so far kept (a prefix of what was sent), no hang past the configured timeout,
no asyncio task or file descriptor left behind, and a concurrent healthy stream on another
server completing untouched.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from llmstream_tui import build_llm
from llmstream_tui.errors import (
    AuthError,
    ConnectError,
    HTTPStatusError,
    ProviderError,
    RateLimitError,
    StreamInterrupted,
    StreamProtocolError,
    StreamTimeout,
)
from tests.support.loopback import LoopbackServer, Reply
from tests.support.wire_encoders import CONTENT_TYPES, FORMATS, PLAIN_FRAME, table

KINDS = sorted(FORMATS)
CHUNKS = [f"w{i} " for i in range(40)]
FULL = "".join(CHUNKS)
TIMEOUT = 0.4


def body(kind: str, chunks: list[str] = CHUNKS) -> bytes:
    return FORMATS[kind](chunks, PLAIN_FRAME)


def ok_reply(kind: str, chunks: list[str] = CHUNKS, **kw: Any) -> Reply:
    return Reply(body=body(kind, chunks), headers=[("content-type", CONTENT_TYPES[kind])], **kw)


def error_body(kind: str, message: str) -> Reply:
    if kind == "anthropic":
        doc: Any = {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
    elif kind.startswith("ollama"):
        doc = {"error": message}
    else:
        doc = {"error": {"message": message, "type": "invalid_request_error"}}
    return Reply.json(doc)


@dataclass
class Case:
    reply: Any
    error: type[ProviderError] | None
    partial: str = "any"  # "any", "some" (non-empty prefix), "none", "full"
    in_message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    bound_s: float = 5.0


def case_for(mode: str, kind: str) -> Case:  # noqa: C901  # one branch per fault mode: a table
    full = body(kind)
    mid = len(full) // 2
    if mode == "400-json":
        r = error_body(kind, "temperature must be <= 2")
        r.status = 400
        return Case(r, HTTPStatusError, "none", "temperature must be <= 2")
    if mode == "401":
        r = error_body(kind, "invalid api key")
        r.status = 401
        return Case(r, AuthError, "none", "401")
    if mode == "404":
        r = error_body(kind, "model not found")
        r.status = 404
        return Case(r, HTTPStatusError, "none", "model not found")
    if mode == "502-html":
        return Case(Reply.html(502), HTTPStatusError, "none", "HTML")
    if mode == "429-then-ok":
        limited = Reply.json(
            {"error": {"message": "slow down"}}, status=429, headers=[("retry-after", "0")]
        )
        return Case([limited, limited, ok_reply(kind)], None, "full", extra={"max_retries": 2})
    if mode == "429-exhausted":
        limited = Reply.json(
            {"error": {"message": "slow down"}}, status=429, headers=[("retry-after", "0")]
        )
        return Case([limited], RateLimitError, "none", "429", extra={"max_retries": 1})
    if mode == "503":
        return Case(
            [Reply.json({"error": {"message": "busy"}}, status=503)],
            RateLimitError,
            "none",
            "503",
            extra={"max_retries": 0},
        )
    if mode == "500":
        return Case(
            Reply.json({"error": {"message": "kaboom"}}, status=500),
            HTTPStatusError,
            "none",
            "kaboom",
        )
    if mode == "drop":
        return Case(
            ok_reply(kind, drop_after=mid, pattern="random", max_piece=200),
            StreamInterrupted,
            "some",
            "dropped",
        )
    if mode == "stall":
        return Case(
            ok_reply(kind, stall_after=mid),
            StreamTimeout,
            "some",
            "stalled",
            extra={"timeout": TIMEOUT},
            bound_s=TIMEOUT + 2,
        )
    if mode == "drip":
        return Case(
            ok_reply(kind, pattern="bytes", drip=1.0),
            StreamTimeout,
            "any",
            "stalled",
            extra={"timeout": TIMEOUT},
            bound_s=TIMEOUT + 2.5,
        )
    if mode == "garbage-status":
        return Case(Reply(raw=b"\x00\xffNOT HTTP AT ALL\r\n\r\n"), StreamProtocolError, "none")
    if mode == "garbage-body":
        junk = b"data: {not json\n\n" if CONTENT_TYPES[kind].endswith("stream") else b"{not json\n"
        return Case(
            Reply(body=junk, headers=[("content-type", CONTENT_TYPES[kind])]),
            StreamProtocolError,
            "none",
        )
    if mode == "html-200":
        return Case(Reply.html(200, "<html>proxy login</html>"), StreamProtocolError, "none")
    if mode == "close-before-headers":
        return Case(Reply(close_before_headers=True), StreamInterrupted, "none", "closed")
    if mode == "gzip":
        return Case(ok_reply(kind, gzip=True, pattern="random"), None, "full")
    if mode == "invalid-utf8":
        raw = full.replace(b"w7 ", b"w7\xff")
        return Case(
            Reply(body=raw, headers=[("content-type", CONTENT_TYPES[kind])]),
            None if CONTENT_TYPES[kind].endswith("stream") else StreamProtocolError,
            "utf8",
        )
    raise AssertionError(mode)


MODES = [
    "400-json",
    "401",
    "404",
    "502-html",
    "429-then-ok",
    "429-exhausted",
    "503",
    "500",
    "drop",
    "stall",
    "drip",
    "garbage-status",
    "garbage-body",
    "html-200",
    "close-before-headers",
    "gzip",
    "invalid-utf8",
]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def run_stream(llm: Any) -> tuple[str, BaseException | None]:
    received: list[str] = []
    try:
        async for chunk in llm.astream("hi"):
            text = chunk if isinstance(chunk, str) else chunk.content
            received.append(text)
    except ProviderError as exc:
        return "".join(received), exc
    return "".join(received), None


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
async def test_fault(kind: str, mode: str) -> None:
    case = case_for(mode, kind)
    fds_before = open_fds()
    tasks_before = asyncio.all_tasks()
    replies = case.reply if isinstance(case.reply, list) else [case.reply]
    async with (
        LoopbackServer(*replies) as bad,
        LoopbackServer(ok_reply(kind, pattern="random", drip=0.001)) as good,
    ):
        spec = {**table(kind, bad.url), "timeout": 5.0, "max_retries": 0, **case.extra}
        faulty = build_llm(spec, name="p")
        healthy = build_llm({**table(kind, good.url), "max_retries": 0}, name="ok")
        started = time.perf_counter()
        try:
            (text, exc), (good_text, good_exc) = await asyncio.wait_for(
                asyncio.gather(run_stream(faulty), run_stream(healthy)), case.bound_s + 5
            )
        finally:
            await faulty.aclose()
            await healthy.aclose()
        elapsed = time.perf_counter() - started
    assert good_exc is None and good_text == FULL, "a concurrent stream was affected"
    assert elapsed < case.bound_s, f"took {elapsed:.2f}s"
    if case.error is None:
        assert exc is None, exc
    else:
        assert isinstance(exc, case.error), repr(exc)
        message = str(exc)
        assert "\n" not in message and message.startswith("p: "), message
        assert case.in_message in message, message
        assert exc.partial_text == text
    if case.partial == "full":
        assert text == FULL
    elif case.partial == "none":
        assert text == ""
    elif case.partial == "some":
        assert text and FULL.startswith(text) and text != FULL
    elif case.partial == "utf8":
        assert FULL.startswith(text.split("w7")[0])
        if case.error is None:
            assert "w7\ufffd" in text
    else:
        assert FULL.startswith(text)
    await asyncio.sleep(0)
    leaked = {t for t in asyncio.all_tasks() - tasks_before if not t.done()}
    assert not leaked, leaked
    assert open_fds() <= fds_before, "a socket or file was left open"


@pytest.mark.parametrize("kind", KINDS)
async def test_connection_refused_is_connect_error(kind: str) -> None:
    async with LoopbackServer() as server:
        url = server.url
    llm = build_llm({**table(kind, url), "max_retries": 0}, name="p")
    text, exc = await run_stream(llm)
    await llm.aclose()
    assert isinstance(exc, ConnectError) and str(exc).startswith("p: ")
    assert "\n" not in str(exc) and text == ""


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
async def test_64_mib_single_event_arrives_whole(kind: str) -> None:
    big = "x" * (64 * 1024 * 1024)
    async with LoopbackServer(ok_reply(kind, [big, "!"])) as server:
        spec = {
            **table(kind, server.url),
            "max_retries": 0,
            "timeout": 60,
            "max_event_bytes": 2**27,
        }
        llm = build_llm(spec, name="p")
        text, exc = await run_stream(llm)
        await llm.aclose()
    assert exc is None
    assert len(text) == len(big) + 1 and text.endswith("x!")
