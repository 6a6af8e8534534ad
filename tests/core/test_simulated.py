"""The offline simulated models: deterministic, clean text, and two visibly different paces."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmstream_tui.core.markov import (
    SENTENCE_ENDS,
    MarkovModel,
    default_model,
    load_corpus,
    render,
    tokenize,
)
from llmstream_tui.core.simulated import PROFILES, LatencyProfile, simulate

SONG = "Write me a 1 verse song about sparkling water."
PROMPTS = [
    SONG,
    "Tell me about the weather in cities",
    "How does gravity work?",
    "Explain streaming latency",
    "A recipe for tomato sauce, please",
    "xyzzy quux",
    "",
]
NO_SPLIT = dataclasses.replace(PROFILES["swift"], split_words=0.0)

Plan = list[tuple[float, str]]


def text_of(plan: Plan) -> str:
    return "".join(chunk for _, chunk in plan)


def words_of(text: str) -> list[str]:
    return [t for t in tokenize(text) if any(c.isalnum() for c in t)]


def split_boundaries(plan: Plan) -> int:
    """Chunk boundaries with a letter on both sides: the only way that happens is a split word."""
    return sum(
        1
        for (_, left), (_, right) in itertools.pairwise(plan)
        if left[-1].isalpha() and right[0].isalpha()
    )


def assert_clean(plan: Plan) -> None:
    assert plan
    assert all(chunk for _, chunk in plan), "a chunk is empty"
    assert all(math.isfinite(d) and d >= 0 for d, _ in plan)
    text = text_of(plan)
    assert text == text.strip()
    assert "  " not in text
    assert " \n" not in text and "\n " not in text
    assert "\n\n\n" not in text
    assert not re.search(r" [,.;:!?]", text), "space before punctuation"
    assert text[-1] in SENTENCE_ENDS
    assert text[0].isupper() or text[0] in "#-*"


# --- corpus and model -------------------------------------------------------------------------


def test_corpus_is_packaged_resource() -> None:
    resource = resources.files("llmstream_tui.core").joinpath("corpus.txt")
    assert resource.is_file()
    text = load_corpus()
    assert text == resource.read_text(encoding="utf-8")
    assert 2500 <= len(text.split()) <= 4000
    assert "\n## " in text and "\n- " in text and "**" in text


def test_tokenize_keeps_punctuation_and_paragraphs_and_round_trips() -> None:
    tokens = tokenize("## Tea\n\nSparkling water, oh **so bright**.\n- One.\n- Two!")
    assert tokens == [
        "##", "Tea", "\n\n", "Sparkling", "water", ",", "oh", "**so bright**", ".",
        "\n", "-", "One", ".", "\n", "-", "Two", "!",
    ]  # fmt: skip
    corpus_tokens = tokenize(load_corpus())
    assert render(corpus_tokens) == load_corpus().strip()


def test_the_default_model_is_built_once() -> None:
    assert default_model() is default_model()
    rebuilt = MarkovModel.from_text(load_corpus())
    assert rebuilt.generate(random.Random(5)) == default_model().generate(random.Random(5))


def test_model_rejects_an_empty_corpus() -> None:
    with pytest.raises(ValueError):
        MarkovModel.from_text(" .\n\n, ")


# --- determinism ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_same_inputs_give_the_same_plan_in_process(name: str) -> None:
    first = simulate(SONG, seed=7, profile=PROFILES[name])
    default_model.cache_clear()
    assert simulate(SONG, seed=7, profile=PROFILES[name]) == first


def test_same_inputs_give_the_same_plan_across_processes() -> None:
    code = (
        "import json, sys\n"
        "from llmstream_tui.core.simulated import PROFILES, simulate\n"
        "prompts = json.loads(sys.argv[1])\n"
        "print(json.dumps({f'{n}|{s}|{p}': simulate(p, seed=s, profile=PROFILES[n])\n"
        "    for n in sorted(PROFILES) for s in (0, 3) for p in prompts}))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "987"}
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(PROMPTS[:3])],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    ).stdout
    theirs = json.loads(out)
    ours = {
        f"{n}|{s}|{p}": [list(pair) for pair in simulate(p, seed=s, profile=PROFILES[n])]
        for n in sorted(PROFILES)
        for s in (0, 3)
        for p in PROMPTS[:3]
    }
    assert theirs == ours


def test_different_seeds_and_prompts_differ() -> None:
    steady = PROFILES["steady"]
    by_seed = {text_of(simulate(SONG, seed=s, profile=steady)) for s in range(6)}
    assert len(by_seed) == 6
    by_prompt = {text_of(simulate(p, profile=steady)) for p in PROMPTS}
    assert len(by_prompt) == len(PROMPTS)


def test_text_depends_on_prompt_and_seed_only_and_timing_on_profile_too() -> None:
    swift = simulate(SONG, seed=2, profile=PROFILES["swift"])
    steady = simulate(SONG, seed=2, profile=PROFILES["steady"])
    assert text_of(swift) == text_of(steady)
    assert [c for _, c in swift] != [c for _, c in steady]


# --- text -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PROFILES))
@pytest.mark.parametrize("prompt", PROMPTS)
def test_text_is_clean_and_joins_cleanly(name: str, prompt: str) -> None:
    assert_clean(simulate(prompt, seed=1, profile=PROFILES[name]))


@settings(max_examples=60, deadline=None)
@given(
    prompt=st.text(max_size=80),
    seed=st.integers(min_value=-(2**63), max_value=2**63),
    name=st.sampled_from(sorted(PROFILES)),
    max_words=st.integers(min_value=1, max_value=300),
)
def test_any_prompt_gives_a_clean_plan(prompt: str, seed: int, name: str, max_words: int) -> None:
    plan = simulate(prompt, seed=seed, profile=PROFILES[name], max_words=max_words)
    assert_clean(plan)
    count = len(words_of(text_of(plan)))
    assert math.ceil(0.8 * max_words) <= count <= max_words + max(10, max_words // 2)


@pytest.mark.parametrize("max_words", [1, 5, 40, 120, 400])
def test_answer_ends_near_max_words(max_words: int) -> None:
    for seed in range(5):
        plan = simulate(SONG, seed=seed, profile=PROFILES["steady"], max_words=max_words)
        count = len(words_of(text_of(plan)))
        assert math.ceil(0.8 * max_words) <= count <= max_words + max(10, max_words // 2)
        assert text_of(plan)[-1] in SENTENCE_ENDS


def test_max_words_must_be_positive() -> None:
    with pytest.raises(ValueError):
        simulate(SONG, profile=PROFILES["swift"], max_words=0)


@pytest.mark.parametrize(
    ("prompt", "word"),
    [
        ("Tell me about gravity", "gravity"),
        ("What is oolong?", "oolong"),
        ("Why is there thunder", "thunder"),
        ("How do I make tomato sauce?", "tomato"),
        ("something about terminals please", "terminals"),
        ("Explain the bubbles in soda", "bubbles"),
    ],
)
def test_prompt_words_found_in_the_corpus_open_the_answer(prompt: str, word: str) -> None:
    for seed in range(4):
        opening = [
            w.lower() for w in words_of(text_of(simulate(prompt, seed=seed, profile=NO_SPLIT)))
        ]
        assert word in opening[:12], (seed, opening[:12])


def test_song_prompt_opens_on_topic() -> None:
    topic = {"sparkling", "water", "verse", "song"}
    for seed in range(8):
        opening = {
            w.lower() for w in words_of(text_of(simulate(SONG, seed=seed, profile=NO_SPLIT)))[:12]
        }
        assert opening & topic, seed


# --- chunks and timing ------------------------------------------------------------------------


def test_swift_splits_words_and_steady_never_does() -> None:
    swift = sum(split_boundaries(simulate(p, profile=PROFILES["swift"])) for p in PROMPTS)
    assert swift >= 10
    assert PROFILES["steady"].split_words == 0
    for prompt in PROMPTS:
        assert split_boundaries(simulate(prompt, profile=PROFILES["steady"])) == 0
        assert split_boundaries(simulate(prompt, profile=NO_SPLIT)) == 0


def test_sparkling_splits_like_a_subword_tokenizer() -> None:
    always = dataclasses.replace(PROFILES["swift"], split_words=1.0, chunk_words=(1, 1))
    chunks = [c for _, c in simulate("sparkling", profile=always, max_words=20)]
    assert any(a.endswith("park") and b == "ling" for a, b in itertools.pairwise(chunks))


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_chunks_carry_at_most_chunk_words_pieces(name: str) -> None:
    profile = dataclasses.replace(PROFILES[name], split_words=0.0)
    for prompt in PROMPTS:
        for _, chunk in simulate(prompt, profile=profile):
            assert len(tokenize(chunk)) <= profile.chunk_words[1], chunk


def test_profiles_differ_in_the_documented_direction() -> None:
    swift, steady = PROFILES["swift"], PROFILES["steady"]
    assert swift.ttft_ms < steady.ttft_ms and swift.chunks_per_s > steady.chunks_per_s
    assert swift.jitter > steady.jitter

    def stats(profile: LatencyProfile) -> tuple[list[float], list[float], list[int], int]:
        ttfts: list[float] = []
        gaps: list[float] = []
        sizes: list[int] = []
        for seed in range(4):
            for prompt in PROMPTS:
                plan = simulate(prompt, seed=seed, profile=profile)
                ttfts.append(plan[0][0])
                gaps.extend(d for d, _ in plan[1:])
                sizes.extend(len(c) for _, c in plan)
        return ttfts, gaps, sizes, len(sizes)

    fast_ttft, fast_gaps, fast_sizes, fast_count = stats(swift)
    slow_ttft, slow_gaps, slow_sizes, slow_count = stats(steady)

    assert max(fast_ttft) < min(slow_ttft)
    assert statistics.mean(fast_ttft) == pytest.approx(0.250, rel=0.15)
    assert statistics.mean(slow_ttft) == pytest.approx(0.900, rel=0.05)
    assert statistics.mean(fast_gaps) == pytest.approx(1 / 60, rel=0.1)
    assert statistics.mean(slow_gaps) == pytest.approx(1 / 25, rel=0.05)
    assert statistics.mean(fast_sizes) < statistics.mean(slow_sizes)
    assert fast_count > slow_count

    def cv(xs: list[float]) -> float:
        return statistics.stdev(xs) / statistics.mean(xs)

    assert cv(fast_gaps) == pytest.approx(swift.jitter, rel=0.25)
    assert cv(slow_gaps) == pytest.approx(steady.jitter, rel=0.25)
    assert cv(fast_gaps) > 3 * cv(slow_gaps)


def test_zero_jitter_gives_constant_gaps() -> None:
    profile = dataclasses.replace(PROFILES["steady"], jitter=0.0)
    plan = simulate(SONG, profile=profile)
    assert plan[0][0] == profile.ttft_ms / 1000
    assert {d for d, _ in plan[1:]} == {1 / profile.chunks_per_s}


# --- profile validation -----------------------------------------------------------------------


def test_profiles_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROFILES["swift"].ttft_ms = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "change",
    [
        {"ttft_ms": -1.0},
        {"ttft_ms": math.inf},
        {"chunks_per_s": 0.0},
        {"jitter": 1.5},
        {"jitter": math.nan},
        {"chunk_words": (0, 2)},
        {"chunk_words": (3, 2)},
        {"split_words": -0.1},
    ],
)
def test_profile_rejects_nonsense(change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(PROFILES["steady"], **change)  # type: ignore[arg-type]
