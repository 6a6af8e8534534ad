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
from typing import Any, Final, cast

from .parts import META, REASONING, REFUSAL, TEXT, TOOL_CALL, StreamPart
from .redaction import Redactor, is_secret_name, mask_urls, url_secrets

__all__ = ["describe_provider", "error_line", "line_part"]


def error_line(
    exc: Exception, *, provider: str, t: float, text: str, metrics: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The ``error`` line for a failed run (message and hint kept apart, for replay). Every
    URL in its texts is masked (``core.redaction.mask_urls``): an exception that is not ours
    may quote a URL with its credentials."""
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
    err = {k: mask_urls(v) if isinstance(v, str) else v for k, v in err.items()}
    return {
        "type": "error",
        "provider": provider,
        "t": t,
        "text": text,
        "error": err,
        "metrics": dict(metrics) if metrics is not None else None,
    }


def describe_provider(name: str, spec: Any, *, flavor: str | None = None) -> dict[str, Any]:
    """The ``provider`` line for a validated ``ProviderSpec``: kind, model, base URL,
    parameters and the kind's own options; never a key.

    ``api_key_env`` keeps the variable's *name*. Header values are dropped (only names are
    kept: an ``Authorization`` header would carry a key), option names that look secret
    (``*key*``, ``*token*``, ``*secret*``...) are dropped, every URL (``base_url``, an ad hoc
    reference's name) has its userinfo and secret query values masked
    (``core.redaction.mask_urls``), and, as a last line of defence, the value of the variable
    ``api_key_env`` names, every header value and the URL's credentials are replaced wherever
    they occur (under the ``Redactor`` rule).
    """
    data: dict[str, Any] = spec.model_dump(mode="json")
    params = {k: v for k, v in (data.pop("params", None) or {}).items() if v is not None}
    header_values = data.pop("headers", None) or {}
    headers = sorted(header_values.keys())
    secrets = [*header_values.values(), *url_secrets(data.get("base_url"))]
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
    if out["api_key_env"]:
        secrets.append(os.environ.get(out["api_key_env"]))
    return cast(dict[str, Any], _scrub(out, Redactor(secrets)))


def _drop_secret_names(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_secret_names(v) for k, v in value.items() if not is_secret_name(str(k))}
    if isinstance(value, list):
        return [_drop_secret_names(v) for v in value]
    return value


def _scrub(value: Any, redact: Redactor) -> Any:
    if isinstance(value, str):
        return redact(mask_urls(value))
    if isinstance(value, dict):
        return {k: _scrub(v, redact) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, redact) for v in value]
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
