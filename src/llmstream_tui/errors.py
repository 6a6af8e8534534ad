"""Every exception llmstream-tui raises on purpose, in one tree.

Errors are mapped at the boundary (the provider adapter, the config loader) to the most
specific type, so callers catch what they mean and the UI can show one honest line::

    LLMStreamError                      anything we raise on purpose
    ├── ConfigError                     bad TOML, unknown key, wrong type, unknown provider (exit 2)
    ├── RecordingError                  a recording or history file that cannot be read
    └── ProviderError                   a provider run failed; carries .provider and .partial_text
        ├── ConnectError                refused, unknown host, TLS failure, connect timeout
        ├── HTTPStatusError             a non-2xx answer; carries .status and the provider's message
        │   ├── AuthError               401 / 403: the key is missing, wrong or not allowed
        │   └── RateLimitError          429 / 503 / 529 after retries; carries .retry_after
        ├── StreamTimeout               no byte for `timeout` seconds (a stall)
        ├── StreamInterrupted           the connection dropped mid-stream
        │   └── StreamTruncated         the stream ended cleanly but without its terminator
        ├── StreamProtocolError         bytes we cannot decode: bad JSON, wrong content type
        └── UpstreamError               the provider reported an error inside the stream
            └── ScriptedFailure         the offline `scripted` kind failing on purpose (fail_at)

Every ProviderError keeps the text that arrived before the failure (``partial_text``), so
nothing the user already saw is lost, and its ``str()`` is one line naming the provider and
the cause. No error ever holds an API key: messages are built from our own words and from
the provider's error body, which never echoes the request headers.
"""

from __future__ import annotations


class LLMStreamError(Exception):
    """Base of everything llmstream-tui raises on purpose."""


class ConfigError(LLMStreamError):
    """Configuration that cannot be used. The message names the file, the key and the problem."""


class RecordingError(LLMStreamError):
    """A recording or history file that is unreadable, foreign, or of an unknown version."""


class ProviderError(LLMStreamError):
    """A provider run failed.

    ``kind`` is a short stable identifier used in JSON output (``"http_status"``,
    ``"timeout"``...), ``hint`` an optional suggestion for the user.
    """

    kind = "provider_error"

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        partial_text: str = "",
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.provider = provider
        self.partial_text = partial_text
        self.status = status
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        head = f"{self.provider}: " if self.provider else ""
        tail = f" ({self.hint})" if self.hint else ""
        return f"{head}{self.message}{tail}"

    def to_dict(self) -> dict[str, object]:
        """The JSON shape used by the CLI's ``error`` line and by recordings."""
        return {"kind": self.kind, "message": str(self), "status": self.status}


class ConnectError(ProviderError):
    kind = "connect"


class HTTPStatusError(ProviderError):
    kind = "http_status"


class AuthError(HTTPStatusError):
    kind = "auth"


class RateLimitError(HTTPStatusError):
    kind = "rate_limit"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)  # type: ignore[arg-type]  # kw mirrors ProviderError's


class StreamTimeout(ProviderError):
    kind = "timeout"


class StreamInterrupted(ProviderError):
    kind = "interrupted"


class StreamTruncated(StreamInterrupted):
    kind = "truncated"


class StreamProtocolError(ProviderError):
    kind = "protocol"


class UpstreamError(ProviderError):
    kind = "upstream"


class ScriptedFailure(UpstreamError):
    kind = "scripted"
