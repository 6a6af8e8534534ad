"""``llmstream-tui config init|path|show``: where settings come from, and what they are.

    llmstream-tui config init [--config PATH] [--force]   write the documented example there
    llmstream-tui config path [--config PATH]             the config file searched, the data dir
    llmstream-tui config show [--config PATH]             the effective settings as TOML

``init`` writes the example shipped in the package (``locations.bundled_config_example``),
so a user who installed the wheel gets every key documented at the path that is read next
time. ``show`` prints TOML that loads back, each value followed by its source (``# file``,
``# env LLMSTREAM_…``, ``# default``, ``# built-in``); provider tables are shown with every
option their kind takes, defaults filled in. Keys are never in the settings (each provider
names the variable holding its key: ``show`` says whether it is set, never its value), and
header values, which often carry tokens, are shown as ``***``, as is any option whose name
says it is a secret, and a URL's credentials (``core.redaction``, the rule everything shown
or saved follows).
"""

from __future__ import annotations

import argparse
import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ..config import Settings, load_settings
from ..core.redaction import MASK, is_secret_name, mask_urls
from ..errors import ConfigError
from ..locations import (
    CONFIG_FILE_ENV,
    DATA_DIR_ENV,
    bundled_config_example,
    data_dir,
    default_config_file,
)
from ..providers.registry import backend_class, validate_table
from ..providers.spec import BUILTIN_PROVIDERS

if TYPE_CHECKING:
    from tomlkit.items import Table

__all__ = ["add_config_command", "config_command"]

ENV_PREFIX: Final = "LLMSTREAM_"


def add_config_command(sub: Any) -> None:
    """Add ``config`` and its three actions to the command parser's subparsers."""
    config = sub.add_parser(
        "config",
        help="write the example config, say where settings come from, show them",
        description="init: write the documented example config where it is read; path: the "
        "config file searched and the data dir; show: the effective settings as TOML, each "
        "value's source beside it (file, env, default), header values masked.",
    )
    config.add_argument("--config", metavar="PATH", help="the config file (default: searched)")
    actions = config.add_subparsers(dest="config_action", required=True)
    init = actions.add_parser("init", help="write the example config (every key documented)")
    init.add_argument("--force", action="store_true", help="replace an existing file")
    actions.add_parser("path", help="print the config file searched and the data dir")
    actions.add_parser("show", help="print the effective settings as TOML, with their sources")
    for action in actions.choices.values():
        # after the action too (`config init --config PATH`); SUPPRESS keeps the one given
        # before it when this one is absent
        action.add_argument(
            "--config", metavar="PATH", default=argparse.SUPPRESS, help="the config file"
        )


def config_command(args: argparse.Namespace) -> int:
    """Run ``config ACTION``; ``ConfigError`` (exit 2) for what cannot be done."""
    if args.config_action == "init":
        return _init(args.config, force=args.force)
    if args.config_action == "path":
        print(f"config file: {describe_config_file(args.config)}")
        origin = f"${DATA_DIR_ENV}" if os.environ.get(DATA_DIR_ENV) else "user data dir"
        print(f"data dir: {data_dir()} ({origin})")
        return 0
    print(show_settings(args.config), end="")
    return 0


def config_file(explicit: str | None) -> tuple[Path, str]:
    """The config file read (as ``load_settings`` picks it) and what chose it."""
    if explicit is not None:
        return Path(explicit).expanduser(), "--config"
    origin = f"${CONFIG_FILE_ENV}" if os.environ.get(CONFIG_FILE_ENV) else "user config dir"
    return default_config_file(), origin


def describe_config_file(explicit: str | None) -> str:
    path, origin = config_file(explicit)
    if path.exists():
        return f"{path} ({origin})"
    if origin == "user config dir":
        return f"{path} ({origin}; not found: defaults apply)"
    return f"{path} ({origin}; not found)"


