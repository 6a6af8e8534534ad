"""The words of the offline simulated models: a word-level Markov chain over a packaged
corpus, with tokenising that keeps punctuation, paragraphs and Markdown line markers, so a
simulated answer reads like prose and renders like a model's Markdown.

Pure and deterministic: a ``random.Random`` seeded by the caller drives every choice.
``simulated.py`` adds the timing and the chunking.
"""

from __future__ import annotations

import functools
import math
import random
import re
from collections.abc import Sequence
from importlib import resources

__all__ = [
    "SENTENCE_ENDS",
    "MarkovModel",
    "default_model",
    "load_corpus",
    "render",
    "to_pieces",
    "tokenize",
]

NEWLINES = frozenset({"\n", "\n\n"})
SENTENCE_ENDS = frozenset({".", "!", "?"})
PUNCTUATION = frozenset({",", ".", ";", ":", "!", "?"})
_BOUNDARIES = SENTENCE_ENDS | NEWLINES

_LINE_MARKER = re.compile(r"(#{1,6}|[-*]|\d+\.)\s+")
_TOKEN = re.compile(
    r"\*\*[^*\n]+?\*\*"  # a bold span stays one token so it can never be left open
    r"|`[^`\n]+`"
    r"|\d+(?:[.,:]\d+)*%?"
    r"|[^\W\d_](?:[\w'’-]*\w)?"
    r"|[.,;:!?]"
    r"|\S"
)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

