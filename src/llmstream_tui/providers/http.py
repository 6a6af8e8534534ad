"""The HTTP machinery every network kind shares: client, key, requests, retries, errors.

A kind subclasses :class:`HTTPModel`, sets a few class attributes and writes its pure parser
and a thin ``_astream``; everything about talking HTTP lives here once.

Subclass contract (class attributes)::

    ls_provider        = "openai"                      LangChain's provider family
    Spec               = MySpec                        ProviderSpec subclass, kind: Literal[...]
    default_base_url   = "https://api.openai.com/v1"   used when the spec has no base_url
    api_key_envs       = ("OPENAI_API_KEY",)           tried in order when no api_key_env
    flavor             = "chat"                        or "llm" for text-completion kinds
    stream_content_types = ("text/event-stream",)      what a 2xx stream must declare
    models_path        = "/models"                     for list_models()

and optionally overrides ``_auth_headers()`` (default ``Authorization: Bearer KEY``; e.g.
``{"x-api-key": key, "anthropic-version": ...}``), ``_parse_models(data)`` and
``_error_message(data)``.

The I/O methods (all map failures to ``errors.py`` types, naming the provider; none ever
puts the key in a message):

- ``stream_bytes(path, body, ctx)``: an async generator of raw byte reads of a streaming
  POST. Feed them straight into a decoder. Always wrap it in ``aclosing`` so closing your
  ``_astream`` closes the response (the server sees the disconnect)::

      async def _astream(self, request, ctx):
          decoder = SSEDecoder()
          async with aclosing(self.stream_bytes("/chat/completions", body, ctx)) as reads:
              async for data in reads:
                  for event in decoder.feed(data):
                      ...yield StreamPart(...)
                  if parser.done:                      # the terminator came
                      await self.drain(reads)
                      return

- ``post_json(path, body)``: one non-streaming POST, returns the parsed JSON (for
  ``_agenerate`` when ``stream = false``).
- ``drain(reads)``: after the terminator event, let the body end (bounded) so the
  connection is reused rather than closed.
- ``get_json(path)``: a GET returning parsed JSON; ``list_models()`` uses it.
- ``protocol_error(msg)``, ``upstream_error(obj)``, ``truncated(msg)``: build the errors a
  parser raises, with the provider name filled in.

Guarantees:

- One ``httpx.AsyncClient`` per backend: the injected one (never closed by us), or one made
  lazily on first use in the running event loop and closed by ``aclose()`` (a different
  loop gets a fresh one, as an httpx client cannot cross loops). Never a client per request.
- Every request gets ``spec.timeout`` as httpx's connect/read/write/pool timeout, so "no
  byte for ``timeout`` seconds" is a read timeout → ``StreamTimeout``.
- 429/503/529 are retried before any byte of the body is read (so never after a chunk was
  shown), up to ``spec.max_retries`` times, waiting ``Retry-After`` (``retry-after-ms``,
  seconds or an HTTP date) or an exponential backoff (``backoff_base * 2**attempt``, with
  jitter) capped at ``max_backoff``. A ``Retry-After`` longer than ``max_backoff`` is not
  waited for: ``RateLimitError(retry_after=...)`` is raised at once, so the user sees when to
  come back instead of a silent wait.
- The provider's own message is taken from a JSON error body (OpenAI/Gemini
  ``{"error": {"message"}}``, Anthropic ``{"type": "error", "error": {...}}``, Ollama
  ``{"error": "..."}``, FastAPI ``{"detail": ...}``); an HTML body becomes "(HTML error
  page)". It is made inert (control characters escaped), folded to one line, cut to 300
  characters, and any occurrence of the key is replaced by ``[redacted]``.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import random
import ssl
import time
from collections.abc import AsyncGenerator, Mapping
from http import HTTPStatus
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from ..core.inert import escape_controls
from ..core.runnable import Flavor, LanguageModel, RunContext
from ..errors import (
    AuthError,
    ConnectError,
    HTTPStatusError,
    ProviderError,
    RateLimitError,
    StreamInterrupted,
    StreamProtocolError,
    StreamTimeout,
    StreamTruncated,
    UpstreamError,
)
from ..version import VERSION
from ..wire.jsonload import json_loads
from .spec import ProviderSpec

__all__ = [
    "USER_AGENT",
    "HTTPModel",
    "error_message_from_json",
    "json_loads",
    "parse_retry_after",
]

USER_AGENT = f"llmstream-tui/{VERSION}"
#: Statuses retried before the first byte (rate limits and overload).
RETRY_STATUSES = frozenset({429, 503, 529})
#: At most this much of an error body is read, and this much of its message shown.
_ERROR_BODY_LIMIT = 64 * 1024
_MESSAGE_LIMIT = 300


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date).

    ``None`` when absent or unreadable; never negative.
    """
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def error_message_from_json(data: Any) -> str | None:
    """The provider's own error message from a decoded error body or event, if any.

    Knows OpenAI/Gemini ``{"error": {"message"}}``, Anthropic ``{"type": "error", "error":
    {"type", "message"}}``, Ollama ``{"error": "text"}``, FastAPI/vLLM ``{"detail": ...}``,
    bare ``{"message": ...}`` and a Gemini-style list wrapping one of these.
    """
    if isinstance(data, list) and data:
        data = data[0]
    if not isinstance(data, dict):
        return None
    err = data.get("error")
    if isinstance(err, dict):
        message = err.get("message")
        kind = err.get("type") or err.get("status") or err.get("code")
        if isinstance(message, str) and message:
            if isinstance(kind, str) and kind and kind not in message:
                return f"{message} [{kind}]"
            return message
        if isinstance(kind, str) and kind:
            return kind
        return None
    if isinstance(err, str) and err:
        return err
    for key in ("message", "detail"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
        if value:
            return json.dumps(value)[:_MESSAGE_LIMIT]
    return None


def _status_text(status: int, reason: str = "") -> str:
    if not reason:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = {529: "Overloaded"}.get(status, "")
    return f"HTTP {status} {reason}".rstrip()


def _media_type(content_type: str) -> str:
    return content_type.partition(";")[0].strip().lower()


def _connect_cause(exc: BaseException) -> str:
    """A short cause for a failed connection, from the exception chain httpx keeps."""
    seen: BaseException | None = exc
    text = str(exc)
    while seen is not None:
        if isinstance(seen, ssl.SSLError | ssl.CertificateError):
            reason = getattr(seen, "reason", None) or str(seen)
            return f"TLS failure ({reason})"
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if type(seen).__name__ == "gaierror":
            return "unknown host"
        seen = seen.__cause__ or seen.__context__
    lowered = text.lower()
    if "ssl" in lowered or "certificate" in lowered or "tls" in lowered:
        return f"TLS failure ({text})"
    if "name or service not known" in lowered or "nodename nor servname" in lowered:
        return "unknown host"
    if "refused" in lowered:
        return "connection refused"
    return f"cannot connect ({text})" if text else "cannot connect"


def _is_disconnect(exc: httpx.RemoteProtocolError) -> bool:
    """h11 says "disconnected"/"peer closed" for a dropped connection, other words for bytes
    that are not HTTP (a bad status line, a bad chunk header)."""
    text = str(exc).lower()
    return "disconnected" in text or "peer closed" in text or "incomplete" in text


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
        self._timeout = httpx.Timeout(spec.timeout)
        self._key_env, key = self._resolve_key(spec)
        self._api_key: SecretStr | None = SecretStr(key) if key else None

    @classmethod
    def from_spec(
        cls, name: str, spec: ProviderSpec, client: httpx.AsyncClient | None = None
    ) -> HTTPModel:
        return cls(spec, name=name, client=client)

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

    @property
    def base_url(self) -> str:
        """The spec's ``base_url``, else the kind's default, without a trailing slash."""
        return (self.spec.base_url or self.default_base_url).rstrip("/")

    def url(self, path: str) -> str:
        return self.base_url + path

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
        if self._own is None or self._own_loop is not loop or self._own.is_closed:
            # An httpx client is bound to the loop its connections were made in; the old
            # one (if any) belongs to another loop and is left to that loop's shutdown.
            self._own = httpx.AsyncClient(timeout=self._timeout)
            self._own_loop = loop
        return self._own

    async def aclose(self) -> None:
        """Close the client we made ourselves; an injected one belongs to its owner."""
        own, self._own, self._own_loop = self._own, None, None
        if own is not None:
            await own.aclose()

    # -- errors ------------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        key = self._secret()
        if key and key in text:
            text = text.replace(key, "[redacted]")
        return text

    def _clean(self, text: str) -> str:
        """Untrusted text made safe for one line of a message."""
        text = " ".join(self._redact(text).split())
        if len(text) > _MESSAGE_LIMIT:
            text = text[: _MESSAGE_LIMIT - 1] + "…"
        return escape_controls(text)

    def _error_message(self, data: Any) -> str | None:
        """The provider's message in a decoded error body; kinds with odd shapes override."""
        return error_message_from_json(data)

    def _body_message(self, body: bytes, content_type: str) -> str:
        media = _media_type(content_type)
        text = body.decode("utf-8", errors="replace").strip()
        if media == "text/html" or text[:15].lower().startswith(("<!doctype html", "<html")):
            return "(HTML error page)"
        if not text:
            return ""
        try:
            data = json.loads(text)
        except ValueError:
            return self._clean(text)
        message = self._error_message(data)
        return self._clean(message) if message else self._clean(text)

    def protocol_error(self, message: str) -> StreamProtocolError:
        """Bytes we cannot make sense of (bad JSON, unexpected shape)."""
        return StreamProtocolError(self._clean(message), provider=self.name)

    def upstream_error(
        self, data: Any, default: str = "error event in the stream"
    ) -> UpstreamError:
        """The provider reported an error inside a 200 stream."""
        message = self._error_message(data)
        text = self._clean(message) if message else default
        return UpstreamError(f"provider error mid-stream: {text}", provider=self.name)

    def truncated(self, what: str) -> StreamTruncated:
        """The stream ended cleanly but without ``what`` (its terminator)."""
        return StreamTruncated(f"stream ended without {what} (truncated)", provider=self.name)

    def _hint(self, status: int) -> str | None:
        env = self.api_key_env
        if status == 401:
            if env is None:
                return "the server wants an API key: set api_key_env"
            return f"set {env}" if not self.has_key else f"check the key in {env}"
        if status == 403:
            return f"the key in {env} is not allowed to do this" if env else None
        if status == 404:
            return f"check the model name {self.model!r} and base_url {self.base_url}"
        return None

    def _status_error(
        self,
        status: int,
        reason: str,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str],
        retries: int,
    ) -> HTTPStatusError:
        detail = self._body_message(body, content_type)
        message = _status_text(status, reason)
        if detail:
            message = f"{message}: {detail}" if detail[0] != "(" else f"{message} {detail}"
        if status in RETRY_STATUSES:
            retry_after = parse_retry_after(headers)
            if retries:
                message += f" (after {retries} {'retry' if retries == 1 else 'retries'})"
            hint = f"retry in {retry_after:g} s" if retry_after else None
            return RateLimitError(
                message, retry_after=retry_after, provider=self.name, status=status, hint=hint
            )
        cls = AuthError if status in (401, 403) else HTTPStatusError
        return cls(message, provider=self.name, status=status, hint=self._hint(status))

    def _transport_error(self, exc: httpx.HTTPError, *, responded: bool) -> ProviderError:
        """An httpx failure as our error; ``responded`` tells if the status had arrived."""
        name = self.name
        timeout = self.spec.timeout
        if isinstance(exc, httpx.ConnectTimeout):
            return ConnectError(
                f"connect timeout after {timeout:g} s to {self.base_url}",
                provider=name,
                hint="is the host reachable?",
            )
        if isinstance(exc, httpx.ConnectError):
            return ConnectError(
                f"{_connect_cause(exc)} at {self.base_url}",
                provider=name,
                hint="is the server running and the base_url right?",
            )
        if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout):
            what = "no data" if responded else "no response"
            return StreamTimeout(f"{what} for {timeout:g} s (stalled)", provider=name)
        if isinstance(exc, httpx.PoolTimeout):
            return StreamTimeout(f"no free connection for {timeout:g} s", provider=name)
        if isinstance(exc, httpx.DecodingError):
            return StreamProtocolError(
                f"cannot decode the response body ({self._clean(str(exc))})", provider=name
            )
        if isinstance(exc, httpx.RemoteProtocolError) and not _is_disconnect(exc):
            where = "framing" if responded else "response"
            return StreamProtocolError(
                f"invalid HTTP {where} ({self._clean(str(exc))})", provider=name
            )
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
            if responded:
                return StreamInterrupted("connection dropped mid-stream", provider=name)
            return StreamInterrupted(
                "server closed the connection before responding", provider=name
            )
        return ProviderError(
            f"HTTP failure ({type(exc).__name__}: {self._clean(str(exc))})", provider=name
        )

    # -- requests ----------------------------------------------------------------------------

    async def _read_limited(self, response: httpx.Response) -> bytes:
        parts: list[bytes] = []
        size = 0
        async for data in response.aiter_bytes():
            parts.append(data)
            size += len(data)
            if size >= _ERROR_BODY_LIMIT:
                break
        return b"".join(parts)[:_ERROR_BODY_LIMIT]

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
            error = self._status_error(
                status,
                response.reason_phrase,
                error_body,
                response.headers.get("content-type", ""),
                response.headers,
                attempt,
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
        media = _media_type(content_type)
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

    async def _json_body(self, response: httpx.Response) -> Any:
        try:
            try:
                raw = await response.aread()
            except httpx.HTTPError as exc:
                raise self._transport_error(exc, responded=True) from exc
        finally:
            await response.aclose()
        if _media_type(response.headers.get("content-type", "")) == "text/html":
            raise StreamProtocolError(
                "expected JSON but got an HTML page (proxy error page?)",
                provider=self.name,
                status=response.status_code,
            )
        try:
            return json.loads(raw)
        except ValueError:
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
