"""Our runnable layer against langchain-core 1.7 on the same chunks.

Each test runs a LangChain reference model (tests/core/lc_reference.py) and our ``scripted``
backend with the same chunks, run id and run name, and compares outputs and event dicts
field for field (LangChain's own ``lc_versions``/``ls_integration`` metadata aside).
"""

from __future__ import annotations

import uuid
import warnings
from typing import Any

import pytest

from llmstream_tui import build_llm

from .lc_reference import (
    RefChat,
    RefChatNoStream,
    RefLLM,
    RefLLMNoStream,
    normalise,
    normalise_event,
)

CHUNKS = ["", "Spark", "ling", " water", ",", " oh", " so clear", "\n", "✨"]

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def ours(flavor: str, *, stream: bool = True, chunks: list[str] = CHUNKS, **kw: Any) -> Any:
    return build_llm(
        {"kind": "scripted", "chunks": chunks, "flavor": flavor, "stream": stream, **kw}, name="x"
    )


def reference(flavor: str, *, stream: bool = True, chunks: list[str] = CHUNKS, **kw: Any) -> Any:
    cls = {
        ("chat", True): RefChat,
        ("chat", False): RefChatNoStream,
        ("llm", True): RefLLM,
        ("llm", False): RefLLMNoStream,
    }[(flavor, stream)]
    return cls(chunks=chunks, **kw)


async def collect_events(model: Any, value: Any, version: str, **kw: Any) -> list[dict[str, Any]]:
    config = {"run_id": RUN_ID, "run_name": "x", "tags": ["t"], "metadata": {"k": 1}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [
            normalise_event(e)
            async for e in model.astream_events(value, config, version=version, **kw)
        ]


RUN_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("flavor", ["chat", "llm"])
@pytest.mark.parametrize("stream", [True, False])
async def test_events_match_langchain(version: str, flavor: str, stream: bool) -> None:
    expected = await collect_events(reference(flavor, stream=stream), "hi", version)
    got = await collect_events(ours(flavor, stream=stream), "hi", version)
    assert got == expected


async def test_non_streaming_root_emits_no_stream_events_in_v2() -> None:
    events = await collect_events(ours("chat", stream=False), "hi", "v2")
    assert [e["event"] for e in events] == ["on_chat_model_start", "on_chat_model_end"]


async def test_chat_message_list_input_is_passed_raw_to_start_event() -> None:
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    expected = await collect_events(reference("chat"), messages, "v2")
    got = await collect_events(ours("chat"), messages, "v2")
    assert got == expected
    assert got[0]["data"]["input"] == messages


FILTERS: list[dict[str, Any]] = [
    {"include_names": ["x"]},
    {"include_names": ["other"]},
    {"include_types": ["chat_model"]},
    {"include_types": ["llm"]},
    {"include_tags": ["t"]},
    {"include_tags": ["nope"], "include_names": ["x"]},
    {"exclude_names": ["x"]},
    {"include_names": ["x"], "exclude_tags": ["t"]},
    {"include_tags": ["t"], "exclude_types": ["chat_model"]},
    {"exclude_tags": ["other"]},
]


@pytest.mark.parametrize("filters", FILTERS, ids=[str(f) for f in FILTERS])
async def test_filters_combine_as_langchain(filters: dict[str, Any]) -> None:
    expected = await collect_events(reference("chat"), "hi", "v2", **filters)
    got = await collect_events(ours("chat"), "hi", "v2", **filters)
    assert got == expected


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("flavor", ["chat", "llm"])
async def test_error_leaves_iterator_after_events_already_emitted(
    version: str, flavor: str
) -> None:
    async def run(model: Any) -> tuple[list[dict[str, Any]], BaseException | None]:
        seen: list[dict[str, Any]] = []
        config = {"run_id": RUN_ID, "run_name": "x"}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                async for e in model.astream_events("hi", config, version=version):
                    seen.append(normalise_event(e))
        except Exception as exc:  # noqa: BLE001  # both sides' exceptions are compared below
            return seen, exc
        return seen, None

    expected, lc_exc = await run(reference(flavor, fail_at=3))
    got, our_exc = await run(ours(flavor, fail_at=3))
    assert lc_exc is not None and our_exc is not None
    assert got == expected
    assert not any(e["event"].endswith("_error") for e in got)
    assert getattr(our_exc, "partial_text", None) == "".join(CHUNKS[:3])


@pytest.mark.parametrize("flavor", ["chat", "llm"])
@pytest.mark.parametrize("stream", [True, False])
async def test_astream_yields_what_langchain_yields(flavor: str, stream: bool) -> None:
    config = {"run_id": RUN_ID}
    expected = [normalise(c) async for c in reference(flavor, stream=stream).astream("hi", config)]
    got = [normalise(c) async for c in ours(flavor, stream=stream).astream("hi", config)]
    assert got == expected
    if not stream:
        assert len(got) == 1


@pytest.mark.parametrize("flavor", ["chat", "llm"])
async def test_ainvoke_returns_what_langchain_returns(flavor: str) -> None:
    config = {"run_id": RUN_ID}
    expected = normalise(await reference(flavor).ainvoke("hi", config))
    got = normalise(await ours(flavor).ainvoke("hi", config))
    if flavor == "chat":
        # LangChain's reference ainvoke does not stream; the message class differs
        # (AIMessage both), ids follow the same ``lc_run--<run id>-0`` rule.
        assert got["class"] == expected["class"] == "AIMessage"
    assert got == expected


async def test_sync_stream_wraps_astream_as_in_origin_example() -> None:
    llm = ours("chat", chunks=["Spark", "ling", " water"])
    # The reference has only ``_astream``, so compare with its async stream.
    ref = reference("chat", chunks=["Spark", "ling", " water"])
    expected = "".join([f"{c.content}|" async for c in ref.astream("x")])
    printed = "".join(f"{c.content}|" for c in llm.stream("sparkling water"))
    assert printed == expected == "Spark|ling| water||"
