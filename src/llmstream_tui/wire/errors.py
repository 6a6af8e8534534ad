"""Errors raised by the wire decoders."""

from __future__ import annotations

_SNIPPET_CHARS = 80


class WireDecodeError(ValueError):
    """A line of a stream could not be decoded.

    The message is always one line: the line number and the first 80 characters of the
    offending line, ``repr``-escaped so control characters and line separators cannot
    break a log line or a terminal cell.

    ``decoded`` holds the values decoded from the same read before the offending line,
    so a caller that reports the error does not also lose the good values before it.
    """

    def __init__(
        self,
        line_number: int,
        snippet: str | bytes,
        *,
        reason: str = "",
        decoded: list[object] | None = None,
    ) -> None:
        if isinstance(snippet, bytes):
            snippet = snippet[: _SNIPPET_CHARS * 4].decode("utf-8", errors="replace")
        self.line_number = line_number
        self.snippet = snippet[:_SNIPPET_CHARS]
        self.reason = reason
        self.decoded: list[object] = [] if decoded is None else decoded
        detail = f" ({reason})" if reason else ""
        super().__init__(f"line {line_number}: not valid JSON{detail}: {self.snippet!r}")


def describe_size(size: int) -> str:
    """``16 MiB``, ``256 KiB``, ``1000 bytes``: a limit as a person reads it."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


class WireLimitError(ValueError):
    """One event (SSE) or line (NDJSON) grew past the decoder's size limit.

    Raised as soon as the *pending* event or line passes the limit, so a server that never
    ends its line costs at most the limit plus one read, not the whole stream. ``decoded``
    holds what the same read completed before it, as on :class:`WireDecodeError`. The
    decoder is not meant to be fed again after it (the stream cannot be resynchronised).
    """

    def __init__(self, limit: int, *, what: str, decoded: list[object] | None = None) -> None:
        self.limit = limit
        self.what = what
        self.decoded: list[object] = [] if decoded is None else decoded
        super().__init__(f"{what} longer than the {describe_size(limit)} limit")