# Words that say what kind of answer is wanted rather than what it is about.
_STOPWORD_TEXT = """
a an the and or but if then so of to in on at by for from with about into over under as
is are was were be been being am do does did have has had can could will would shall should
may might must i me my mine you your yours we us our they them their he him his she her it
its this that these those what which who whom whose when where why how there here not no
yes please write tell give make explain describe show list say create generate compose
some any one two three short long little bit few more most very just also like want need
let lets paragraph sentence sentences something anything everything nothing thing things
stuff
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_TOPIC_BOOST = 4.0


def _is_word(token: str) -> bool:
    return any(c.isalnum() for c in token)


def _in_heading(heading: bool, prev: str | None, tok: str) -> bool:
    """Whether ``tok`` is part of a Markdown heading line, given whether ``prev`` was."""
    if tok in NEWLINES:
        return False
    if tok.startswith("#") and (prev is None or prev in NEWLINES):
        return True
    return heading


def _words_of(token: str) -> list[str]:
    return _WORD.findall(token.lower())


def _pick(rng: random.Random, options: Sequence[str], topic: frozenset[str]) -> str:
    """Choose a successor, favouring ones that mention the prompt so the answer stays on topic."""
    if topic:
        weights = [_TOPIC_BOOST if topic.intersection(_words_of(o)) else 1.0 for o in options]
        if any(w != 1.0 for w in weights):
            return rng.choices(options, weights=weights)[0]
    return rng.choice(options)


def tokenize(text: str) -> list[str]:
    """Split text into words, punctuation marks and newline tokens.

    Punctuation and line breaks are tokens of their own so the chain learns where sentences and
    paragraphs end; ``"\\n"`` is a line break inside a verse or list, ``"\\n\\n"`` a paragraph
    break. Line-start Markdown markers (``#``, ``-``, ``1.``) are tokens too, so generated text
    keeps headings and bullet lists for a Markdown view to render.
    """
    tokens: list[str] = []
    pending_break: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            if tokens:
                pending_break = "\n\n"
            continue
        if tokens:
            tokens.append(pending_break or "\n")
        pending_break = None
        marker = _LINE_MARKER.match(stripped)
        if marker:
            tokens.append(marker.group(1))
            stripped = stripped[marker.end() :]
        tokens.extend(_TOKEN.findall(stripped))
    return tokens


def to_pieces(tokens: Sequence[str]) -> list[str]:
    """Give each token the leading space a subword tokenizer would: ``" water"``, ``","``."""
    pieces: list[str] = []
    prev: str | None = None
    for tok in tokens:
        if prev is None or prev in NEWLINES or tok in PUNCTUATION or tok in NEWLINES:
            pieces.append(tok)
        else:
            pieces.append(" " + tok)
        prev = tok
    return pieces


def render(tokens: Sequence[str]) -> str:
    """Join tokens into clean text (the inverse of :func:`tokenize`, up to whitespace)."""
    return "".join(to_pieces(tokens))


class MarkovModel:
    """Word-level order-2 Markov chain that backs off to order 1.

    On a corpus of a few thousand words order 2 mostly recites short runs and order 1 drifts
    into word salad; order 2 with an occasional order-1 hop after a word reads as plausible prose
    that still wanders between sentences. Each state also records whether it sits in a Markdown
    heading line, so a heading ends where headings end instead of running on as a sentence.
    Successor lists keep duplicates so choices are frequency-weighted, and they are built in
    corpus order so a seeded ``random.Random`` picks the same path in every process.
    """

    __slots__ = ("_order1", "_order2", "_positions", "_starts", "backoff", "tokens")

    def __init__(self, tokens: Sequence[str], *, backoff: float = 0.03) -> None:
        if not any(_is_word(t) for t in tokens):
            raise ValueError("a Markov model needs a corpus with at least one word")
        if not 0.0 <= backoff <= 1.0:
            raise ValueError(f"backoff must be within [0, 1], got {backoff}")
        self.tokens: tuple[str, ...] = tuple(tokens)
        self.backoff = backoff
        order1: dict[tuple[bool, str], list[str]] = {}
        order2: dict[tuple[bool, str, str], list[str]] = {}
        positions: dict[str, list[int]] = {}
        starts: list[int] = []
        toks = self.tokens
        heading = False
        for i, tok in enumerate(toks):
            if i >= 1:
                order1.setdefault((heading, toks[i - 1]), []).append(tok)
            if i >= 2:
                order2.setdefault((heading, toks[i - 2], toks[i - 1]), []).append(tok)
            heading = _in_heading(heading, toks[i - 1] if i else None, tok)
            for word in _words_of(tok):
                positions.setdefault(word, []).append(i)
            if (i == 0 or toks[i - 1] in _BOUNDARIES) and tok[:1].isupper():
                starts.append(i)
        if not starts:
            starts.append(next(i for i, t in enumerate(toks) if _is_word(t)))
        self._order1 = order1
        self._order2 = order2
        self._positions = positions
        self._starts = tuple(starts)

    @classmethod
    def from_text(cls, text: str) -> MarkovModel:
        """Build from raw corpus text, so tests can train on a few lines of their own."""
        return cls(tokenize(text))

    def vocabulary_count(self, word: str) -> int:
        """How often a lower-case word occurs in the corpus (0 when unknown)."""
        return len(self._positions.get(word.lower(), ()))

    def generate(self, rng: random.Random, *, prompt: str = "", max_words: int = 120) -> list[str]:
        """Tokens of one answer: starts near a prompt word, ends at a sentence end.

        The answer stops at the first sentence end once 80 % of ``max_words`` is reached, so
        it lands near the budget without cutting a sentence; a hard cap 50 % past the budget
        closes the sentence by force in case the chain wanders through a long list.
        """
        if max_words < 1:
            raise ValueError(f"max_words must be at least 1, got {max_words}")
        topic = frozenset(self._prompt_words(prompt))
        min_words = max(1, math.ceil(max_words * 0.8))
        hard_cap = max_words + max(10, max_words // 2)
        out = self._opening(rng, topic, hard_cap)
        heading = False
        for i, tok in enumerate(out):
            heading = _in_heading(heading, out[i - 1] if i else None, tok)
        words = sum(1 for t in out if _is_word(t))
        while not (out[-1] in SENTENCE_ENDS and words >= min_words):
            if words >= hard_cap:
                self._close(rng, out)
                break
            tok = self._next(rng, out, heading, topic)
            heading = _in_heading(heading, out[-1], tok)
            out.append(tok)
            words += _is_word(tok)
        first = out[0]
        if first[:1].islower():
            out[0] = first[:1].upper() + first[1:]
        return out

    def _next(
        self, rng: random.Random, out: Sequence[str], heading: bool, topic: frozenset[str]
    ) -> str:
        cur = out[-1]
        follow2 = self._order2.get((heading, out[-2], cur)) if len(out) > 1 else None
        follow1 = self._order1.get((heading, cur))
        if follow2 and not (follow1 and _is_word(cur) and rng.random() < self.backoff):
            return _pick(rng, follow2, topic)
        if follow1:
            return _pick(rng, follow1, topic)
        if cur not in SENTENCE_ENDS:
            return "."
        return self.tokens[rng.choice(self._starts)]

    def _close(self, rng: random.Random, out: list[str]) -> None:
        """End the answer with a period after its last word, dropping a dangling heading."""
        while True:
            while out and not _is_word(out[-1]):
                out.pop()
            line = len(out)
            while line > 0 and out[line - 1] not in NEWLINES:
                line -= 1
            if line < len(out) and out[line].startswith("#"):
                del out[line:]
                continue
            break
        if not out:
            out.append(self.tokens[rng.choice(self._starts)])
        out.append(".")

    def _opening(self, rng: random.Random, topic: frozenset[str], limit: int) -> list[str]:
        """The corpus run from a sentence start up to a prompt word, or a random sentence start.

        Copying the run verbatim keeps the opening grammatical and puts the prompt's topic in
        the first few words. Rare and long prompt words are preferred because they say more
        about the topic than short common ones ("gravity" over "work"), and so are places
        where other prompt words sit close by. Runs longer than ``limit`` words are skipped.
        """
        spans: list[tuple[int, int]] = []
        weights: list[float] = []
        for word in sorted(topic):
            rarity = len(word) ** 2 / self.vocabulary_count(word)
            word_spans = [(self._sentence_start(i), i) for i in self._positions[word]]
            near = [s for s in word_spans if s[1] - s[0] <= 8]
            if not near:
                shortest = min(end - start for start, end in word_spans)
                near = [s for s in word_spans if s[1] - s[0] == shortest]
            for start, end in near:
                if sum(1 for t in self.tokens[start : end + 1] if _is_word(t)) < limit:
                    spans.append((start, end))
                    weights.append(rarity * (1 + self._topic_words_near(start, topic)) ** 2)
        if not spans:
            return [self.tokens[rng.choice(self._starts)]]
        start, end = rng.choices(spans, weights=weights)[0]
        return list(self.tokens[start : end + 1])

    def _topic_words_near(self, start: int, topic: frozenset[str]) -> int:
        window = self.tokens[start : start + 16]
        return len({w for tok in window for w in _words_of(tok) if w in topic})

    def _prompt_words(self, prompt: str) -> list[str]:
        found: list[str] = []
        for raw in _words_of(prompt):
            if len(raw) < 3 or raw in _STOPWORDS:
                continue
            forms = (raw, raw[:-1]) if raw.endswith("s") else (raw, raw + "s")
            for form in forms:
                if form in self._positions and form not in found:
                    found.append(form)
                    break
        return found

    def _sentence_start(self, index: int) -> int:
        while index > 0 and self.tokens[index - 1] not in _BOUNDARIES:
            index -= 1
        return index


def load_corpus() -> str:
    """Read the packaged corpus through importlib.resources so wheels work, not just checkouts."""
    resource = resources.files("llmstream_tui.core").joinpath("corpus.txt")
    return resource.read_text(encoding="utf-8")


@functools.cache
def default_model() -> MarkovModel:
    """The model built from the packaged corpus, once per process, on first use."""
    return MarkovModel.from_text(load_corpus())
