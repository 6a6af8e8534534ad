"""Pure, incremental decoders for the byte streams HTTP providers send.

Nothing here does I/O: feed bytes as they arrive, get complete values back.
"""

from __future__ import annotations

from llmstream_tui.wire.errors import WireDecodeError
from llmstream_tui.wire.ndjson import NDJSONDecoder, aiter_ndjson, iter_ndjson
from llmstream_tui.wire.sse import SSEDecoder, SSEEvent, aiter_sse, iter_sse

__all__ = [
    "NDJSONDecoder",
    "SSEDecoder",
    "SSEEvent",
    "WireDecodeError",
    "aiter_ndjson",
    "aiter_sse",
    "iter_ndjson",
    "iter_sse",
]
