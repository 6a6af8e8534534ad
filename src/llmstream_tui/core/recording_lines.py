"""The recording lines built from live objects, and back: a ``provider`` line from a
validated spec (never a key: header values, secret-looking options and the key's own value are
left out), an ``error`` line from a failed run, and the ``StreamPart`` a saved ``chunk`` line
stands for (replay, reopened sessions and exports read chunks back through it).
``core/recording.py`` documents the lines; this module only converts, so the format's reader
and writer stay apart from the scrubbing rules.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Final

from .parts import META, REASONING, REFUSAL, TEXT, TOOL_CALL, StreamPart

__all__ = ["describe_provider", "error_line", "line_part"]


def error_line(
    exc: Exception, *, provider: str, t: float, text: str, metrics: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The ``error`` line for a failed run (message and hint kept apart, for replay)."""
    from ..errors import ProviderError

    if isinstance(exc, ProviderError):
        err: dict[str, Any] = {**exc.to_dict(), "detail": exc.message, "hint": exc.hint}
        retry = getattr(exc, "retry_after", None)
        if retry is not None:
            err["retry_after"] = retry
    else:
        err = {
            "kind": "internal",
            "message": f"{type(exc).__name__}: {exc}",
            "status": None,
            "detail": f"{type(exc).__name__}: {exc}",
            "hint": None,
        }
    return {
        "type": "error",
        "provider": provider,
        "t": t,
        "text": text,
        "error": err,
        "metrics": dict(metrics) if metrics is not None else None,
    }


_SECRET_WORDS: Final = frozenset(
    {
        "key",
        "apikey",
        "secret",
        "token",
        "password",
        "passwd",
        "authorization",
        "auth",
        "credential",
        "credentials",
        "bearer",
        "cookie",
    }
)


def _is_secret_name(key: str) -> bool:
    """``api_key``, ``x-api-key``, ``apiKey``, ``auth_token``: yes; ``max_tokens``,
    ``keep_alive``, ``api_key_env`` (a variable's name): no."""
    k = key.lower().replace("-", "_")
    if k == "api_key_env":
        return False
    return any(word in _SECRET_WORDS for word in k.split("_"))


def describe_provider(name: str, spec: Any, *, flavor: str | None = None) -> dict[str, Any]:
    """The ``provider`` line for a validated ``ProviderSpec``: kind, model, base URL,
    parameters and the kind's own options; never a key.

    ``api_key_env`` keeps the variable's *name*. Header values are dropped (only names are
    kept: an ``Authorization`` header would carry a key), option names that look secret
    (``*key*``, ``*token*``, ``*secret*``...) are dropped, and any string equal to the value of
    the variable ``api_key_env`` names is replaced, as a last line of defence.
    """
    data: dict[str, Any] = spec.model_dump(mode="json")
    params = {k: v for k, v in (data.pop("params", None) or {}).items() if v is not None}
    headers = sorted((data.pop("headers", None) or {}).keys())
    out: dict[str, Any] = {
        "type": "provider",
        "provider": name,
        "kind": data.pop("kind", None),
        "model": data.pop("model", ""),
        "base_url": data.pop("base_url", None),
        "api_key_env": data.pop("api_key_env", None),
        "flavor": flavor or data.get("flavor") or "chat",
        "params": params,
        "options": _drop_secret_names(data),
    }
    if headers:
        out["headers"] = headers
    secret = os.environ.get(out["api_key_env"] or "") if out["api_key_env"] else None
    if secret:
        out = _scrub(out, secret)
    return out


def _drop_secret_names(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_secret_names(v) for k, v in value.items() if not _is_secret_name(str(k))}
    if isinstance(value, list):
        return [_drop_secret_names(v) for v in value]
    return value


def _scrub(value: Any, secret: str) -> Any:
    if isinstance(value, str):
        return value.replace(secret, "[redacted]") if secret in value else value
    if isinstance(value, dict):
        return {k: _scrub(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, secret) for v in value]
    return value


#: A chunk line's ``channel`` (absent for answer text) as a part's channel.
LINE_CHANNELS: Final[dict[str | None, str]] = {
    None: TEXT,
    "reasoning": REASONING,
    "refusal": REFUSAL,
    "tool_call": TOOL_CALL,
    "meta": META,
}


def line_part(line: Mapping[str, Any]) -> StreamPart:
    """The part a ``chunk`` line was recorded from: its channel, tool-call delta, stop reason
    (kept in ``metadata``), other metadata and usage delta."""
    meta = line.get("metadata")
    finish = None
    if meta:
        meta = dict(meta)
        finish = meta.pop("finish_reason", None)
    return StreamPart(
        line.get("text", ""),
        LINE_CHANNELS.get(line.get("channel"), TEXT),
        tool_call=line.get("tool_call"),
        finish_reason=finish,
        metadata=meta or None,
        usage=line.get("usage") or None,
    )
