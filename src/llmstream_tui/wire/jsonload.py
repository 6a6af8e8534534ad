"""The JSON parser every wire format uses: orjson when installed, else the stdlib."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["fast_json_loads", "json_loads"]

_std_decode = json.JSONDecoder().decode


def _std_loads(text: str) -> Any:
    """The stdlib's decoder, with a document nested deeper than the interpreter's stack
    (``[[[[...`` 200,000 levels in one event) refused as malformed JSON: the C scanner
    recurses per level and raises ``RecursionError``, which no caller expects of a parser."""
    try:
        return _std_decode(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text, 0) from None


def _make_json_loads() -> Callable[[str], Any]:
    """orjson's ``loads`` when installed (about 3x faster on provider chunks), else the
    stdlib's. The values are the same, except integers beyond 64 bits, which orjson
    returns as floats (no provider field comes near)."""
    try:
        from orjson import loads as fast
    except ImportError:  # pragma: no cover  # the stdlib alone gives the same values
        return _std_loads

    def loads(text: str) -> Any:
        try:
            return fast(text)
        except ValueError:
            # orjson refuses some JSON the stdlib reads (a lone surrogate escape, as a
            # model can emit when a token splits an emoji; NaN; huge integers): the stdlib
            # has the last word, so results and "malformed" verdicts never differ.
            return _std_loads(text)

    return loads


#: Parse one JSON document (a chunk's ``data``). Raises ``ValueError`` when malformed, or
#: nested too deeply to parse (never ``RecursionError``).
json_loads: Callable[[str], Any] = _make_json_loads()


def _make_fast_json_loads() -> Callable[[str], Any]:
    try:
        from orjson import loads as fast
    except ImportError:  # pragma: no cover  # the stdlib alone gives the same values
        return _std_loads
    return fast


#: orjson's ``loads`` itself when installed (else the stdlib's): one Python call less per
#: chunk than ``json_loads``, for a hot path that calls ``json_loads`` when it raises
#: ``ValueError`` (``json_loads`` has the last word on what is malformed).
fast_json_loads: Callable[[str], Any] = _make_fast_json_loads()
