"""What every provider table holds: ``ProviderSpec`` and its ``Params``.

Provider settings live with the providers, not in the top-level settings module: a kind
subclasses ``ProviderSpec`` with its own options (``kind: Literal["..."]`` first), and the
registry validates each table against its kind's class. The settings module only keeps the
tables as plain dicts, so an unknown key in any table is reported with its full path.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

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
    max_retries: int = Field(default=2, ge=0, le=10)
    headers: dict[str, str] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)

    #: The option an ad hoc reference ``KIND:REST`` sets to ``REST``: ``model`` (then
    #: ``REST`` is ``MODEL[@BASE_URL]``). A kind whose reference names something else (the
    #: ``langchain`` kind's ``target``, ``module:attribute``) names that option here, and
    #: ``REST`` is taken whole.
    reference_field: ClassVar[str] = "model"


def describe_validation_error(exc: ValidationError) -> str:
    """The first problem of a pydantic error as ``dotted.key: message``, for one-line
    ``ConfigError`` messages (``unknown key`` for pydantic's ``extra_forbidden``)."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {msg}{more}"
