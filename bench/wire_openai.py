"""The OpenAI family of ``bench/wire.py`` alone: issue 3's Speed figures (50,000 chat
chunks: floor, our ``openai-chat``, the official SDK, langchain-openai; both framings).

Run: ``python -m bench.wire_openai`` (takes ``bench.wire``'s options but ``--family``).
"""

from __future__ import annotations

import sys

from . import wire
from .common import Row


def run(
    smoke: bool = False,
    chunks: int = wire.CHUNKS,
    repeats: int = wire.REPEATS,
    framings: tuple[str, ...] = wire.FRAMINGS,
) -> list[Row]:
    return wire.run(smoke, chunks, repeats, ("openai",), framings)


if __name__ == "__main__":
    sys.exit(wire.main(families=("openai",)))
