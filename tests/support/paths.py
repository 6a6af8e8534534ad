"""Where the shared test material lives: ``shared/wire`` beside the repository (CI clones
main with ``shared/`` next to it), or ``$LLMSTREAM_WIRE_DIR``. Missing material is an error,
never an empty parametrisation that would silently test nothing."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _wire_dir() -> Path:
    env = os.environ.get("LLMSTREAM_WIRE_DIR")
    path = Path(env) if env else REPO.parent / "shared" / "wire"
    if not (path / "README.md").is_file():
        raise RuntimeError(f"recorded provider streams not found at {path} "
                           "(set LLMSTREAM_WIRE_DIR)")
    return path


WIRE = _wire_dir()
