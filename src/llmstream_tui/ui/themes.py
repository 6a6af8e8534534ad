"""Theme files: TOML in ``themes/`` (shipped) and in the user themes dir, as Textual themes.

A theme file is a flat table of Textual's theme colours plus a ``[variables]`` table for our
own (the delimiter colour, the two chunk tints, one colour per pane state and per event
kind) and for any of Textual's component variables::

    name = "llmstream-dark"
    dark = true
    primary = "#5fa8ff"
    background = "#101418"
    [variables]
    delimiter = "#f5a742"
    chunk-tint-a = "#2a4a7a 45%"

Every value is checked when the file is read, so a typo is reported with the file and the
key (and the app falls back to the default theme) rather than failing when CSS is applied:
the theme colours by ``Color.parse``; the app's variables as colours (``COLOR`` or
``COLOR NN%``); each of Textual's own component variables (``scrollbar``,
``block-cursor-text-style``...) by Textual's CSS parser, in a declaration of the kind its
default value is (a colour, or a text style). A variable neither the app nor Textual knows
is used by no stylesheet: it is kept as it is.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from textual.app import App
from textual.color import Color, ColorParseError
from textual.css.stylesheet import Stylesheet, StylesheetParseError
from textual.theme import Theme

from .. import locations

DEFAULT_THEME = "llmstream-dark"

#: The app's own theme variables and their fallbacks (used by themes that do not set them,
#: e.g. Textual's built-in ones). Dark and light fallbacks differ only in contrast.
APP_VARIABLES_DARK: dict[str, str] = {
    "delimiter": "#f5a742",
    "chunk-tint-a": "#3b6ab8 35%",
    "chunk-tint-b": "#3ba86a 30%",
    "state-idle": "#8a8f98",
    "state-waiting": "#e0b341",
    "state-streaming": "#4fa3ff",
    "state-done": "#4ebf71",
    "state-error": "#f0506e",
    "state-cancelled": "#b48ead",
    "event-start": "#56b6c2",
    "event-stream": "#8a8f98",
    "event-end": "#4ebf71",
    "event-error": "#f0506e",
    "best": "#4ebf71",
}
APP_VARIABLES_LIGHT: dict[str, str] = {
    "delimiter": "#c05a00",
    "chunk-tint-a": "#3b6ab8 18%",
    "chunk-tint-b": "#2f9a5c 18%",
    "state-idle": "#6a6f78",
    "state-waiting": "#9a6d00",
    "state-streaming": "#1f5fbf",
    "state-done": "#237a3f",
    "state-error": "#c0213f",
    "state-cancelled": "#7a4f90",
    "event-start": "#11707d",
    "event-stream": "#6a6f78",
    "event-end": "#237a3f",
    "event-error": "#c0213f",
    "best": "#237a3f",
}
APP_VARIABLE_NAMES = frozenset(APP_VARIABLES_DARK)

_COLOR_KEYS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_OTHER_KEYS = {"name": str, "dark": bool, "luminosity_spread": float, "text_alpha": float}


class ThemeFileError(ValueError):
    """A theme file that cannot be used; the message names the file and the key."""


def _check_color(value: object, where: str, *, keywords: Collection[str] = ()) -> str:
    """Accept ``COLOR`` or ``COLOR NN%`` (what Textual CSS accepts for a colour variable);
    ``keywords`` may stand for the colour (Textual's ``auto``, ``initial``)."""
    if not isinstance(value, str) or not value.strip():
        raise ThemeFileError(f"{where}: expected a colour string, got {value!r}")
    parts = value.split()
    if len(parts) > 2:
        raise ThemeFileError(f"{where}: not a colour: {value!r}")
    if parts[0] not in keywords:
        try:
            Color.parse(parts[0])
        except ColorParseError:
            raise ThemeFileError(f"{where}: not a colour: {value!r}") from None
    if len(parts) == 2:
        pct = parts[1]
        try:
            ok = pct.endswith("%") and 0 <= float(pct[:-1]) <= 100
        except ValueError:
            ok = False
        if not ok:
            raise ThemeFileError(f"{where}: bad opacity {pct!r} in {value!r} (use e.g. 40%)")
    return value


@cache
def _textual_variables() -> dict[str, str]:
    """Textual's component variables and the kind of value each takes (``color`` or
    ``text-style``), told by the value Textual itself gives it."""
    generated = Theme(name="_", primary="#5fa8ff").to_color_system().generate()
    return {name: "text-style" if name.endswith("-style") else "color" for name in generated}


def _textual_accepts(prop: str, value: str) -> bool:
    """Whether Textual's CSS parser takes ``value`` as a ``$variable`` in ``prop``: what
    applying the theme will do with it (a value it refuses stops the app)."""
    sheet = Stylesheet(variables={"v": value})
    sheet.add_source(f"Widget {{ {prop}: $v; }}", read_from=("theme", ""))
    try:
        sheet.parse()
    except StylesheetParseError:
        return False
    return True


def _check_variable(key: str, value: object, where: str) -> str:
    """One ``[variables]`` entry (see the module docstring)."""
    kind = "color" if key in APP_VARIABLE_NAMES else _textual_variables().get(key)
    if kind is None:
        if "color" in key or "background" in key or "foreground" in key:
            return _check_color(value, where)
        if not isinstance(value, str):
            raise ThemeFileError(f"{where}: expected a string")
        return value
    if kind == "text-style":
        if not isinstance(value, str) or not _textual_accepts("text-style", value):
            raise ThemeFileError(f"{where}: not a text style: {value!r} (e.g. bold, b reverse)")
        return value
    keywords = () if key in APP_VARIABLE_NAMES else ("auto", "initial")
    checked = _check_color(value, where, keywords=keywords)
    if not _textual_accepts("color", checked):
        raise ThemeFileError(f"{where}: not a colour: {value!r}")
    return checked


def theme_from_table(table: dict[str, Any], where: str) -> Theme:
    """A Textual ``Theme`` from a parsed theme file; ``ThemeFileError`` on any problem."""
    unknown = set(table) - set(_COLOR_KEYS) - set(_OTHER_KEYS) - {"variables"}
    if unknown:
        raise ThemeFileError(f"{where}: unknown key {min(unknown)!r}")
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ThemeFileError(f"{where}: name: missing")
    if "primary" not in table:
        raise ThemeFileError(f"{where}: primary: missing")
    kwargs: dict[str, Any] = {}
    for key in _COLOR_KEYS:
        if key in table:
            kwargs[key] = _check_color(table[key], f"{where}: {key}")
    for key, typ in _OTHER_KEYS.items():
        if key in table and key != "name":
            value = table[key]
            if typ is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, typ):
                raise ThemeFileError(f"{where}: {key}: expected {typ.__name__}")
            kwargs[key] = value
    variables = table.get("variables", {})
    if not isinstance(variables, dict):
        raise ThemeFileError(f"{where}: variables: expected a table")
    checked = {
        key: _check_variable(key, value, f"{where}: variables.{key}")
        for key, value in variables.items()
    }
    return Theme(name=name.strip(), variables=checked, **kwargs)


