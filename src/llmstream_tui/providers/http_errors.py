"""How an HTTP fault becomes one of our errors, kept apart from the I/O that meets it (as
httpx keeps ``_exceptions.py`` apart from its transports).

Everything here is pure: no client, no request, no backend. ``http.py`` calls it at the
boundary and raises what it returns; the stream parsers get the same error builders through
the small :class:`ErrorBuilder` protocol, so a parser never needs a backend to be tested.

What is mapped, and to what:

- a status: 401/403 -> ``AuthError``, 429/503/529 -> ``RateLimitError(retry_after=)``
  (``Retry-After`` in seconds, ``retry-after-ms``, or an HTTP date), any other ->
  ``HTTPStatusError``;
  the message is ``HTTP <status> <reason>: <the provider's own message>``;
- an httpx transport failure: connect failures and connect timeouts -> ``ConnectError``
  (with the cause: refused, unknown host, TLS), read/write/pool timeouts -> ``StreamTimeout``,
  a dropped connection -> ``StreamInterrupted``, bytes that are not HTTP or a body that
  cannot be decoded -> ``StreamProtocolError``;
- an error body: the provider's message is taken from the JSON shapes the providers use
  (OpenAI/Gemini ``{"error": {"message"}}``, Anthropic ``{"type": "error", "error": {...}}``,
  Ollama ``{"error": "..."}``, FastAPI ``{"detail": ...}``); an HTML body is named, not shown.

Untrusted text (error bodies, bad event data) goes through :func:`clean`: the backend's
secrets (its key, every configured header value, its URL's credentials: a
``core.redaction.Redactor``, whose docstring gives the rule) replaced by ``[redacted]``, URLs'
credentials masked, folded to one line, cut to 300 characters, control characters made
visible. A URL in a message (connect errors) is shown masked (``http://***@host/v1?key=***``).
"""

from __future__ import annotations

import email.utils
import json
import ssl
import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final, Protocol

import httpx

from ..core.inert import escape_controls
from ..core.redaction import Redactor, mask_urls
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

__all__ = [
    "ERROR_BODY_LIMIT",
    "RETRY_STATUSES",
    "ErrorBuilder",
    "PlainErrors",
    "body_message",
    "clean",
    "error_message_from_json",
    "media_type",
    "parse_retry_after",
    "protocol_error",
    "status_error",
    "transport_error",
    "truncated",
    "upstream_error",
]

#: Statuses retried before the first byte (rate limits and overload).
RETRY_STATUSES: Final = frozenset({429, 503, 529})
#: At most this much of an error body is read.
ERROR_BODY_LIMIT: Final = 64 * 1024
#: At most this much of an untrusted message is shown.
MESSAGE_LIMIT: Final = 300

#: What ``clean`` is told to hide: a ``Redactor``, or one value (a key), or nothing.
Secrets = Redactor | str | None


# -- untrusted text -------------------------------------------------------------------------


def clean(text: str, secret: Secrets = None) -> str:
    """Untrusted text made safe for one line of a message: the secrets (``secret``: a
    ``Redactor`` or one value, under the ``Redactor`` rule) replaced and URLs' credentials
    masked, white space folded, cut to :data:`MESSAGE_LIMIT`, control characters made
    visible."""
    text = mask_urls(text)
    if secret:
        redact = secret if isinstance(secret, Redactor) else Redactor([secret])
        text = redact(text)
    text = " ".join(text.split())
    if len(text) > MESSAGE_LIMIT:
        text = text[: MESSAGE_LIMIT - 1] + "…"
    return escape_controls(text)


def media_type(content_type: str) -> str:
    """``text/event-stream; charset=utf-8`` -> ``text/event-stream``."""
    return content_type.partition(";")[0].strip().lower()


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
            return json.dumps(value)[:MESSAGE_LIMIT]
    return None


def body_message(body: bytes, content_type: str, secret: Secrets = None) -> str:
    """What to show of an error body: the provider's message, else the body's text (both
    :func:`clean`), ``(HTML error page)`` for HTML, ``""`` for nothing."""
    text = body.decode("utf-8", errors="replace").strip()
    if media_type(content_type) == "text/html" or text[:15].lower().startswith(
        ("<!doctype html", "<html")
    ):
        return "(HTML error page)"
    if not text:
        return ""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested past the stack
        return clean(text, secret)
    return clean(error_message_from_json(data) or text, secret)


# -- statuses -------------------------------------------------------------------------------


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


def _status_text(status: int, reason: str = "") -> str:
    if not reason:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = {529: "Overloaded"}.get(status, "")
    return f"HTTP {status} {reason}".rstrip()


