"""A loopback HTTP/1.1 server whose bytes a test controls exactly.

Built on raw asyncio streams rather than a web framework, so a test decides every byte on the
wire, how the body is cut into writes, and how the connection misbehaves. It runs in the
test's own event loop on ``127.0.0.1`` and an ephemeral port.

Usage (the ``loopback`` fixture in ``tests/conftest.py`` yields a started server)::

    async with LoopbackServer(Reply.sse_file(path, pattern="bytes")) as server:
        llm = build_llm(f"openai-chat:gpt-4o@{server.url}/v1")
        ...
        request = server.requests[0]          # RecordedRequest
        assert request.json()["stream"] is True
        assert request.headers["authorization"] == "Bearer test"

Choosing replies:

- ``LoopbackServer(reply)``: every request gets ``reply``.
- ``LoopbackServer(r1, r2, r3)``: the n-th request gets the n-th reply; the last one repeats
  (so ``LoopbackServer(Reply(status=429, ...), Reply.sse(...))`` is "one 429, then succeed").
- a reply may be a callable ``(RecordedRequest) -> Reply`` (route on ``request.path``).
- ``server.routes["/v1/models"] = Reply.json({...})``: a fixed reply for one path (without
  the query string), checked before the sequence above.
- ``server.set_replies(...)`` replaces the sequence mid-test.

What a ``Reply`` controls (all optional, combine freely):

- ``status``, ``reason`` (default: the standard phrase), ``headers`` (list of pairs, sent as
  given; ``Retry-After`` is just a header), ``body`` (bytes).
- ``framing``: ``"chunked"`` (default; every write is one HTTP chunk), ``"length"``
  (``Content-Length``) or ``"close"`` (no length: the body ends when the server closes).
- ``pattern``: ``"whole"`` (one write), ``"bytes"`` (one byte per write), ``"random"``
  (pieces of 1..``max_piece`` bytes from ``random.Random(seed)``). After every write the
  server drains and yields to the loop (``pause`` seconds, ``0`` meaning one loop turn), so
  the client's reads really are split.
- ``drip``: seconds to sleep between writes (a slow stream).
- ``drop_after=N``: abort the connection after N body bytes (a dropped connection).
- ``stall_after=N``: write N body bytes, then send nothing until the client goes away.
- ``close_before_headers``: read the request, then close without answering.
- ``gzip``: compress the body and send ``Content-Encoding: gzip`` (the pieces are cut from
  the compressed bytes).
- ``raw``: bytes written verbatim instead of a response (garbage, broken status lines), then
  the connection is closed.

What the server records:

- ``server.requests``: every ``RecordedRequest`` (``method``, ``path`` with query,
  ``headers`` as a dict with lower-case names, ``body`` bytes, ``json()``), in arrival order.
- ``request.disconnected`` (``asyncio.Event``): set when the client closed the connection
  before that request's response was completely written; ``server.disconnected`` is set for
  any request. Await them (``await asyncio.wait_for(server.disconnected.wait(), 1)``) rather
  than sleeping.
- ``request.bytes_sent``: body bytes written before the response ended or the client left.

Leaving the context closes the listener and aborts every open connection, so a stalled
reply never outlives its test.
"""

from __future__ import annotations

import asyncio
import gzip as gzip_module
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

Framing = Literal["chunked", "length", "close"]
Pattern = Literal["whole", "bytes", "random"]

_REASONS = {529: "Overloaded"}


