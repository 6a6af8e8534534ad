"""Hostile servers and files (issue 15, wire and input): each case ends in one clear line,
the text received before it kept, memory bounded, and nothing hanging.

- an event or line that never ends is cut off at ``max_event_bytes`` (item 3);
- a recording that is endless (a symlink to ``/dev/zero``) is refused at once (item 4);
- keep-alive comments or empty deltas forever hit ``idle_timeout``, and any stream the
  ``deadline`` (item 5);
- JSON nested 200,000 (or 1,000) levels deep is a protocol error in every kind (item 6);
- every Unicode format character is escaped for the screen, bar the joiners (item 17).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import tracemalloc
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from llmstream_tui import build_llm
from llmstream_tui.core.inert import escape_controls, has_controls
from llmstream_tui.core.recording import RecordingReader
from llmstream_tui.errors import (
    HTTPStatusError,
    RecordingError,
    StreamProtocolError,
    StreamTimeout,
)
from tests.adversarial.test_fault_matrix import run_stream
from tests.support.loopback import LoopbackServer, Reply
from tests.support.wire_encoders import CONTENT_TYPES, FORMATS, PLAIN_FRAME, table

KINDS = sorted(FORMATS)
SSE_KINDS = [k for k in KINDS if CONTENT_TYPES[k].endswith("event-stream")]


def is_sse(kind: str) -> bool:
    return kind in SSE_KINDS


def text_events(kind: str, chunks: list[str]) -> bytes:
    """The kind's wire bytes for ``chunks``, without the end of the stream (no terminator,
    no final ``finish_reason``), so more can follow them."""
    whole = FORMATS[kind](chunks, PLAIN_FRAME)
    marker = chunks[-1].encode()
    cut = whole.index(marker) + len(marker)
    end = whole.index(b"\n\n" if is_sse(kind) else b"\n", cut)
    return whole[: end + (2 if is_sse(kind) else 1)]


# -- item 6: deeply nested JSON --------------------------------------------------------------


@pytest.mark.parametrize("depth", [1_000, 200_000])
@pytest.mark.parametrize("kind", KINDS)
async def test_deeply_nested_event_is_a_protocol_error(kind: str, depth: int) -> None:
    deep = "[" * depth + "]" * depth
    head = text_events(kind, ["before "])
    tail = f"data: {deep}\n\n" if is_sse(kind) else deep + "\n"
    reply = Reply(body=head + tail.encode(), headers=[("content-type", CONTENT_TYPES[kind])])
    async with LoopbackServer(reply) as server:
        llm = build_llm({**table(kind, server.url), "max_retries": 0}, name="p")
        text, exc = await run_stream(llm)
        await llm.aclose()
    assert isinstance(exc, StreamProtocolError), repr(exc)
    message = str(exc)
    assert message.startswith("p: ") and "\n" not in message and len(message) < 200, message
    assert text == "before " and exc.partial_text == "before "


@pytest.mark.parametrize("kind", KINDS)
async def test_deeply_nested_answer_without_streaming_is_a_protocol_error(kind: str) -> None:
    deep = "[" * 200_000 + "]" * 200_000
    reply = Reply(body=deep.encode(), headers=[("content-type", "application/json")])
    async with LoopbackServer(reply) as server:
        llm = build_llm({**table(kind, server.url), "max_retries": 0, "stream": False}, name="p")
        text, exc = await run_stream(llm)
        await llm.aclose()
    assert isinstance(exc, StreamProtocolError), repr(exc)
    assert str(exc).startswith("p: ") and "\n" not in str(exc)
    assert text == ""


@pytest.mark.parametrize("kind", ["openai-chat", "ollama-chat"])
async def test_deeply_nested_error_body_is_still_an_http_error(kind: str) -> None:
    deep = "[" * 30_000 + "]" * 30_000  # within the 64 KiB an error body is read up to
    reply = Reply(status=400, body=deep.encode(), headers=[("content-type", "application/json")])
    async with LoopbackServer(reply) as server:
        llm = build_llm({**table(kind, server.url), "max_retries": 0}, name="p")
        text, exc = await run_stream(llm)
        await llm.aclose()
    assert isinstance(exc, HTTPStatusError), repr(exc)
    assert str(exc).startswith("p: ") and "400" in str(exc) and "\n" not in str(exc)


# -- item 3: an event or line that never ends -------------------------------------------------

CAP = 256 * 1024


@dataclass
class EndlessLine(Reply):
    """Some content, then 64 MiB in 64 KiB writes without a newline (never built whole)."""

    total: int = 64 * 1024 * 1024
    lead: bytes = b""

    def pieces(self, data: bytes) -> Iterator[bytes]:
        yield self.lead
        block = b"x" * 65536
        for _ in range(self.total // len(block)):
            yield block


@pytest.mark.parametrize("kind", KINDS)
async def test_endless_line_stops_at_max_event_bytes(kind: str) -> None:
    lead = text_events(kind, ["kept "]) + (b"data: " if is_sse(kind) else b"")
    reply = EndlessLine(body=b"-", lead=lead, headers=[("content-type", CONTENT_TYPES[kind])])
    async with LoopbackServer(reply) as server:
        spec = {**table(kind, server.url), "max_retries": 0, "max_event_bytes": CAP}
        llm = build_llm(spec, name="p")
        started = time.perf_counter()
        text, exc = await asyncio.wait_for(run_stream(llm), 20)
        elapsed = time.perf_counter() - started
        await llm.aclose()
        sent = server.requests[0].bytes_sent
    assert isinstance(exc, StreamProtocolError), repr(exc)
    message = str(exc)
    assert message.startswith("p: ") and "\n" not in message
    assert "256 KiB limit" in message and "max_event_bytes" in message, message
    assert text == "kept " and exc.partial_text == "kept "
    # given up long before the 64 MiB were sent: the limit, not the line, bounds the work
    assert sent < 16 * 1024 * 1024, sent
    assert elapsed < 10


@pytest.mark.parametrize("kind", ["openai-chat", "anthropic", "ollama-chat"])
async def test_endless_answer_without_streaming_stops_at_max_event_bytes(kind: str) -> None:
    reply = EndlessLine(body=b"-", lead=b'{"a": "', headers=[("content-type", "application/json")])
    async with LoopbackServer(reply) as server:
        spec = {**table(kind, server.url), "max_retries": 0, "stream": False}
        llm = build_llm({**spec, "max_event_bytes": CAP}, name="p")
        text, exc = await asyncio.wait_for(run_stream(llm), 20)
        await llm.aclose()
        sent = server.requests[0].bytes_sent
    assert isinstance(exc, StreamProtocolError), repr(exc)
    assert "256 KiB limit" in str(exc) and "\n" not in str(exc), str(exc)
    assert text == "" and sent < 16 * 1024 * 1024, sent


def test_a_64_mib_line_is_refused_by_the_default_limit() -> None:
    from llmstream_tui.providers.spec import ProviderSpec

    assert ProviderSpec(kind="x").max_event_bytes == 16 * 1024 * 1024


# -- item 5: keep-alives forever --------------------------------------------------------------


@dataclass
class KeepAliveForever(Reply):
    """Content first, then every ``drip`` seconds a write that carries no content."""

    lead: bytes = b""
    filler: bytes = b": keep-alive\n\n"

    def pieces(self, data: bytes) -> Iterator[bytes]:
        yield self.lead
        for _ in range(10_000):
            yield self.filler


def empty_delta(kind: str) -> bytes:
    """One event of ``kind`` that carries no text (an empty delta, or a ping)."""
    if kind == "anthropic":
        return b'event: ping\ndata: {"type": "ping"}\n\n'
    if kind.startswith("ollama"):
        field = "message" if kind == "ollama-chat" else "response"
        value: Any = {"role": "assistant", "content": ""} if field == "message" else ""
        return json.dumps({"model": "m", "done": False, field: value}).encode() + b"\n"
    if kind == "openai-chat":
        obj: Any = {"id": "c1", "choices": [{"index": 0, "delta": {"content": ""}}]}
    elif kind == "openai-completions":
        obj = {"id": "x", "choices": [{"index": 0, "text": "", "finish_reason": None}]}
    elif kind == "openai-responses":
        obj = {"type": "response.output_text.delta", "delta": "", "item_id": "m1"}
    else:  # gemini
        obj = {"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}}]}
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


@pytest.mark.parametrize("filler", ["comment", "empty-delta"])
@pytest.mark.parametrize("kind", KINDS)
async def test_no_content_for_idle_timeout_is_stalled(kind: str, filler: str) -> None:
    if filler == "comment" and not is_sse(kind):
        filler_bytes = b"\n"  # NDJSON's only content-free line: a blank one
    elif filler == "comment":
        filler_bytes = b": keep-alive\n\n"
    else:
        filler_bytes = empty_delta(kind)
    reply = KeepAliveForever(
        body=b"-",
        lead=text_events(kind, ["so far "]),
        filler=filler_bytes,
        drip=0.05,
        headers=[("content-type", CONTENT_TYPES[kind])],
    )
    async with LoopbackServer(reply) as server:
        spec = {**table(kind, server.url), "max_retries": 0, "idle_timeout": 0.5, "timeout": 5}
        llm = build_llm(spec, name="p")
        started = time.perf_counter()
        text, exc = await asyncio.wait_for(run_stream(llm), 10)
        elapsed = time.perf_counter() - started
        await llm.aclose()
    assert isinstance(exc, StreamTimeout), repr(exc)
    assert str(exc) == "p: no content for 0.5 s (stalled)"
    assert text == "so far " and exc.partial_text == "so far "
    assert 0.5 <= elapsed < 2.5, elapsed


async def test_content_resets_the_idle_timeout_and_the_deadline_still_ends_it() -> None:
    kind = "openai-chat"
    chunk = {"id": "c1", "choices": [{"index": 0, "delta": {"content": "a "}}]}
    reply = KeepAliveForever(
        body=b"-",
        lead=text_events(kind, ["a "]),
        filler=b"data: " + json.dumps(chunk).encode() + b"\n\n",
        drip=0.1,
        headers=[("content-type", CONTENT_TYPES[kind])],
    )
    async with LoopbackServer(reply) as server:
        spec = {
            **table(kind, server.url),
            "max_retries": 0,
            "idle_timeout": 0.3,
            "deadline": 1.0,
            "timeout": 5,
        }
        llm = build_llm(spec, name="p")
        started = time.perf_counter()
        text, exc = await asyncio.wait_for(run_stream(llm), 10)
        elapsed = time.perf_counter() - started
        await llm.aclose()
    assert isinstance(exc, StreamTimeout), repr(exc)
    assert str(exc) == "p: not finished within the 1 s deadline (stalled)"
    # content every 0.1 s kept the 0.3 s idle timeout from firing
    assert text.startswith("a a a ") and exc.partial_text == text
    assert 1.0 <= elapsed < 2.5, elapsed


async def test_a_silent_server_still_hits_the_deadline_mid_read() -> None:
    """The deadline cancels a read in progress: it does not wait for the next byte."""
    kind = "anthropic"
    sent = text_events(kind, ["hello "])
    reply = Reply(
        body=sent + b"never sent",
        stall_after=len(sent),
        headers=[("content-type", CONTENT_TYPES[kind])],
    )
    async with LoopbackServer(reply) as server:
        spec = {**table(kind, server.url), "max_retries": 0, "deadline": 0.4, "timeout": 30}
        llm = build_llm(spec, name="p")
        started = time.perf_counter()
        text, exc = await asyncio.wait_for(run_stream(llm), 10)
        elapsed = time.perf_counter() - started
        await llm.aclose()
    assert isinstance(exc, StreamTimeout), repr(exc)
    assert "deadline" in str(exc) and "stalled" in str(exc)
    assert text == "hello "
    assert elapsed < 2.0, elapsed


# -- item 4: endless recordings ---------------------------------------------------------------


def zero_link(tmp_path: Path) -> Path:
    link = tmp_path / "rec.jsonl"
    link.symlink_to("/dev/zero")
    return link


def test_recording_reader_refuses_an_endless_file(tmp_path: Path) -> None:
    started = time.perf_counter()
    with pytest.raises(RecordingError) as info:
        RecordingReader(zero_link(tmp_path))
    assert time.perf_counter() - started < 1.0
    message = str(info.value)
    assert "\n" not in message and "rec.jsonl" in message, message


def test_recording_header_without_newline_is_read_bounded(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as fh:
        fh.truncate(64 * 1024 * 1024)  # 64 MiB of NUL bytes, sparse: no newline anywhere
    tracemalloc.start()
    try:
        with pytest.raises(RecordingError, match="no header line"):
            RecordingReader(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, peak  # the 1 MiB header limit, not the 64 MiB line


def test_recording_line_longer_than_the_limit_is_skipped_in_bounded_memory(
    tmp_path: Path,
) -> None:
    from llmstream_tui.core.recording import header

    path = tmp_path / "long.jsonl"
    first = json.dumps(header()).encode() + b"\n"
    good = b'{"type":"prompt","turn":0,"text":"hi"}\n'
    path.write_bytes(first + b'{"type":"prompt","text":"' + b"x" * 5000 + b'"}\n' + good)
    reader = RecordingReader(path, max_line_bytes=1024)
    lines = list(reader)
    assert lines == [json.loads(good)]
    assert reader.problem_summary() == f"{path}: line 2 is longer than 1 KiB; skipped"


@pytest.mark.parametrize("command", ["replay", "stream"])
def test_cli_on_an_endless_recording_says_so_in_one_line(tmp_path: Path, command: str) -> None:
    link = zero_link(tmp_path)
    argv = (
        ["replay", str(link)] if command == "replay" else ["stream", "-p", f"replay:{link}", "hi"]
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "llmstream_tui", *argv],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert time.perf_counter() - started < 15
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "rec.jsonl" in lines[0], done.stderr
    assert "Traceback" not in done.stderr


# -- item 17: format characters ---------------------------------------------------------------

#: The format characters kept as they are: the joiners, which emoji sequences (ZWJ) and
#: Persian or Indic text (ZWNJ) need to render, when they follow a visible non-ASCII
#: character (see ``core/inert.py``).
JOINERS = {"\u200c", "\u200d"}


def format_characters() -> list[str]:
    return [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]


def test_every_format_character_is_escaped() -> None:
    found = format_characters()
    assert {"\u061c", "\u00ad", "\u180e", "\U000e0001", "\U000e0041"} <= set(found)
    for char in found:
        for text in (f"a{char}b", char, f"{char}\u4e2d", f"\u4e2d{char}"):
            shown = escape_controls(text)
            if char in JOINERS and text == f"\u4e2d{char}":
                assert shown == text, f"U+{ord(char):04X} after a CJK character"
                continue
            assert char not in shown, f"U+{ord(char):04X} in {text!r} left raw"
            assert has_controls(text)
            code = ord(char)
            if code < 0x100:
                escape = f"\\x{code:02x}"
            else:
                escape = f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
            assert escape in shown, (shown, escape)


def test_joiners_inside_emoji_and_scripts_render_but_not_in_ascii_or_runs() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert escape_controls(family) == family and not has_controls(family)
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    assert escape_controls(persian) == persian
    devanagari = "\u0915\u094d\u200d\u0937"
    assert escape_controls(devanagari) == devanagari
    assert escape_controls("a\u200db") == "a\\u200db"
    assert escape_controls("\u200d") == "\\u200d"
    assert escape_controls("\u4e2d\u200d\u200d") == "\u4e2d\u200d\\u200d"
    assert escape_controls("\u4e2d\u200dx") == "\u4e2d\\u200dx"


def test_other_escapes_unchanged() -> None:
    text = "\x1b[2J\x00\x7f\x85\u2028\u2029\u202e\ufeff ok\tand\n"
    assert escape_controls(text) == "\\x1b[2J\\x00\\x7f\\x85\\u2028\\u2029\\u202e\\ufeff ok\tand\n"
    plain = "plain text, é, 中文, 🧪" * 10
    assert escape_controls(plain) is plain and not has_controls(plain)


# -- the app stays up ---------------------------------------------------------------------


async def test_the_app_shows_each_hostile_stream_as_one_error_and_stays_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmstream_tui.config import Settings, UISettings
    from llmstream_tui.ui.app import make_app
    from tests.adversarial.test_app_adversarial import send_and_wait

    monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(tmp_path / "data"))
    endless = EndlessLine(
        body=b"-",
        lead=text_events("openai-chat", ["kept "]) + b"data: ",
        headers=[("content-type", CONTENT_TYPES["openai-chat"])],
    )
    chatty = KeepAliveForever(
        body=b"-",
        lead=text_events("anthropic", ["so far "]),
        drip=0.05,
        headers=[("content-type", CONTENT_TYPES["anthropic"])],
    )
    good = Reply(
        body=FORMATS["openai-chat"](["all ", "good"], PLAIN_FRAME),
        headers=[("content-type", CONTENT_TYPES["openai-chat"])],
    )
    async with LoopbackServer() as server:
        server.set_replies(
            lambda r: endless if "/endless/" in r.path else chatty if "/chatty/" in r.path else good
        )
        settings = Settings(
            providers={
                "endless": {
                    **table("openai-chat", f"{server.url}/endless"),
                    "max_retries": 0,
                    "max_event_bytes": CAP,
                },
                "chatty": {
                    **table("anthropic", f"{server.url}/chatty"),
                    "max_retries": 0,
                    "idle_timeout": 0.5,
                },
                "good": {**table("openai-chat", f"{server.url}/good"), "max_retries": 0},
            },
            default_providers=["endless", "chatty", "good"],
            ui=UISettings(cursor_blink=False),
        )
        app = make_app(settings)
        async with app.run_test(size=(160, 40)) as pilot:
            await send_and_wait(pilot, "hi")
            endless_pane, chatty_pane, good_pane = app.panes
            assert [p.session.state for p in app.panes] == ["error", "error", "done"]
            assert endless_pane.session.answer_text() == "kept "
            assert chatty_pane.session.answer_text() == "so far "
            assert good_pane.session.answer_text() == "all good"
            for pane, words in ((endless_pane, "256 KiB limit"), (chatty_pane, "no content")):
                error = pane.session.error or ""
                assert words in error and "\n" not in error, error
            await pilot.press("f8", "escape")  # the app still answers keys
            await pilot.pause()
            assert app.is_running
