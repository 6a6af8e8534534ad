"""Offline "simulated" models: a Markov chain for the words, a latency profile for the timing.

The words come from ``markov.py``; this module adds the pacing and the chunking.

The app has to look alive with no network and no API key, and two side-by-side panes have to
differ visibly. So the default providers answer from a packaged corpus with a word-level Markov
chain and replay the answer on a schedule drawn from a :class:`LatencyProfile`.

Everything here is pure and deterministic: :func:`simulate` returns the whole plan (delay before
each chunk, chunk text) up front, and the same prompt, seed and profile give the same plan in
every process. Callers do the sleeping. The randomness is seeded from SHA-256, never from the
built-in ``hash``, which is salted per process.

The text depends only on (prompt, seed); the chunking and timing also depend on the profile.
Two profiles with the same seed therefore stream the same answer cut and paced differently;
give each simulated model its own seed when they should say different things.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from .markov import default_model, to_pieces

__all__ = ["PROFILES", "LatencyProfile", "simulate"]

_VOWELS = frozenset("aeiouy")
_SUFFIXES = ("ling", "ing", "tion", "sion", "ness", "ment", "able", "ful", "ly", "ed", "s")


@dataclass(frozen=True)
class LatencyProfile:
    """How a simulated model paces and cuts its stream.

    ``jitter`` is the relative standard deviation of the gaps between chunks (gaps are
    log-normal, so they stay positive and have the occasional long stall real streams show);
    the time to first token gets a quarter of that spread. ``chunk_words`` bounds how many
    pieces (a word with its leading space, or a punctuation mark, or a line break) one chunk
    carries. ``split_words`` is the chance that a chunk ending on a long word ends inside it
    instead, as subword tokenizers do: ``"Spark"``, ``"ling"``.
    """

    ttft_ms: float
    chunks_per_s: float
    jitter: float
    chunk_words: tuple[int, int]
    split_words: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.ttft_ms) and self.ttft_ms >= 0):
            raise ValueError(f"ttft_ms must be a finite number >= 0, got {self.ttft_ms}")
        if not (math.isfinite(self.chunks_per_s) and self.chunks_per_s > 0):
            raise ValueError(f"chunks_per_s must be a finite number > 0, got {self.chunks_per_s}")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter must be within [0, 1], got {self.jitter}")
        low, high = self.chunk_words
        if not 1 <= low <= high:
            raise ValueError(f"chunk_words must satisfy 1 <= min <= max, got {self.chunk_words}")
        if not 0.0 <= self.split_words <= 1.0:
            raise ValueError(f"split_words must be within [0, 1], got {self.split_words}")

    def _seed_key(self) -> str:
        low, high = self.chunk_words
        return (
            f"{float(self.ttft_ms)!r}/{float(self.chunks_per_s)!r}/{float(self.jitter)!r}/"
            f"{int(low)}-{int(high)}/{float(self.split_words)!r}"
        )


PROFILES: dict[str, LatencyProfile] = {
    # Quick to start, fast and bursty, small subword-sized chunks.
    "swift": LatencyProfile(
        ttft_ms=250.0, chunks_per_s=60.0, jitter=0.7, chunk_words=(1, 2), split_words=0.35
    ),
    # Slow to start, then an even cadence of whole words.
    "steady": LatencyProfile(
        ttft_ms=900.0, chunks_per_s=25.0, jitter=0.1, chunk_words=(1, 3), split_words=0.0
    ),
}


def _stable_seed(*parts: str) -> int:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def _split_point(body: str, rng: random.Random) -> int:
    """Where a subword tokenizer might cut: before a common suffix, else between consonants."""
    lower = body.lower()
    for suffix in _SUFFIXES:
        if lower.endswith(suffix) and len(body) - len(suffix) >= 3:
            return len(body) - len(suffix)
    cuts = range(3, len(body) - 2)
    between = [i for i in cuts if lower[i - 1] not in _VOWELS and lower[i] not in _VOWELS]
    return rng.choice(between or cuts)


def _splittable(piece: str) -> bool:
    body = piece.lstrip(" ")
    return len(body) >= 7 and body.isalpha()


def _chunk(pieces: Sequence[str], profile: LatencyProfile, rng: random.Random) -> list[str]:
    low, high = profile.chunk_words
    queue = list(reversed(pieces))
    chunks: list[str] = []
    while queue:
        taken = [queue.pop() for _ in range(min(rng.randint(low, high), len(queue)))]
        last = taken[-1]
        if profile.split_words > 0 and _splittable(last) and rng.random() < profile.split_words:
            body = last.lstrip(" ")
            cut = len(last) - len(body) + _split_point(body, rng)
            taken[-1] = last[:cut]
            queue.append(last[cut:])
        chunks.append("".join(taken))
    return chunks


def _spread(rng: random.Random, relative_sd: float) -> float:
    """A log-normal factor with mean 1 and the given relative standard deviation."""
    if relative_sd <= 0:
        return 1.0
    sigma_sq = math.log1p(relative_sd * relative_sd)
    return rng.lognormvariate(-sigma_sq / 2, math.sqrt(sigma_sq))


def simulate(
    prompt: str, *, seed: int = 0, profile: LatencyProfile, max_words: int = 120
) -> list[tuple[float, str]]:
    """Plan a whole simulated answer as ``(delay_seconds_before_chunk, chunk_text)`` pairs.

    The first delay is the time to first token, the rest are the gaps between chunks. Joining
    the chunk texts gives the answer; no chunk is empty. The plan is computed eagerly because it
    is small (a few hundred pairs) and a plain list is trivial to test, replay and cancel.
    """
    model = default_model()
    text_rng = random.Random(_stable_seed("text", str(seed), prompt))
    pieces = to_pieces(model.generate(text_rng, prompt=prompt, max_words=max_words))
    timing_rng = random.Random(_stable_seed("timing", str(seed), profile._seed_key(), prompt))
    chunks = _chunk(pieces, profile, timing_rng)
    ttft = profile.ttft_ms / 1000.0 * _spread(timing_rng, profile.jitter / 4)
    gap = 1.0 / profile.chunks_per_s
    delays = [ttft] + [gap * _spread(timing_rng, profile.jitter) for _ in chunks[1:]]
    return list(zip(delays, chunks, strict=True))