@dataclass
class Reply:
    """One response and the way it is delivered (see the module docstring)."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    reason: str | None = None
    framing: Framing = "chunked"
    pattern: Pattern = "whole"
    seed: int = 0
    max_piece: int = 64
    pause: float = 0.0
    drip: float = 0.0
    drop_after: int | None = None
    stall_after: int | None = None
    close_before_headers: bool = False
    gzip: bool = False
    raw: bytes | None = None

    @classmethod
    def sse(cls, body: bytes | str, **kw: Any) -> Reply:
        """An event stream: ``content-type: text/event-stream``."""
        data = body.encode() if isinstance(body, str) else body
        headers = [("content-type", "text/event-stream; charset=utf-8"), *kw.pop("headers", [])]
        return cls(body=data, headers=headers, **kw)

    @classmethod
    def sse_file(cls, path: str | Path, **kw: Any) -> Reply:
        """An event stream read from a recorded file (``tests/fixtures/wire/...``)."""
        return cls.sse(Path(path).read_bytes(), **kw)

    @classmethod
    def ndjson(cls, body: bytes | str, **kw: Any) -> Reply:
        """An NDJSON stream: ``content-type: application/x-ndjson``."""
        data = body.encode() if isinstance(body, str) else body
        headers = [("content-type", "application/x-ndjson"), *kw.pop("headers", [])]
        return cls(body=data, headers=headers, **kw)

    @classmethod
    def json(cls, value: Any, status: int = 200, **kw: Any) -> Reply:
        """A JSON document (``framing="length"`` unless given)."""
        headers = [("content-type", "application/json"), *kw.pop("headers", [])]
        kw.setdefault("framing", "length")
        return cls(status=status, body=json.dumps(value).encode(), headers=headers, **kw)

    @classmethod
    def html(
        cls, status: int, text: str = "<html><body><h1>Bad Gateway</h1></body></html>", **kw: Any
    ) -> Reply:
        """An HTML page, as a proxy in front of a provider sends it."""
        headers = [("content-type", "text/html; charset=utf-8"), *kw.pop("headers", [])]
        kw.setdefault("framing", "length")
        return cls(status=status, body=text.encode(), headers=headers, **kw)

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """``data`` cut as ``pattern`` says."""
        if not data:
            return
        if self.pattern == "whole":
            yield data
        elif self.pattern == "bytes":
            for i in range(len(data)):
                yield data[i : i + 1]
        else:
            rng = random.Random(self.seed)
            i = 0
            while i < len(data):
                n = rng.randint(1, self.max_piece)
                yield data[i : i + n]
                i += n


@dataclass
class RecordedRequest:
    """A request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    bytes_sent: int = 0

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def route(self) -> str:
        """The path without its query string."""
        return self.path.partition("?")[0]


ReplySource = Reply | Callable[[RecordedRequest], Reply]


