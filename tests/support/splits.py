"""Ways to cut a byte stream into reads, shared by the decoder tests: byte by byte, at
random points (seeded), at given points; and a way to time large inputs fairly."""

from __future__ import annotations

import ctypes
import random
from collections.abc import Callable, Iterable


def bytewise(stream: bytes) -> list[bytes]:
    return [stream[i : i + 1] for i in range(len(stream))]


def random_pieces(stream: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(stream)), k=min(len(stream) - 1, rng.randint(1, 64))))
    return [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]


def split_at(stream: bytes, cuts: Iterable[int]) -> list[bytes]:
    points = sorted({min(max(c, 0), len(stream)) for c in cuts})
    return [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]


def release_free_memory() -> None:
    """Hand the allocator's cached free pages back to the OS (glibc only; else a no-op).

    Timed runs call this first so that a small and a large run both pay for fresh pages;
    otherwise the small one reuses warm memory and the size ratio overstates the cost.
    """
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def assert_linear(
    seconds: Callable[[int], float], small: int = 4 * 1024 * 1024, factor: int = 8
) -> None:
    """``seconds(size)`` for ``factor`` times the size must cost less than twice ``factor``
    times as much: linear with room for noise, far from quadratic (which would be ``factor``
    squared). Three attempts, since a shared machine can stall one run."""
    attempts = []
    for _ in range(3):
        a, b = seconds(small), seconds(small * factor)
        attempts.append((a, b))
        if b < 2 * factor * a:
            return
    raise AssertionError(f"not linear: seconds per attempt (size, {factor}x size): {attempts}")
