"""Run-time checks that narrow what the Runnable interface leaves open, for tests that know
which flavour of model they hold.

A backend class (``OpenAIChatModel``, ``ReplayModel``, ...) is typed for either flavour,
since the flavour is a setting: ``astream`` yields ``AIMessageChunk | str``, ``ainvoke``
returns ``AIMessage | str`` and an end event's ``data["output"]`` is ``object``. Each helper
checks the value with ``isinstance`` (so a model of the wrong flavour fails the test rather
than passing by accident) and hands back the narrow type.
"""

from __future__ import annotations

from typing import Any

from llmstream_tui.core.backend import ModelInput, RunnableConfig
from llmstream_tui.core.messages import AIMessage, AIMessageChunk
from llmstream_tui.core.runnable import LanguageModel


async def stream_chunks(
    model: LanguageModel[Any, Any],
    input: ModelInput = "hi",
    config: RunnableConfig | None = None,
    **kwargs: Any,
) -> list[AIMessageChunk]:
    """Every chunk of one streamed chat run, each checked to be an ``AIMessageChunk``. (A run
    that does not really stream yields one ``AIMessage``, which fails here: use
    ``chat_message`` on it.)"""
    chunks: list[AIMessageChunk] = []
    async for chunk in model.astream(input, config, **kwargs):
        assert isinstance(chunk, AIMessageChunk)
        chunks.append(chunk)
    return chunks


async def stream_texts(
    model: LanguageModel[Any, Any],
    input: ModelInput = "hi",
    config: RunnableConfig | None = None,
    **kwargs: Any,
) -> list[str]:
    """Every piece of one text LLM run, each checked to be a ``str``."""
    pieces: list[str] = []
    async for piece in model.astream(input, config, **kwargs):
        assert isinstance(piece, str)
        pieces.append(piece)
    return pieces


def chat_message(result: object) -> AIMessage:
    """``result`` (``ainvoke``'s answer, a non-streamed run's one output, or a chat end event's
    ``output``) checked to be a chat model's message."""
    assert isinstance(result, AIMessage)
    return result


def llm_generation(output: object) -> dict[str, Any]:
    """The first generation of a text LLM's v2 end-event ``output`` (the ``generations``
    dict, ``core.outputs.LLMResult``), checked to be a dict at each level."""
    assert isinstance(output, dict)
    generation = output["generations"][0][0]
    assert isinstance(generation, dict)
    return generation