def load_theme_file(path: Path) -> Theme:
    try:
        with path.open("rb") as fh:
            table = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(f"{path}: TOML syntax error: {exc}") from None
    except OSError as exc:
        raise ThemeFileError(f"{path}: cannot read: {exc.strerror}") from None
    return theme_from_table(table, str(path))


def load_themes(dirs: Iterable[Path]) -> tuple[list[Theme], list[str]]:
    """Every ``*.toml`` theme in ``dirs`` (later dirs override earlier ones by name), and one
    message per file that could not be used."""
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ThemeFileError as exc:
                problems.append(str(exc))
                continue
            themes[theme.name] = theme
    return list(themes.values()), problems


def app_variable_defaults(dark: bool) -> dict[str, str]:
    return dict(APP_VARIABLES_DARK if dark else APP_VARIABLES_LIGHT)


def choose_theme(
    available: Collection[str], configured: str, remembered: object, *, explicit: bool
) -> tuple[str, str | None]:
    """The theme to start with, and why it is not the one wanted (or None).

    The config's theme wins when the user set it (``explicit``); otherwise the one
    remembered from the last run (the theme picker's choice), then the config's default. A
    theme that is not available falls back to :data:`DEFAULT_THEME`, or to Textual's own
    dark theme if ours are missing too.
    """
    wanted = configured
    if not explicit and isinstance(remembered, str):
        wanted = remembered
    if wanted in available:
        return wanted, None
    fallback = DEFAULT_THEME if DEFAULT_THEME in available else "textual-dark"
    return fallback, f"theme {wanted!r} not found; using {DEFAULT_THEME}"


def install_themes(
    app: App[Any], configured: str, remembered: object, *, explicit: bool
) -> list[str]:
    """Register the shipped themes and the user's on ``app`` (a user theme overrides a
    shipped one of the same name) and switch to the one to start with (:func:`choose_theme`).
    Returns what to tell the user: each theme file skipped, a theme not found."""
    themes, skipped = load_themes([locations.bundled_themes_dir(), locations.user_themes_dir()])
    for theme in themes:
        app.register_theme(theme)
    problems = [f"theme file skipped: {p}" for p in skipped]
    app.theme, problem = choose_theme(
        app.available_themes, configured, remembered, explicit=explicit
    )
    if problem:
        problems.append(problem)
    return problems
