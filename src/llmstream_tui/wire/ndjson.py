"""Incremental NDJSON decoder (one JSON value per line, as Ollama streams).

Lines are split on ``b"\\n"`` at the byte level: that byte never occurs inside a UTF-8
multi-byte character, so reads may be split anywhere.  A partial line is kept as a list of
pieces joined once, so a line of any length costs time linear in its size.

With ``max_line_bytes`` no line may be longer: the pending partial line is measured at each
read (one ``len``), so a line that never ends raises
:class:`~llmstream_tui.wire.errors.WireLimitError` once it passes the limit, having cost the
limit plus one read.

Whether a value means an error (Ollama's ``{"error": ...}``) is for the provider to decide;
this module only turns bytes into JSON values.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator

from .errors import WireDecodeError, WireLimitError
from .jsonload import json_loads as _loads

__all__ = ["NDJSONDecoder", "aiter_ndjson", "iter_ndjson"]


class NDJSONDecoder:
    """Turns NDJSON bytes into parsed JSON values.

    Blank lines (and a trailing CR, which JSON treats as whitespace) are tolerated; a final
    line without a newline is still a line, delivered by :meth:`close`.  A line that is not
    UTF-8 JSON raises :class:`WireDecodeError` carrying its 1-based line number; the values
    before it in the same read are on the error's ``decoded``, and the rest of the read is
    kept, so a caller that catches the error may go on feeding.

    ``max_line_bytes`` (default: no limit) bounds one line, see the module docstring.
    """

    __slots__ = ("_backlog", "_limit", "_line_number", "_tail", "_tail_size")

    def __init__(self, max_line_bytes: int | None = None) -> None:
        self._tail: list[bytes] = []
        self._tail_size = 0
        self._backlog = b""
        self._line_number = 0
        self._limit = sys.maxsize if max_line_bytes is None else max_line_bytes

    def feed(self, data: bytes) -> list[object]:
        """Decode one read; return the values of the lines it completes."""
        if self._backlog:
            data = self._backlog + data
            self._backlog = b""
        lines = data.split(b"\n")
        rest = lines.pop()
        tail = self._tail
        limit = self._limit
        if not lines:
            if rest:
                tail.append(rest)
                self._tail_size += len(rest)
                if self._tail_size > limit:
                    raise WireLimitError(limit, what="a line")
            return []
        if tail:
            tail.append(lines[0])
            lines[0] = b"".join(tail)
            tail.clear()
        self._tail_size = len(rest)
        if rest:
            tail.append(rest)
        if len(data) > limit or len(lines[0]) > limit:
            # Only a read larger than the limit can hold a complete line that is too long.
            for index, line in enumerate(lines):
                if len(line) > limit:
                    raise WireLimitError(limit, what="a line", decoded=self._parse(lines[:index]))
        if self._tail_size > limit:
            raise WireLimitError(limit, what="a line", decoded=self._parse(lines))
        return self._parse(lines)

    def close(self) -> list[object]:
        """End the stream: parse a final line that had no newline, then start afresh."""
        lines = [self._backlog + b"".join(self._tail)]
        self._backlog = b""
        self._tail.clear()
        self._tail_size = 0
        try:
            return self._parse(lines)
        finally:
            self._line_number = 0

    def _parse(self, lines: list[bytes]) -> list[object]:
        values: list[object] = []
        append = values.append
        for index, line in enumerate(lines):
            if not line:
                continue
            try:
                append(_loads(line.decode("utf-8")))
            except ValueError as exc:
                if line.isspace():
                    continue
                number = self._line_number = self._line_number + index + 1
                self._backlog = b"\n".join([*lines[index + 1 :], b"".join(self._tail)])
                self._tail.clear()
                reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "invalid UTF-8"
                raise WireDecodeError(number, line, reason=reason, decoded=values) from exc
        self._line_number += len(lines)
        return values


def iter_ndjson(chunks: Iterable[bytes]) -> Iterator[object]:
    """Yield the values of a whole stream given as an iterable of reads.

    On a bad line the values decoded before it are yielded first, then the error raised.
    """
    decoder = NDJSONDecoder()
    for chunk in chunks:
        values, error = _run(decoder.feed, chunk)
        yield from values
        if error is not None:
            raise error
    values, error = _run(decoder.close)
    yield from values
    if error is not None:
        raise error


async def aiter_ndjson(chunks: AsyncIterable[bytes]) -> AsyncIterator[object]:
    """Yield the values of a stream read asynchronously (e.g. ``response.aiter_bytes()``).

    On a bad line the values decoded before it are yielded first, then the error raised.
    """
    decoder = NDJSONDecoder()
    async for chunk in chunks:
        values, error = _run(decoder.feed, chunk)
        for value in values:
            yield value
        if error is not None:
            raise error
    values, error = _run(decoder.close)
    for value in values:
        yield value
    if error is not None:
        raise error


def _run(
    step: Callable[..., list[object]], *args: bytes
) -> tuple[list[object], WireDecodeError | None]:
    try:
        return step(*args), None
    except WireDecodeError as exc:
        return exc.decoded, exc