class _Connection:
    """A byte buffer over a StreamReader, so a read can be cancelled without losing data."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self.buffer = bytearray()
        self.eof = False

    async def fill(self) -> bool:
        data = await self.reader.read(65536)
        if not data:
            self.eof = True
            return False
        self.buffer += data
        return True

    async def read_until(self, separator: bytes) -> bytes | None:
        while True:
            at = self.buffer.find(separator)
            if at >= 0:
                out = bytes(self.buffer[: at + len(separator)])
                del self.buffer[: at + len(separator)]
                return out
            if not await self.fill():
                return None

    async def read_exact(self, n: int) -> bytes | None:
        while len(self.buffer) < n:
            if not await self.fill():
                return None
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out


class _ClientGone(Exception):
    """The client closed the connection while its response was being written."""


class _Dropped(Exception):
    """The reply itself ended the connection (``drop_after``)."""


class LoopbackServer:
    """An HTTP/1.1 server on 127.0.0.1 serving scripted replies (see the module docstring)."""

    def __init__(self, *replies: ReplySource) -> None:
        self.replies: list[ReplySource] = list(replies) or [Reply()]
        self.routes: dict[str, ReplySource] = {}
        self.requests: list[RecordedRequest] = []
        self.disconnected = asyncio.Event()
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._served = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> Self:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    def set_replies(self, *replies: ReplySource) -> None:
        """Replace the reply sequence; the count restarts at the next request."""
        self.replies = list(replies)
        self._served = 0

    # -- serving -----------------------------------------------------------------------------

    def _next_reply(self, request: RecordedRequest) -> Reply:
        source = self.routes.get(request.route)
        if source is None:
            source = self.replies[min(self._served, len(self.replies) - 1)]
            self._served += 1
        return source(request) if callable(source) else source

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.connections += 1
        conn = _Connection(reader)
        try:
            while await self._serve_one(conn, writer):
                pass
        except (ConnectionError, _ClientGone, _Dropped, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # close() cancels handlers; asyncio would log a cancelled handler task
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            writer.transport.abort()

    async def _serve_one(self, conn: _Connection, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; False when the connection is finished."""
        head = await conn.read_until(b"\r\n\r\n")
        if head is None:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, path, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = b""
        if "content-length" in headers:
            body = await conn.read_exact(int(headers["content-length"])) or b""
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._read_chunked(conn)
        request = RecordedRequest(method, path, headers, body)
        self.requests.append(request)
        reply = self._next_reply(request)
        if reply.close_before_headers:
            return False
        if reply.raw is not None:
            writer.write(reply.raw)
            await writer.drain()
            return False
        watcher = asyncio.ensure_future(self._watch(conn, request))
        try:
            await self._respond(writer, reply, request, watcher)
        except (ConnectionError, _ClientGone):
            self._gone(request)
            return False
        except _Dropped:
            return False
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        return reply.framing != "close" and reply.drop_after is None and not conn.eof

    async def _read_chunked(self, conn: _Connection) -> bytes:
        out = bytearray()
        while True:
            size_line = await conn.read_until(b"\r\n")
            if size_line is None:
                break
            size = int(size_line.split(b";")[0], 16)
            data = await conn.read_exact(size + 2)
            if not size or data is None:
                break
            out += data[:-2]
        return bytes(out)

    async def _watch(self, conn: _Connection, request: RecordedRequest) -> None:
        """Notice the client closing while its response is still being written."""
        while await conn.fill():
            pass
        self._gone(request)

    def _gone(self, request: RecordedRequest) -> None:
        request.disconnected.set()
        self.disconnected.set()

    async def _respond(  # noqa: C901  # one branch per scripted fault, read as a list
        self,
        writer: asyncio.StreamWriter,
        reply: Reply,
        request: RecordedRequest,
        watcher: asyncio.Future[None],
    ) -> None:
        body = gzip_module.compress(reply.body) if reply.gzip else reply.body
        reason = reply.reason
        if reason is None:
            try:
                reason = HTTPStatus(reply.status).phrase
            except ValueError:
                reason = _REASONS.get(reply.status, "Unknown")
        head = [f"HTTP/1.1 {reply.status} {reason}"]
        names = {name.lower() for name, _ in reply.headers}
        head += [f"{name}: {value}" for name, value in reply.headers]
        if reply.gzip and "content-encoding" not in names:
            head.append("content-encoding: gzip")
        if reply.framing == "chunked":
            head.append("transfer-encoding: chunked")
        elif reply.framing == "length":
            head.append(f"content-length: {len(body)}")
        else:
            head.append("connection: close")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()

        limit = len(body)
        if reply.drop_after is not None:
            limit = min(limit, reply.drop_after)
        if reply.stall_after is not None:
            limit = min(limit, reply.stall_after)
        chunked = reply.framing == "chunked"
        sent = 0
        for piece in reply.pieces(body[:limit]):
            if watcher.done():
                raise _ClientGone
            if reply.drip and sent:
                await asyncio.sleep(reply.drip)
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            await writer.drain()
            sent += len(piece)
            request.bytes_sent = sent
            if reply.pattern != "whole":
                await asyncio.sleep(reply.pause)
        if reply.drop_after is not None and reply.drop_after < len(body):
            writer.transport.abort()
            raise _Dropped
        if reply.stall_after is not None and reply.stall_after < len(body):
            await watcher  # returns when the client goes away
            raise _ClientGone
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        if reply.framing == "close":
            writer.close()


async def serve(*replies: ReplySource) -> LoopbackServer:
    """A started server (call ``await server.close()``), for code that cannot use ``async with``."""
    return await LoopbackServer(*replies).start()