def status_error(
    status: int,
    reason: str,
    detail: str,
    headers: Mapping[str, str],
    *,
    retries: int,
    provider: str,
    hint: str | None,
) -> HTTPStatusError:
    """The error for a non-2xx answer; ``detail`` is :func:`body_message` of its body and
    ``retries`` how many times a rate limit was already retried (said in the message)."""
    message = _status_text(status, reason)
    if detail:
        message = f"{message}: {detail}" if detail[0] != "(" else f"{message} {detail}"
    if status in RETRY_STATUSES:
        retry_after = parse_retry_after(headers)
        if retries:
            message += f" (after {retries} {'retry' if retries == 1 else 'retries'})"
        return RateLimitError(
            message,
            retry_after=retry_after,
            provider=provider,
            status=status,
            hint=f"retry in {retry_after:g} s" if retry_after else None,
        )
    cls = AuthError if status in (401, 403) else HTTPStatusError
    return cls(message, provider=provider, status=status, hint=hint)


# -- transport failures ---------------------------------------------------------------------


def _connect_cause(exc: BaseException, secret: Secrets = None) -> str:
    """A short cause for a failed connection, from the exception chain httpx keeps."""
    seen: BaseException | None = exc
    text = clean(str(exc), secret)
    while seen is not None:
        if isinstance(seen, ssl.SSLError | ssl.CertificateError):
            reason = getattr(seen, "reason", None) or str(seen)
            return f"TLS failure ({clean(str(reason), secret)})"
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


def transport_error(
    exc: httpx.HTTPError,
    *,
    responded: bool,
    provider: str,
    timeout: float,
    base_url: str,
    secret: Secrets = None,
) -> ProviderError:
    """An httpx failure as our error; ``responded`` tells if the status had arrived (a
    timeout or a drop then happened mid-stream). ``base_url`` is shown masked."""
    base_url = mask_urls(base_url)
    if isinstance(exc, httpx.ConnectTimeout):
        return ConnectError(
            f"connect timeout after {timeout:g} s to {base_url}",
            provider=provider,
            hint="is the host reachable?",
        )
    if isinstance(exc, httpx.ConnectError):
        return ConnectError(
            f"{_connect_cause(exc, secret)} at {base_url}",
            provider=provider,
            hint="is the server running and the base_url right?",
        )
    if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout):
        what = "no data" if responded else "no response"
        return StreamTimeout(f"{what} for {timeout:g} s (stalled)", provider=provider)
    if isinstance(exc, httpx.PoolTimeout):
        return StreamTimeout(f"no free connection for {timeout:g} s", provider=provider)
    if isinstance(exc, httpx.DecodingError):
        return StreamProtocolError(
            f"cannot decode the response body ({clean(str(exc), secret)})", provider=provider
        )
    if isinstance(exc, httpx.RemoteProtocolError) and not _is_disconnect(exc):
        where = "framing" if responded else "response"
        return StreamProtocolError(
            f"invalid HTTP {where} ({clean(str(exc), secret)})", provider=provider
        )
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        if responded:
            return StreamInterrupted("connection dropped mid-stream", provider=provider)
        return StreamInterrupted(
            "server closed the connection before responding", provider=provider
        )
    return ProviderError(
        f"HTTP failure ({type(exc).__name__}: {clean(str(exc), secret)})", provider=provider
    )


# -- errors a stream parser raises ----------------------------------------------------------


def protocol_error(
    message: str, *, provider: str = "", secret: Secrets = None
) -> StreamProtocolError:
    """Bytes we cannot make sense of (bad JSON, unexpected shape)."""
    return StreamProtocolError(clean(message, secret), provider=provider)


def upstream_error(
    data: Any,
    default: str = "error event in the stream",
    *,
    provider: str = "",
    secret: Secrets = None,
) -> UpstreamError:
    """The provider reported an error inside a 200 stream (``data`` is the decoded event)."""
    message = error_message_from_json(data)
    text = clean(message, secret) if message else default
    return UpstreamError(f"provider error mid-stream: {text}", provider=provider)


def truncated(what: str, *, provider: str = "") -> StreamTruncated:
    """The stream ended cleanly but without ``what`` (its terminator)."""
    return StreamTruncated(f"stream ended without {what} (truncated)", provider=provider)


class ErrorBuilder(Protocol):
    """What a parser needs to raise errors: ``HTTPModel`` provides it (naming the provider
    and redacting its key); :class:`PlainErrors` is the stand-alone default."""

    def protocol_error(self, message: str) -> StreamProtocolError: ...

    def upstream_error(self, data: Any, default: str = ...) -> UpstreamError: ...

    def truncated(self, what: str) -> StreamTruncated: ...


class PlainErrors:
    """Errors without a provider name or key (the runnable layer fills the name in)."""

    __slots__ = ()

    def protocol_error(self, message: str) -> StreamProtocolError:
        return protocol_error(message)

    def upstream_error(
        self, data: Any, default: str = "error event in the stream"
    ) -> UpstreamError:
        return upstream_error(data, default)

    def truncated(self, what: str) -> StreamTruncated:
        return truncated(what)
