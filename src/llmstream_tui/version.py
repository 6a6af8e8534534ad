"""The installed version, read once from the package metadata.

``pyproject.toml`` is the one place the version is written; everything that shows it (the
package's ``__version__``, recordings' ``generator``, the HTTP ``User-Agent``) reads it here.
A leaf module, so any layer may import it.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Final


def _installed_version() -> str:
    try:
        return version("llmstream-tui")
    except PackageNotFoundError:  # a source tree on sys.path without an install
        return "0+unknown"


VERSION: Final = _installed_version()
