"""Where configuration, data and themes live (platformdirs), and the environment knobs.

Each knob is read here and nowhere else, so the README's table and the code cannot drift.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from platformdirs import user_config_dir, user_data_dir

APP_NAME: Final = "llmstream-tui"

#: Path of the TOML config file, when not given with ``--config``.
CONFIG_FILE_ENV: Final = "LLMSTREAM_CONFIG_FILE"
#: Override of the data directory (history database, user themes, prompt history).
DATA_DIR_ENV: Final = "LLMSTREAM_DATA_DIR"


def default_config_file() -> Path:
    """``$LLMSTREAM_CONFIG_FILE``, else ``<user config dir>/llmstream-tui/config.toml``."""
    env = os.environ.get(CONFIG_FILE_ENV)
    if env:
        return Path(env).expanduser()
    return Path(user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def data_dir() -> Path:
    """``$LLMSTREAM_DATA_DIR``, else the platform's user data dir for the app."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path(user_data_dir(APP_NAME, appauthor=False))


def user_themes_dir() -> Path:
    return data_dir() / "themes"


def bundled_themes_dir() -> Path:
    """``themes/`` shipped with the package (a wheel carries it inside the package);
    in a source checkout, the repository's top-level ``themes/``."""
    inside = Path(__file__).resolve().parent / "themes"
    if inside.is_dir():
        return inside
    return Path(__file__).resolve().parents[2] / "themes"


def bundled_config_example() -> Path:
    """``config.example.toml``, every key documented: a wheel carries it inside the package
    (``data/``); in a source checkout (or an editable install) it is the repository's
    top-level file, the one copy there is."""
    inside = Path(__file__).resolve().parent / "data" / "config.example.toml"
    if inside.is_file():
        return inside
    return Path(__file__).resolve().parents[2] / "config.example.toml"
