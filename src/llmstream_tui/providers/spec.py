"""What every provider table holds: ``ProviderSpec`` and its ``Params``.

Provider settings live with the providers, not in the top-level settings module: a kind
subclasses ``ProviderSpec`` with its own options (``kind: Literal["..."]`` first), and the
registry validates each table against its kind's class. The settings module only keeps the
tables as plain dicts, so an unknown key in any table is reported with its full path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar, Final
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..core.redaction import MASK, mask_urls

__all__ = ["BUILTIN_PROVIDERS", "Params", "ProviderSpec", "describe_validation_error"]

#: Offline providers that always exist; a config table of the same name replaces one.
BUILTIN_PROVIDERS: dict[str, dict[str, Any]] = {
    "swift": {"kind": "simulated", "model": "swift", "seed": 1},
    "steady": {"kind": "simulated", "model": "steady", "seed": 2},
}


class Params(BaseModel):
    """Generation parameters, mapped by each provider to its own names."""

    model_config = ConfigDict(extra="forbid")

    temperature: float | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    top_p: float | None = None
    stop: list[str] | None = None
    seed: int | None = None
    system: str | None = None


class ProviderSpec(BaseModel):
    """Options every provider kind accepts. Kinds subclass it with their own."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    model: str = ""
    base_url: str | None = None
    #: Name of the environment variable holding the key; the key itself is never configured.
    api_key_env: str | None = None
    params: Params = Field(default_factory=Params)
    stream: bool = True
    #: Seconds without a byte before the stream is given up (a stall).
    timeout: float = Field(default=60.0, gt=0)
    #: Seconds without content (text, reasoning, refusal, a tool call) before the stream is
    #: given up, however many keep-alive comments, pings or empty deltas come meanwhile
    #: (0: no limit); counted from the response body's first bytes. Generous, as a
    #: reasoning model may think a while before it answers.
    idle_timeout: float = Field(default=120.0, ge=0)
    #: Seconds a whole answer may take, from the request on (0, the default: no limit).
    deadline: float = Field(default=0.0, ge=0)
    #: The longest single event (server-sent events) or line (NDJSON) accepted; a longer
    #: one is a protocol error, so a server that never ends its line cannot exhaust memory.
    max_event_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    max_retries: int = Field(default=2, ge=0, le=10)
    headers: dict[str, str] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)

    #: The option an ad hoc reference ``KIND:REST`` sets to ``REST``: ``model`` (then
    #: ``REST`` is ``MODEL[@BASE_URL]``). A kind whose reference names something else (the
    #: ``langchain`` kind's ``target``, ``module:attribute``) names that option here, and
    #: ``REST`` is taken whole.
    reference_field: ClassVar[str] = "model"
    #: ``base_url`` must be an ``http(s)://HOST[:PORT]/...`` URL (checked when the table is
    #: read, so a bad one is a configuration error naming the key, not a failed run). A kind
    #: that takes something else after ``@`` in its reference (``replay``: a path) says no.
    base_url_is_url: ClassVar[bool] = True

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value and cls.base_url_is_url:  # "" (as None) means the kind's default
            problem = url_problem(value)
            if problem:
                raise ValueError(problem)
        return value

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            problem = header_problem(name, text)
            if problem:
                raise ValueError(problem)
        return value

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """repr and str show header names only and the URL masked: a log or traceback of a
        spec must not carry what a header or ``base_url`` holds (``model_dump`` keeps all,
        for rebuilding the backend)."""
        for key, value in super().__repr_args__():
            if key == "headers" and isinstance(value, dict):
                yield key, dict.fromkeys(value, MASK)
            elif key == "base_url" and isinstance(value, str):
                yield key, mask_urls(value)
            else:
                yield key, value


#: RFC 9110 ``token``: the characters a header name may hold.
_HEADER_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a provider's ``base_url`` (``port out of range``...), or None.
    Never repeats the URL, which may hold credentials."""
    if not url.isprintable() or any(c.isspace() for c in url):
        return "not an http(s) URL (it holds spaces or control characters)"
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # an unclosed IPv6 bracket
        return f"not an http(s) URL ({exc})"
    if parts.scheme.lower() not in ("http", "https") or not url.lower().startswith(
        f"{parts.scheme.lower()}://"
    ):
        return "not an http(s) URL (expected http://HOST[:PORT]/PATH)"
    if not parts.hostname:
        return "no host in the URL"
    try:
        port = parts.port
    except ValueError:
        digits = parts.netloc.rpartition("@")[2].rpartition(":")[2]
        return "port out of range (0-65535)" if digits.isdigit() else "port is not a number"
    if port == 0:
        return "port out of range (1-65535)"
    return None


def header_problem(name: str, value: str) -> str | None:
    """Why a configured header cannot be sent, or None. Names the header, never its value
    (it may be a key)."""
    if not _HEADER_NAME.fullmatch(name):
        return f"{name!r} is not a valid header name (letters, digits and !#$%&'*+-.^_`|~)"
    if "\r" in value or "\n" in value:
        return f"the value of {name!r} has a line break"
    if "\0" in value or not all(c == "\t" or c.isprintable() for c in value):
        return f"the value of {name!r} has a control character"
    if not value.isascii():
        return f"the value of {name!r} is not ASCII (HTTP cannot carry it)"
    return None


def describe_validation_error(exc: ValidationError) -> str:
    """The first problem of a pydantic error as ``dotted.key: message``, for one-line
    ``ConfigError`` messages (``unknown key`` for pydantic's ``extra_forbidden``)."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {msg}{more}"