def _init(explicit: str | None, *, force: bool) -> int:
    path, _ = config_file(explicit)
    if path.exists() and not force:
        raise ConfigError(f"{path}: already exists (--force replaces it)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bundled_config_example().read_bytes())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from None
    print(path)
    return 0


# ----------------------------------------------------------------------------- show


class _Sources:
    """Where each dotted key's value came from: the environment, the file, or neither."""

    def __init__(self, file: Mapping[str, Any]) -> None:
        self.file = file
        # names are case-insensitive (pydantic-settings reads them so)
        self.env = {k.upper(): v for k, v in os.environ.items() if k.upper().startswith(ENV_PREFIX)}

    def of(self, path: tuple[str, ...], otherwise: str = "default") -> str:
        env = self._env(path)
        if env is not None:
            return f"env {env}"
        node: Any = self.file
        for part in path:
            if not isinstance(node, Mapping) or part not in node:
                return otherwise
            node = node[part]
        return "file"

    def _env(self, path: tuple[str, ...]) -> str | None:
        for depth in range(1, len(path) + 1):
            name = ENV_PREFIX + "__".join(path[:depth]).upper()
            if name in self.env and (depth == len(path) or _json_has(self.env[name], path[depth:])):
                return name
        deeper = ENV_PREFIX + "__".join(path).upper() + "__"
        return next((name for name in sorted(self.env) if name.startswith(deeper)), None)


def _json_has(text: str, path: tuple[str, ...]) -> bool:
    try:
        node: Any = json.loads(text)
    except ValueError:
        return False
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _masked(name: str, value: Any, *, in_headers: bool = False) -> Any:
    """``value`` as shown: every header value and every secret-named option's value
    (``core.redaction``'s rule) as ``***``, URLs with their credentials masked."""
    if isinstance(value, str):
        return MASK if in_headers or is_secret_name(name) else mask_urls(value)
    if isinstance(value, dict):
        return {k: _masked(k, v, in_headers=name == "headers") for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(name, v) for v in value]
    return value


def _put(table: Any, key: str, value: Any, source: str) -> None:
    """``key = value # source`` (TOML has no null: an unset value is a comment)."""
    import tomlkit  # only ``config show`` needs it: not on ``stream``'s start-up

    if value is None:
        table.add(tomlkit.comment(f"{key}: unset ({source})"))
        return
    # a table inside a value (headers, options) stays on its line, beside its source
    if isinstance(value, dict):
        inline = tomlkit.inline_table()
        inline.update(value)
        table.add(key, inline.comment(source))
    else:
        table.add(key, tomlkit.item(value).comment(source))


def show_settings(explicit: str | None) -> str:
    """The effective settings as a TOML document, each value's source beside it."""
    import tomlkit

    settings = load_settings(explicit)
    path, _ = config_file(explicit)
    file: dict[str, Any] = {}
    if path.exists():
        with path.open("rb") as fh:
            file = tomllib.load(fh)
    sources = _Sources(file)
    doc = tomlkit.document()
    doc.add(tomlkit.comment(f"config file: {describe_config_file(explicit)}"))
    doc.add(
        tomlkit.comment(
            "the effective settings; beside each value its source: file, env VARIABLE, "
            "default or built-in"
        )
    )
    doc.add(tomlkit.comment(f"keys are never shown; header values are masked ({MASK})"))
    dumped = settings.model_dump(mode="json")
    tables: list[tuple[str, dict[str, Any]]] = []
    for name in Settings.model_fields:
        value = dumped[name]
        if name == "providers":
            continue
        if isinstance(value, dict):
            tables.append((name, value))
        else:
            _put(doc, name, value, sources.of((name,)))
    for name, value in tables:
        table = tomlkit.table()
        for key, item in value.items():
            _put(table, key, _masked(key, item), sources.of((name, key)))
        doc.add(name, table)
    doc.add("providers", _providers_table(settings, sources))
    return tomlkit.dumps(doc)


def _providers_table(settings: Settings, sources: _Sources) -> Table:
    """Each provider (configured, then the built-ins not replaced) with every option of its
    kind: set ones with their source, the rest as the kind's defaults."""
    import tomlkit

    providers = tomlkit.table(is_super_table=True)
    names = [*settings.providers, *(n for n in BUILTIN_PROVIDERS if n not in settings.providers)]
    for name in names:
        raw = settings.provider_table(name) or {}
        built_in = name not in settings.providers
        spec = validate_table(raw, where=f"providers.{name}")
        table = tomlkit.table()
        key_note = _key_note(spec.kind, spec.api_key_env)
        if key_note:
            table.add(tomlkit.comment(key_note))
        for key, value in spec.model_dump(mode="json", exclude_none=True).items():
            path = ("providers", name, key)
            source = ("built-in" if key in raw else "default") if built_in else sources.of(path)
            value = _masked(key, value)
            if isinstance(value, dict) and key == "params":
                sub = tomlkit.table()
                for param, setting in value.items():
                    sub_source = "built-in" if built_in else sources.of((*path, param))
                    _put(sub, param, setting, sub_source)
                table.add(key, sub)
            else:
                _put(table, key, value, source)
        providers.add(name, table)
    return providers


def _key_note(kind: str, api_key_env: str | None) -> str | None:
    """``key: $OPENAI_API_KEY, set`` (or ``not set``) for a kind that sends a key."""
    from ..providers.http import HTTPModel  # httpx: not on a scripted start-up

    cls = backend_class(kind)
    if not issubclass(cls, HTTPModel):
        return None
    envs = (api_key_env,) if api_key_env else cls.api_key_envs
    if not envs:
        return None
    state = "set" if any(os.environ.get(env) for env in envs) else "not set"
    return f"key: {' or '.join(f'${env}' for env in envs)}, {state}"
