"""Settings: a TOML file plus ``LLMSTREAM_*`` environment variables (pydantic-settings).

Precedence, highest first: values passed in code > environment variables
(``LLMSTREAM_DELIMITER``, nested with ``__``: ``LLMSTREAM_UI__EVENTS_VERSION``) > the TOML
file (``--config PATH``, else ``$LLMSTREAM_CONFIG_FILE``, else the user config dir) > defaults.
``config.example.toml`` documents every key and is loaded by a test.

Environment variables: a list or table is JSON (``LLMSTREAM_DEFAULT_PROVIDERS='["a", "b"]'``);
a bad value is one ``ConfigError`` line naming the variable, not the file. Names are not
case-sensitive, and a provider whose name has a hyphen (which a shell variable cannot hold)
is reached with an underscore in its place: ``LLMSTREAM_PROVIDERS__MY_LOCAL__MODEL`` sets
``model`` of the configured ``[providers.my-local]``. ``unknown_env_vars()`` names the
``LLMSTREAM_`` variables that set nothing (a typo), for the CLI to warn about.

Provider tables are kept as plain dicts here and validated per kind by
``providers.registry`` (each kind has its own options, in ``providers.spec``), so an unknown
key in any table is reported with its full path. This module sits above the providers: it
imports them, never the other way round.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.exceptions import SettingsError

from .errors import ConfigError
from .locations import default_config_file
from .providers.registry import validate_table
from .providers.spec import BUILTIN_PROVIDERS, describe_validation_error


class UISettings(BaseModel):
    """What the app shows; every key documented in config.example.toml."""

    model_config = ConfigDict(extra="forbid")

    show_whitespace: bool = False
    tints: bool = True
    markdown: bool = False
    events_version: Literal["v1", "v2"] = "v2"
    events_open: Literal["auto", "yes", "no"] = "auto"
    events_max_lines: int = Field(default=5000, ge=100)
    fold_stream_events: bool = False
    #: What the chunk counts and the gap sparkline count: the answer's chunks only, or every
    #: channel's (reasoning, tool-call and refusal chunks too). F10 switches.
    chunk_scope: Literal["answer", "all"] = "answer"
    #: Frames per second at which panes draw what arrived (chunks are coalesced per frame).
    fps: int = Field(default=30, ge=5, le=60)
    #: Wrapped rows of scrollback each pane keeps on screen (the conversation keeps all text).
    max_rows: int = Field(default=20_000, ge=100)
    #: Blink the prompt's cursor.
    cursor_blink: bool = True


class Settings(BaseSettings):
    """All settings. See config.example.toml for each key's meaning."""

    model_config = SettingsConfigDict(
        env_prefix="LLMSTREAM_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    default_providers: list[str] = Field(default_factory=lambda: ["swift", "steady"])
    delimiter: str = "|"
    theme: str = "llmstream-dark"
    #: Save every session (prompts, chunks with their arrival times, answers, metrics,
    #: provider settings but never a key) to ``<data dir>/history.sqlite3`` as it happens.
    #: ``false`` keeps nothing; ``stream --no-history`` does the same for one run.
    history: bool = True
    providers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    keymap: dict[str, str] = Field(default_factory=dict)
    ui: UISettings = Field(default_factory=UISettings)

    def provider_table(self, name: str) -> dict[str, Any] | None:
        """The table configured under ``name``, or a built-in one."""
        if name in self.providers:
            return self.providers[name]
        return BUILTIN_PROVIDERS.get(name)

    def provider_names(self) -> list[str]:
        return list(dict.fromkeys([*BUILTIN_PROVIDERS, *self.providers]))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = _TOML_FILE.get("data")
        if toml is not None:
            sources.append(InitSettingsSource(settings_cls, init_kwargs=toml))
        return tuple(sources)


#: The TOML file's tables while ``load_settings`` builds a ``Settings`` (read once, there).
_TOML_FILE: dict[str, dict[str, Any] | None] = {}


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read settings. ``path=None`` uses ``$LLMSTREAM_CONFIG_FILE`` or the user config
    file, which may be absent (defaults apply); an explicit path must exist.

    Raises ``ConfigError`` with one line naming the file, the key and the problem.
    """
    explicit = path is not None
    file = Path(path).expanduser() if path is not None else default_config_file()
    if not file.exists():
        if explicit or _env_names_file():
            raise ConfigError(f"{file}: config file not found")
        file_to_use: dict[str, Any] | None = None
    else:
        try:
            # utf-8-sig: a leading byte order mark (as some Windows editors write) is skipped
            file_to_use = tomllib.loads(file.read_bytes().decode("utf-8-sig"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: TOML syntax error: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{file}: not UTF-8 text (byte {exc.start})") from None
        except OSError as exc:
            raise ConfigError(f"{file}: cannot read: {exc.strerror}") from None
    _TOML_FILE["data"] = file_to_use
    try:
        settings = Settings(**overrides)
    except SettingsError as exc:
        raise ConfigError(_env_parse_problem(exc)) from None
    except ValidationError as exc:
        raise ConfigError(_blamed(describe_validation_error(exc), file)) from None
    finally:
        _TOML_FILE.pop("data", None)
    settings.providers = _fold_hyphenated(settings.providers)
    for name, table in settings.providers.items():
        try:
            validate_table(table, where=f"providers.{name}")
        except ConfigError as exc:
            raise ConfigError(_blamed(str(exc), file)) from None
    for name in settings.default_providers:
        if settings.provider_table(name) is None and ":" not in name:
            raise ConfigError(f"{file}: default_providers: unknown provider {name!r}")
    return settings


ENV_PREFIX: Final = "LLMSTREAM_"


def _env_names() -> dict[str, str]:
    """The ``LLMSTREAM_`` variables set, upper-cased name -> name as set."""
    return {k.upper(): k for k in os.environ if k.upper().startswith(ENV_PREFIX)}


def _env_var(dotted: str) -> str | None:
    """The variable that set the dotted key ``dotted`` (or a key above it: a list's item
    comes from the list's variable), if one is set."""
    names = _env_names()
    parts = [p.replace("-", "_") for p in dotted.split(".")]
    for n in range(len(parts), 0, -1):
        var = ENV_PREFIX + "__".join(parts[:n]).upper()
        if var in names:
            return names[var]
    return None


def _blamed(problem: str, file: Path) -> str:
    """A ``dotted.key: message`` problem as the line to show: blamed on the variable that
    set the key (``LLMSTREAM_UI__FPS: message``), else on the file (``FILE: key: message``)."""
    key, _, message = problem.partition(": ")
    var = _env_var(key)
    if var is None:
        return f"{file}: {problem}"
    exact = var.upper() == ENV_PREFIX + key.replace(".", "__").replace("-", "_").upper()
    return f"{var}: {message}" if exact else f"{var}: {problem}"


def _env_parse_problem(exc: SettingsError) -> str:
    """pydantic-settings' "error parsing value for field X from source EnvSettingsSource"
    (a list or table that is not JSON) as one line naming the variable."""
    found = re.search(r'field "([^"]+)"', str(exc))
    field = found.group(1) if found else "?"
    var = _env_var(field) or ENV_PREFIX + field.upper()
    info = Settings.model_fields.get(field)
    if info is not None and get_origin(info.annotation) is list:
        return f'{var}: not a JSON list (write it as \'["a", "b"]\')'
    return f'{var}: not valid JSON (a list is \'["a"]\', a table \'{{"key": "value"}}\')'


def _fold_hyphenated(providers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Provider tables set from the environment under ``my_local`` go to the configured
    ``my-local`` (a shell variable cannot hold a hyphen, so only a name with a hyphen is a
    target; names are matched ignoring case, as variables are)."""
    out = dict(providers)
    hyphenated = [n for n in out if "-" in n]
    for key in [k for k in out if "-" not in k]:
        match = [n for n in hyphenated if n.replace("-", "_").lower() == key.lower()]
        if len(match) == 1:
            out[match[0]] = _deep_merge(out[match[0]], out.pop(key))
    return out


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def unknown_env_vars() -> list[str]:
    """One line per ``LLMSTREAM_`` variable that sets nothing (a misspelt name), with the
    closest real one when there is one. Provider and keymap variables may name anything
    below ``LLMSTREAM_PROVIDERS__`` / ``LLMSTREAM_KEYMAP__``."""
    from .locations import CONFIG_FILE_ENV, DATA_DIR_ENV

    known = {CONFIG_FILE_ENV, DATA_DIR_ENV}
    known |= {ENV_PREFIX + f.upper() for f in Settings.model_fields if f != "ui"}
    known |= {f"{ENV_PREFIX}UI__{f.upper()}" for f in UISettings.model_fields}
    open_tables = (f"{ENV_PREFIX}PROVIDERS__", f"{ENV_PREFIX}KEYMAP__")
    out = []
    for upper, name in sorted(_env_names().items()):
        if upper in known or (upper.startswith(open_tables) and upper not in open_tables):
            continue
        close = difflib.get_close_matches(upper, sorted(known), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        out.append(f"{name} is not a setting (ignored{hint})")
    return out


def _env_names_file() -> bool:
    from .locations import CONFIG_FILE_ENV

    return bool(os.environ.get(CONFIG_FILE_ENV))
