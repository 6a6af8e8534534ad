"""The one stream loop every HTTP kind runs: bytes -> decoder -> the kind's pure parser ->
``StreamPart`` values, with one end-of-stream policy for all of them.

A kind's ``_astream`` is then a single call (and not a generator itself, so each part goes
through one generator, as when every kind wrote this loop out)::

    def _astream(self, request, ctx):
        return pump_sse(self, "/chat/completions", self._body(request), ctx, MyParser(self))

A parser (:class:`StreamParser`) is fed one decoded item at a time (an ``SSEEvent`` for
``pump_sse``, a JSON value for ``pump_ndjson``) and returns the parts it stands for; it sets
``done`` when the stream's terminator arrived (``[DONE]``, ``message_stop``,
``response.completed``, Ollama's ``"done": true``; never for Gemini, whose stream has none)
and raises ``StreamTruncated`` from ``finish()`` unless what it saw makes a complete answer.

The policy, the same for every kind:

- the terminator ends the stream: nothing after it is parsed (not even the rest of the read
  that carried it); the body is then drained for at most ``HTTPModel.drain``'s grace, so the
  connection goes back to the pool, and a server that keeps the line open cannot stall a
  complete answer into a timeout;
- without a terminator the bytes are read to their end, the decoder is closed and what that
  completes is parsed (for SSE, by the WHATWG rules the decoder implements, an event not
  ended by a blank line is discarded; a final NDJSON line needs no newline);
- either way ``parser.finish()`` has the last word;
- timeouts and transport failures are ``stream_bytes``'s (one ``spec.timeout`` per read), so
  they are the same everywhere; closing the pump closes the response at once.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..core.parts import StreamPart
from ..core.runnable import RunContext
from ..errors import ProviderError
from ..wire.errors import WireDecodeError
from ..wire.ndjson import NDJSONDecoder
from ..wire.sse import SSEDecoder, SSEEvent

if TYPE_CHECKING:
    from .http import HTTPModel

__all__ = ["StreamParser", "pump_ndjson", "pump_sse"]

_Item_contra = TypeVar("_Item_contra", contravariant=True)
_Item_co = TypeVar("_Item_co", covariant=True)
_Item = TypeVar("_Item")


class StreamParser(Protocol[_Item_contra]):
    """What the pump needs of a kind's parser (``_Item_contra``: what one decoded unit is)."""

    @property
    def done(self) -> bool:
        """True once the stream's terminator arrived; the pump then stops reading."""
        ...

    def feed(self, item: _Item_contra, /) -> Iterable[StreamPart]:
        """The parts one decoded item stands for (often one, possibly none)."""
        ...

    def finish(self) -> None:
        """At the end of the stream: raise ``StreamTruncated`` unless it is complete."""
        ...


def pump_sse(
    model: HTTPModel,
    path: str,
    body: Mapping[str, Any],
    ctx: RunContext,
    parser: StreamParser[SSEEvent],
    *,
    params: Mapping[str, str] | None = None,
) -> AsyncGenerator[StreamPart, None]:
    """Stream ``POST base_url + path`` (``params``: its query) as server-sent events through
    ``parser`` (see the module docstring for the end-of-stream policy)."""
    return _pump(model.stream_bytes(path, body, ctx, params=params), SSEDecoder(), parser, model)


def pump_ndjson(
    model: HTTPModel,
    path: str,
    body: Mapping[str, Any],
    ctx: RunContext,
    parser: StreamParser[object],
) -> AsyncGenerator[StreamPart, None]:
    """Stream ``POST base_url + path`` as NDJSON through ``parser``, with the same policy. A
    line that is not JSON is a ``StreamProtocolError`` naming the line, raised after the good
    lines read with it were parsed (an error object among them wins: the provider's own
    message says more)."""
    return _pump(model.stream_bytes(path, body, ctx), NDJSONDecoder(), parser, model)


class _Decoder(Protocol[_Item_co]):
    """``SSEDecoder`` and ``NDJSONDecoder``: bytes in, the items they complete out."""

    def feed(self, data: bytes, /) -> Sequence[_Item_co]: ...

    def close(self) -> Sequence[_Item_co]: ...


async def _pump(
    byte_reads: AsyncGenerator[bytes, None],
    decoder: _Decoder[_Item],
    parser: StreamParser[_Item],
    model: HTTPModel,
) -> AsyncGenerator[StreamPart, None]:
    decode = decoder.feed
    feed = parser.feed
    bad: WireDecodeError | None = None  # only NDJSON raises it: a line that is not JSON
    async with aclosing(byte_reads) as reads:
        async for data in reads:
            try:
                items = decode(data)
            except WireDecodeError as exc:
                items, bad = exc.decoded, exc  # type: ignore[assignment]  # NDJSON's values
            for item in items:
                for part in feed(item):
                    yield part
                if parser.done:
                    break
            if parser.done:
                await model.drain(reads)
                break
            if bad is not None:
                raise _bad_line(model, bad)
    if not parser.done:
        try:
            items = decoder.close()
        except WireDecodeError as exc:
            items, bad = exc.decoded, exc  # type: ignore[assignment]  # as above
        for item in items:
            for part in feed(item):
                yield part
        if bad is not None and not parser.done:
            raise _bad_line(model, bad)
    parser.finish()


def _bad_line(model: HTTPModel, exc: WireDecodeError) -> ProviderError:
    return model.protocol_error(f"malformed JSON on line {exc.line_number} of the stream")
