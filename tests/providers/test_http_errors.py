"""The fault mapping (providers/http_errors.py) on its own: statuses, transport failures,
Retry-After, the provider's message in an error body, and untrusted text made safe. The same
mapping driven through a real stream is in test_http.py."""

from __future__ import annotations

import email.utils
import ssl
import time
from typing import Any

import httpx
import pytest

from llmstream_tui import errors
from llmstream_tui.providers.http_errors import (
    PlainErrors,
    body_message,
    clean,
    error_message_from_json,
    parse_retry_after,
    status_error,
    transport_error,
)

KEY = "sk-secret-0123456789"


def test_retry_after_reads_seconds_milliseconds_and_http_dates() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after": "0.5"}) == 0.5
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= (parse_retry_after({"retry-after": date}, now=now) or 0) <= 31
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "-3"}) == 0.0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"error": {"message": "bad model", "type": "invalid_request_error"}},
            "bad model [invalid_request_error]",
        ),  # OpenAI
        (
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            "Overloaded [overloaded_error]",
        ),  # Anthropic
        ({"error": "model 'x' not found"}, "model 'x' not found"),  # Ollama
        (
            [
                {
                    "error": {
                        "code": 400,
                        "message": "API key not valid",
                        "status": "INVALID_ARGUMENT",
                    }
                }
            ],
            "API key not valid [INVALID_ARGUMENT]",
        ),  # Gemini (list form)
        ({"detail": "Not Found"}, "Not Found"),  # FastAPI-based servers
        ({"nothing": 1}, None),
    ],
)
def test_provider_error_message_is_found_in_each_providers_body(
    body: Any, message: str | None
) -> None:
    assert error_message_from_json(body) == message


def test_clean_redacts_the_key_folds_lines_and_makes_controls_visible() -> None:
    text = clean(f"bad key {KEY}\n\tsecond line \x1b[31m", KEY)
    assert text == "bad key [redacted] second line \\x1b[31m"


def test_clean_cuts_long_text_to_one_short_line() -> None:
    text = clean("x" * 400)
    assert len(text) == 300 and text.endswith("…")


def test_body_message_prefers_the_providers_message_and_names_html() -> None:
    assert body_message(b'{"error": {"message": "nope"}}', "application/json") == "nope"
    assert body_message(b"<!DOCTYPE html><p>502</p>", "text/plain") == "(HTML error page)"
    assert body_message(b"<p>502</p>", "text/html; charset=utf-8") == "(HTML error page)"
    assert body_message(b"plain words", "text/plain") == "plain words"
    assert body_message(b"  ", "application/json") == ""
    assert KEY not in body_message(f'{{"error": "echo {KEY}"}}'.encode(), "", KEY)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, errors.AuthError),
        (403, errors.AuthError),
        (404, errors.HTTPStatusError),
        (429, errors.RateLimitError),
        (503, errors.RateLimitError),
        (529, errors.RateLimitError),
        (500, errors.HTTPStatusError),
    ],
)
def test_each_status_maps_to_its_error(status: int, error: type[errors.HTTPStatusError]) -> None:
    exc = status_error(status, "", "why", {}, retries=0, provider="p", hint="a hint")
    assert type(exc) is error and exc.status == status and exc.provider == "p"
    assert str(exc).startswith(f"p: HTTP {status} ")
    assert ": why" in str(exc)


def test_rate_limit_says_when_to_retry_and_how_often_it_was_retried() -> None:
    exc = status_error(
        429, "Too Many Requests", "", {"retry-after": "7"}, retries=2, provider="p", hint=None
    )
    assert isinstance(exc, errors.RateLimitError) and exc.retry_after == 7.0
    assert exc.hint == "retry in 7 s" and "(after 2 retries)" in str(exc)
    assert "HTTP 529 Overloaded" in str(
        status_error(529, "", "", {}, retries=0, provider="p", hint=None)
    )


def _failure(exc: httpx.HTTPError, *, responded: bool = True) -> errors.ProviderError:
    return transport_error(
        exc, responded=responded, provider="p", timeout=2.0, base_url="http://h", secret=KEY
    )


def test_transport_failures_map_to_our_errors() -> None:
    refused = httpx.ConnectError("x")
    refused.__cause__ = ConnectionRefusedError()
    assert "connection refused at http://h" in str(_failure(refused, responded=False))
    tls = httpx.ConnectError("x")
    tls.__cause__ = ssl.SSLError(1, "CERTIFICATE_VERIFY_FAILED")
    assert isinstance(_failure(tls), errors.ConnectError) and "TLS failure" in str(_failure(tls))
    assert isinstance(_failure(httpx.ConnectTimeout("t")), errors.ConnectError)
    stalled = _failure(httpx.ReadTimeout("t"))
    assert isinstance(stalled, errors.StreamTimeout) and "no data for 2 s" in str(stalled)
    assert "no response" in str(_failure(httpx.ReadTimeout("t"), responded=False))
    dropped = _failure(httpx.RemoteProtocolError("peer closed connection"))
    assert isinstance(dropped, errors.StreamInterrupted) and "mid-stream" in str(dropped)
    framing = _failure(httpx.RemoteProtocolError(f"bad chunk header {KEY}"))
    assert isinstance(framing, errors.StreamProtocolError) and KEY not in str(framing)


def test_plain_errors_need_no_backend() -> None:
    errors = PlainErrors()
    assert "malformed" in str(errors.protocol_error("malformed\nJSON"))
    assert "overloaded" in str(errors.upstream_error({"error": {"message": "overloaded"}}))
    assert "without [DONE] (truncated)" in str(errors.truncated("[DONE]"))
