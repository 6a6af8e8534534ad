"""Where the shared test material lives: ``$LLMSTREAM_WIRE_DIR``, else ``shared/wire``
beside the repository (CI clones main with ``shared/`` next to it), else the team's
``/work/shared/wire``. Missing material is an error, never an empty parametrisation that
would silently test nothing."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _wire_dir() -> Path:
    env = os.environ.get("LLMSTREAM_WIRE_DIR")
    candidates = (
        [Path(env)] if env else [REPO.parent / "shared" / "wire", Path("/work/shared/wire")]
    )
    for path in candidates:
        if (path / "README.md").is_file():
            return path
    raise RuntimeError(
        f"recorded provider streams not found at {candidates[0]} (set LLMSTREAM_WIRE_DIR)"
    )


WIRE = _wire_dir()
