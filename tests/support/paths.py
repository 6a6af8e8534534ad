"""Where the test material lives: ``tests/fixtures/`` inside the repository, and nowhere else.

Every file a test reads is in the clone (the recorded provider streams are in
``tests/fixtures/wire/``, with their origins in its ``NOTICE``), so the suite passes on any
fresh clone with no network. Missing material is an error at import, never an empty
parametrisation that would silently test nothing.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
WIRE = FIXTURES / "wire"

if not (WIRE / "NOTICE").is_file():
    raise RuntimeError(f"the recorded provider streams are missing from {WIRE}")
