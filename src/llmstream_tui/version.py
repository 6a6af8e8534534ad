"""The version, written here and nowhere else.

The build reads it from this line (``[tool.hatch.version]`` in pyproject.toml), so the
distribution's metadata, the package's ``__version__``, ``llmstream-tui --version``,
recordings' ``generator`` and the HTTP ``User-Agent`` all show the same string, in an
installed wheel and in a source tree alike. A leaf module, so any layer may import it.
"""

from __future__ import annotations

from typing import Final

VERSION: Final = "0.1.0"
