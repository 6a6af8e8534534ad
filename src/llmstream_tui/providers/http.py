"""The HTTP machinery every network kind shares: client, key, requests, retries, I/O.

A kind subclasses :class:`HTTPModel`, sets a few class attributes, writes its pure parser
and hands both to the one stream loop in ``sse_pump.py``; everything about talking HTTP
lives here once, and how a fault becomes an error lives in ``http_errors.py``.

Subclass contract (class attributes)::

    ls_provider        = "openai"                      LangChain's provider family
    Spec               = MySpec                        ProviderSpec subclass, kind: Literal[...]
    default_base_url   = "https://api.openai.com/v1"   used when the spec has no base_url
    api_key_envs       = ("OPENAI_API_KEY",)           tried in order when no api_key_env
    flavor_default     = "chat"                        or "llm" for text-completion kinds
    stream_content_types = ("text/event-stream",)      what a 2xx stream must declare
    models_path        = "/models"                     for list_models()

and optionally overrides ``_auth_headers()`` (default ``Authorization: Bearer KEY``; e.g.
``{"x-api-key": key, "anthropic-version": ...}``) and ``_parse_models(data)``.

The I/O methods (all map failures to ``errors.py`` types, naming the provider; none ever
puts the key in a message):

- ``stream_bytes(path, body, ctx)``: an async generator of raw byte reads of a streaming
  POST. ``sse_pump.pump_sse`` / ``pump_ndjson`` read it; a kind never loops over it itself.
- ``drain(reads)``: after the terminator event, let the body end (bounded) so the
  connection is reused rather than closed.
- ``post_json(path, body)``: one non-streaming POST, returns the parsed JSON (for
  ``_agenerate`` when ``stream = false``).
- ``get_json(path)``: a GET returning parsed JSON; ``list_models()`` uses it.
- ``protocol_error(msg)``, ``upstream_error(obj)``, ``truncated(msg)``: the
  ``http_errors.ErrorBuilder`` a parser is given, with the provider name filled in and the
  secrets redacted.

Guarantees:

- One ``httpx.AsyncClient`` per backend: the injected one (never closed by us), or one made
  lazily on first use in the running event loop (a different loop gets a fresh one, as an
  httpx client cannot cross loops). Never a client per request.
- A client we made is closed on the loop it belongs to, so no pooled connection is left
  for the garbage collector to find (``unclosed <socket>``): by ``aclose()`` (or the
  ``close()`` / ``with`` / ``async with`` every backend has, ``core.backend``); when the
  backend moves to another loop (the old one is closed on its own loop, if that still
  runs); when the backend is collected unclosed (the same); and, for the sync methods'
  shared loop, at interpreter exit (``core.syncbridge``). A loop that was closed with the
  client's connections still open (``asyncio.run`` around a backend never closed) is past
  saving: close the backend inside it.
- Every request gets ``spec.timeout`` as httpx's connect/read/write/pool timeout, so "no
  byte for ``timeout`` seconds" is a read timeout → ``StreamTimeout``.
- 429/503/529 are retried before any byte of the body is read (so never after a chunk was
  shown), up to ``spec.max_retries`` times, waiting ``Retry-After`` (``retry-after-ms``,
  seconds or an HTTP date) or an exponential backoff (``backoff_base * 2**attempt``, with
  jitter) capped at ``max_backoff``. A ``Retry-After`` longer than ``max_backoff`` is not
  waited for: ``RateLimitError(retry_after=...)`` is raised at once, so the user sees when to
  come back instead of a silent wait.
- A non-streamed answer (``post_json``, ``get_json``) is read up to ``spec.max_event_bytes``
  and refused past it, as one streamed event would be (``sse_pump``), so no body a server
  sends can exhaust memory.
- Error bodies are read up to 64 KiB and shown as ``http_errors.body_message`` says: the
  provider's own message, inert, one line, at most 300 characters, the secrets
  ``[redacted]``: the key, every configured header value and the credentials inside
  ``base_url`` (userinfo, secret-looking query values such as ``key=``), under the rule of
  ``core.redaction.Redactor`` (a placeholder key like ``x`` or ``EMPTY`` is not a secret).
- ``base_url`` may carry credentials (``http://user:pass@host/v1?key=...``): the request
  uses them (httpx turns userinfo into Basic auth; the query is kept after the path), and
  every message shows the URL masked (``http://***@host/v1?key=***``).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import urllib.request
import weakref
from collections.abc import AsyncGenerator, Mapping
from typing import Any, ClassVar, Final

import httpx
from pydantic import SecretStr

from ..core.redaction import Redactor, mask_urls, url_secrets
from ..core.runnable import Flavor, LanguageModel, RunContext
from ..core.syncbridge import (
    AsyncCloseable,
    close_at_exit,
    close_soon,
    forget,
    is_background_loop,
)
from ..errors import (
    ConfigError,
    ProviderError,
    RateLimitError,
    StreamProtocolError,
    StreamTruncated,
    UpstreamError,
)
from ..version import VERSION
from ..wire.errors import describe_size
from . import http_errors
from .http_errors import ERROR_BODY_LIMIT, media_type
from .spec import ProviderSpec, url_problem

__all__ = ["USER_AGENT", "HTTPModel"]

USER_AGENT = f"llmstream-tui/{VERSION}"


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def _closed(client: httpx.AsyncClient) -> None:
    await client.aclose()


#: Streams per connection pool past which ``size_pool`` spreads a load over several pools.
POOL_SHARD: Final = 4
#: Pools for an open loop without a cap (its streams in flight are not known up front).
OPEN_LOOP_SHARDS: Final = 16


def _shards_for(streams: int | None) -> int:
    if urllib.request.getproxies():
        return 1  # httpx routes proxies through its own transports only
    if streams is None:
        return OPEN_LOOP_SHARDS
    return max(1, -(-streams // POOL_SHARD))


class ShardedTransport(httpx.AsyncBaseTransport):
    """Requests spread in turn over ``shards`` HTTP transports, each with its own pool of
    ``limits``, so no pool's per-request bookkeeping walks more than a shard's share of
    the connections (see ``HTTPModel.size_pool``). One TLS context serves them all (each
    costs tens of milliseconds to build)."""

    def __init__(self, shards: int, limits: httpx.Limits) -> None:
        context = httpx.create_ssl_context()
        self._shards = [
            httpx.AsyncHTTPTransport(verify=context, limits=limits) for _ in range(shards)
        ]
        self._turn = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        shard = self._shards[self._turn]
        self._turn = (self._turn + 1) % len(self._shards)
        return await shard.handle_async_request(request)

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()


class HTTPModel(LanguageModel):
    """Base of every HTTP backend (see the module docstring for the subclass contract)."""

    Spec: ClassVar[type[ProviderSpec]] = ProviderSpec
    default_base_url: ClassVar[str] = ""
    api_key_envs: ClassVar[tuple[str, ...]] = ()
    flavor_default: ClassVar[Flavor] = "chat"
    stream_content_types: ClassVar[tuple[str, ...]] = ("text/event-stream",)
    models_path: ClassVar[str] = "/models"
    #: Backoff between retries (seconds); instances may lower them (tests do).
    backoff_base: float = 0.5
    max_backoff: float = 20.0

    def __init__(
        self,
        spec: ProviderSpec,
        *,
        name: str,
        client: httpx.AsyncClient | None = None,
        flavor: Flavor | None = None,
    ) -> None:
        super().__init__(
            name=name,
            model=spec.model,
            flavor=flavor or self.flavor_default,
            streaming=spec.stream,
            tags=spec.tags,
            params=spec.params.model_dump(),
        )
        self.spec = spec
        self._injected = client
        self._own: httpx.AsyncClient | None = None
        self._own_loop: asyncio.AbstractEventLoop | None = None
        #: closes ``_own`` on its loop if this backend is collected without being closed
        self._own_finalizer: (
            weakref.finalize[[asyncio.AbstractEventLoop, AsyncCloseable], HTTPModel] | None
        ) = None
        self._timeout = httpx.Timeout(spec.timeout)
        #: the pool of a client we make; None: httpx's default (100 connections, 20 idle)
        self._limits: httpx.Limits | None = None
        self._shards = 1
        self._key_env, key = self._resolve_key(spec)
        self._api_key: SecretStr | None = SecretStr(key) if key else None
        self._redactor: Redactor | None = None

    @classmethod
    def from_spec(
        cls, name: str, spec: ProviderSpec, client: httpx.AsyncClient | None = None
    ) -> HTTPModel:
        """The backend; ``ConfigError`` (one line) when the URL it would use cannot be
        connected to: the spec's ``base_url`` is checked when read, but a kind may take its
        server from elsewhere (Ollama's ``$OLLAMA_HOST``)."""
        model = cls(spec, name=name, client=client)
        problem = url_problem(model.base_url)
        if problem:
            raise ConfigError(f"provider {name!r}: server URL {model.shown_base_url}: {problem}")
        return model

    # -- configuration -----------------------------------------------------------------------

    def _resolve_key(self, spec: ProviderSpec) -> tuple[str | None, str | None]:
        """(variable named in hints, key) from ``api_key_env`` or the kind's defaults."""
        if spec.api_key_env:
            return spec.api_key_env, os.environ.get(spec.api_key_env) or None
        for env in self.api_key_envs:
            value = os.environ.get(env)
            if value:
                return env, value
        return (self.api_key_envs[0] if self.api_key_envs else None), None

    @property
    def api_key_env(self) -> str | None:
        """The environment variable the key comes (or would come) from; never the key."""
        return self._key_env

    @property
    def has_key(self) -> bool:
        return self._api_key is not None

    def _secret(self) -> str | None:
        """The key itself, for ``_auth_headers`` only."""
        return self._api_key.get_secret_value() if self._api_key is not None else None

    def _secrets(self) -> Redactor:
        """What error text must not show: the key, every configured header value, the
        credentials in ``base_url`` (made on first need: a kind may resolve its URL late)."""
        if self._redactor is None:
            self._redactor = Redactor(
                [self._secret(), *self.spec.headers.values(), *url_secrets(self.base_url)]
            )
        return self._redactor

    @property
    def base_url(self) -> str:
        """The spec's ``base_url``, else the kind's default, without a trailing slash.
        It may hold credentials: show :attr:`shown_base_url` instead."""
        return (self.spec.base_url or self.default_base_url).rstrip("/")

    @property
    def shown_base_url(self) -> str:
        """``base_url`` as messages show it: userinfo and secret query values masked."""
        return mask_urls(self.base_url)

    def url(self, path: str) -> str:
        """``base_url + path``, a query in ``base_url`` (``?key=...``) kept after the path."""
        base, sep, query = self.base_url.partition("?")
        return base.rstrip("/") + path + sep + query

    def _auth_headers(self) -> dict[str, str]:
        """Headers carrying the key; none when there is no key (local servers need none)."""
        key = self._secret()
        return {"authorization": f"Bearer {key}"} if key else {}

    def _headers(self) -> dict[str, str]:
        return {"user-agent": USER_AGENT, **self._auth_headers(), **self.spec.headers}

    @property
    def client(self) -> httpx.AsyncClient:
        """The injected client, else our own for the running loop (made on first use)."""
        if self._injected is not None:
            return self._injected
        loop = asyncio.get_running_loop()
        own = self._own
        if own is None or self._own_loop is not loop or own.is_closed:
            # An httpx client is bound to the loop its connections were made in: the old
            # one (if any) is closed there, and this loop gets its own.
            self._release_own()
            if self._limits is None:
                own = httpx.AsyncClient(timeout=self._timeout)
            elif self._shards > 1:
                transport = ShardedTransport(self._shards, self._limits)
                own = httpx.AsyncClient(timeout=self._timeout, transport=transport)
            else:
                own = httpx.AsyncClient(timeout=self._timeout, limits=self._limits)
            self._own, self._own_loop = own, loop
            finalizer = weakref.finalize(self, close_soon, loop, own)
            finalizer.atexit = False  # at exit, the shared loop's hook closes what is left
            self._own_finalizer = finalizer
            if is_background_loop(loop):
                close_at_exit(own)
        return own

    def size_pool(self, streams: int | None) -> None:
        """Fit the pool of the client we make to ``streams`` requests at once (None: as
        many as arrive), for a load generator (``compare``).

        httpx's default pool holds 100 connections: request 101 waits for one, and the
        wait is counted in its time to first token. Here the number of connections has no
        bound whatever ``streams`` is (the load shape bounds the streams; a second bound
        could only add a wait, e.g. behind a connection still closing). And httpcore's
        pool (1.0.9) costs O(connections) per request start and end (a poll of every
        idle socket, lists rebuilt per queued request), O(n^2) when many are idle: at 256
        streams that was most of the client's CPU and stalled the loop every other
        streams shared. So past ``POOL_SHARD`` (4) streams the client's transport spreads its
        requests over several pools of about ``POOL_SHARD`` streams each
        (:class:`ShardedTransport`), each keeping httpx's 20 idle connections for reuse
        (keeping 256 idle in one pool left sockets unclosed in httpcore 1.0.9: found by
        tests/sessions/test_compare_scale.py, not root-caused). With a proxy in the
        environment the one default transport is kept (httpx applies proxies only to
        its own). An injected client keeps its owner's pool. Call it before the first
        request: a client we made already is replaced."""
        self._limits = httpx.Limits(max_connections=None, max_keepalive_connections=20)
        self._shards = _shards_for(streams)
        released = self._release_own()  # another loop's client is closed there
        if released is not None:
            close_soon(released[1], released[0])

    def _release_own(self) -> tuple[httpx.AsyncClient, asyncio.AbstractEventLoop] | None:
        """Take our client back from every safety net: (client, its loop), or None."""
        own, loop, finalizer = self._own, self._own_loop, self._own_finalizer
        self._own = self._own_loop = self._own_finalizer = None
        if finalizer is not None:
            finalizer.detach()
        if own is None or loop is None:
            return None
        forget(own)
        if own.is_closed:
            return None
        if loop is not _running_loop():
            close_soon(loop, own)  # its connections belong to that loop
            return None
        return own, loop

    async def aclose(self) -> None:
        """Close the client we made ourselves; an injected one belongs to its owner. A client
        of another loop is closed on that loop: awaited when it is the sync methods' shared
        loop (``close()`` waits for it), else scheduled there."""
        loop, own = self._own_loop, self._own
        if own is not None and loop is not None and loop is not _running_loop():
            self._release_own()  # scheduled on its own loop
            if is_background_loop(loop) and loop.is_running():
                await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_closed(own), loop))
            return
        released = self._release_own()
        if released is not None:
            await released[0].aclose()

    # -- errors ------------------------------------------------------------------------------

    def protocol_error(self, message: str) -> StreamProtocolError:
        """Bytes we cannot make sense of (bad JSON, unexpected shape)."""
        return http_errors.protocol_error(message, provider=self.name, secret=self._secrets())

    def upstream_error(
        self, data: Any, default: str = "error event in the stream"
    ) -> UpstreamError:
        """The provider reported an error inside a 200 stream."""
        return http_errors.upstream_error(data, default, provider=self.name, secret=self._secrets())

    def truncated(self, what: str) -> StreamTruncated:
        """The stream ended cleanly but without ``what`` (its terminator)."""
        return http_errors.truncated(what, provider=self.name)

    def _hint(self, status: int) -> str | None:
        env = self.api_key_env
        if status == 401:
            if env is None:
                return "the server wants an API key: set api_key_env"
            return f"set {env}" if not self.has_key else f"check the key in {env}"
        if status == 403:
            return f"the key in {env} is not allowed to do this" if env else None
        if status == 404:
            return f"check the model name {self.model!r} and base_url {self.shown_base_url}"
        return None

    def _transport_error(self, exc: httpx.HTTPError, *, responded: bool) -> ProviderError:
        return http_errors.transport_error(
            exc,
            responded=responded,
            provider=self.name,
            timeout=self.spec.timeout,
            base_url=self.base_url,
            secret=self._secrets(),
        )

    # -- requests ----------------------------------------------------------------------------

    async def _read_limited(self, response: httpx.Response) -> bytes:
        parts: list[bytes] = []
        size = 0
        async for data in response.aiter_bytes():
            parts.append(data)
            size += len(data)
            if size >= ERROR_BODY_LIMIT:
                break
        return b"".join(parts)[:ERROR_BODY_LIMIT]

    def _backoff(self, attempt: int) -> float:
        delay: float = min(self.max_backoff, self.backoff_base * 2**attempt)
        return delay * random.uniform(0.75, 1.0)

    async def _open(
        self,
        method: str,
        path: str,
        body: Any,
        params: Mapping[str, str] | None,
        *,
        stream: bool,
    ) -> httpx.Response:
        """Send and return a 2xx response with its body unread; retries 429/503/529."""
        client = self.client
        url = self.url(path)
        headers = self._headers()
        attempt = 0
        while True:
            request = client.build_request(
                method, url, json=body, params=params, headers=headers, timeout=self._timeout
            )
            try:
                response = await client.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise self._transport_error(exc, responded=False) from exc
            status = response.status_code
            if 200 <= status < 300:
                problem = self._stream_type_error(response) if stream else None
                if problem is not None:
                    await response.aclose()
                    raise problem
                return response
            try:
                error_body = await self._read_limited(response)
            except httpx.HTTPError:
                error_body = b""
            finally:
                await response.aclose()
            content_type = response.headers.get("content-type", "")
            error = http_errors.status_error(
                status,
                response.reason_phrase,
                http_errors.body_message(error_body, content_type, self._secrets()),
                response.headers,
                retries=attempt,
                provider=self.name,
                hint=self._hint(status),
            )
            if not isinstance(error, RateLimitError) or attempt >= self.spec.max_retries:
                raise error
            wait = error.retry_after
            if wait is None:
                wait = self._backoff(attempt)
            elif wait > self.max_backoff:
                raise error
            attempt += 1
            await asyncio.sleep(wait)

    def _stream_type_error(self, response: httpx.Response) -> StreamProtocolError | None:
        content_type = response.headers.get("content-type")
        if content_type is None:
            return None  # some compatible servers omit it; the decoder will judge the bytes
        media = media_type(content_type)
        if media in self.stream_content_types:
            return None
        expected = " or ".join(self.stream_content_types)
        what = "an HTML page (proxy error page?)" if media == "text/html" else repr(media)
        return StreamProtocolError(
            f"expected a stream ({expected}) but got {what}",
            provider=self.name,
            status=response.status_code,
        )

    async def stream_bytes(
        self,
        path: str,
        body: Any,
        ctx: RunContext,
        *,
        params: Mapping[str, str] | None = None,
        method: str = "POST",
    ) -> AsyncGenerator[bytes, None]:
        """POST ``body`` as JSON to ``base_url + path`` and yield the response body's reads.

        Marks ``ctx.first_byte()`` when the 2xx headers arrive. Content-encoding (gzip) is
        undone. Closing this generator closes the response and its connection at once.
        Raises only ``ProviderError`` subclasses (see the module docstring).
        """
        response = await self._open(method, path, body, params, stream=True)
        try:
            ctx.first_byte()
            # Without a content-encoding the raw reads are the bytes: skip the decoder
            # layer, one less step per read (a read is often one event).
            encoded = response.headers.get("content-encoding", "identity") != "identity"
            reads = response.aiter_bytes() if encoded else response.aiter_raw()
            try:
                async for data in reads:
                    yield data
            except httpx.HTTPError as exc:
                raise self._transport_error(exc, responded=True) from exc
        finally:
            await response.aclose()

    async def drain(self, reads: AsyncGenerator[bytes, None], grace: float = 0.25) -> None:
        """Read what follows a stream's terminator (``[DONE]``, ``message_stop``...) so the
        body ends and the connection goes back to the pool; a server that keeps the line
        open is given ``grace`` seconds, then the connection is closed. Failures here are
        ignored: the answer is already complete."""
        try:
            async with asyncio.timeout(grace):
                async for _ in reads:
                    pass
        except (TimeoutError, ProviderError):
            pass

    async def _read_capped(self, response: httpx.Response) -> bytes:
        """The whole body of a non-streamed answer, refused once it passes
        ``spec.max_event_bytes`` (a server cannot make us hold more than that)."""
        limit = self.spec.max_event_bytes
        parts: list[bytes] = []
        size = 0
        async for data in response.aiter_bytes():
            size += len(data)
            if size > limit:
                raise self.protocol_error(
                    f"the answer is longer than the {describe_size(limit)} limit"
                    f" (max_event_bytes = {limit})"
                )
            parts.append(data)
        return b"".join(parts)

    async def _json_body(self, response: httpx.Response) -> Any:
        try:
            try:
                raw = await self._read_capped(response)
            except httpx.HTTPError as exc:
                raise self._transport_error(exc, responded=True) from exc
        finally:
            await response.aclose()
        if media_type(response.headers.get("content-type", "")) == "text/html":
            raise StreamProtocolError(
                "expected JSON but got an HTML page (proxy error page?)",
                provider=self.name,
                status=response.status_code,
            )
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nested past the stack
            raise self.protocol_error(
                f"response is not JSON: {raw[:80].decode('utf-8', 'replace')!r}"
            ) from None

    async def post_json(
        self,
        path: str,
        body: Any,
        ctx: RunContext | None = None,
        *,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """One non-streaming POST; the decoded JSON answer. Same errors and retries."""
        response = await self._open("POST", path, body, params, stream=False)
        if ctx is not None:
            ctx.first_byte()
        return await self._json_body(response)

    async def get_json(self, path: str, *, params: Mapping[str, str] | None = None) -> Any:
        """A GET of ``base_url + path``; the decoded JSON answer. Same errors and retries."""
        response = await self._open("GET", path, None, params, stream=False)
        return await self._json_body(response)

    async def list_models(self) -> list[str]:
        """Model ids the server offers (``GET models_path``), sorted, for the UI's picker."""
        return sorted(self._parse_models(await self.get_json(self.models_path)))

    def _parse_models(self, data: Any) -> list[str]:
        """OpenAI's shape ``{"data": [{"id": ...}]}``; kinds with another shape override."""
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise self.protocol_error("model list without a 'data' array")
        return [str(m["id"]) for m in items if isinstance(m, dict) and "id" in m]
