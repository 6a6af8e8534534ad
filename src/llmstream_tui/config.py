"""Settings: a TOML file plus ``LLMSTREAM_*`` environment variables (pydantic-settings).

Precedence, highest first: values passed in code > environment variables
(``LLMSTREAM_DELIMITER``, nested with ``__``: ``LLMSTREAM_UI__EVENTS_VERSION``) > the TOML
file (``--config PATH``, else ``$LLMSTREAM_CONFIG_FILE``, else the user config dir) > defaults.
``config.example.toml`` documents every key and is loaded by a test.

Provider tables are kept as plain dicts here and validated per kind by
``providers.registry`` (each kind has its own options, in ``providers.spec``), so an unknown
key in any table is reported with its full path. This module sits above the providers: it
imports them, never the other way round.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

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
    except ValidationError as exc:
        raise ConfigError(f"{file}: {describe_validation_error(exc)}") from None
    finally:
        _TOML_FILE.pop("data", None)
    for name, table in settings.providers.items():
        validate_table(table, where=f"{file}: providers.{name}")
    for name in settings.default_providers:
        if settings.provider_table(name) is None and ":" not in name:
            raise ConfigError(f"{file}: default_providers: unknown provider {name!r}")
    return settings


def _env_names_file() -> bool:
    import os

    from .locations import CONFIG_FILE_ENV

    return bool(os.environ.get(CONFIG_FILE_ENV))
