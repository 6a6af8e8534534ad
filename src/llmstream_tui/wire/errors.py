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
