"""LangChain runnables for tests/providers/test_langchain.py, named by ``target`` strings
(``tests.providers.langchain_fakes:poem_model``) exactly as a user's config names theirs.

Built on langchain-core's own fakes where they suffice (``GenericFakeChatModel`` splits an
answer on whitespace; ``FakeStreamingListLLM`` streams a text LLM's answer by character);
``ScriptedChunksChatModel`` streams chunks given verbatim, for what those fakes cannot
produce (usage, tool-call chunks, reasoning, finish reasons, a failure mid-stream).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake import FakeStreamingListLLM
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from pydantic import Field

POEM = "Sparkling water, oh so clear\nBubbles dancing, without fear"


class ScriptedChunksChatModel(BaseChatModel):
    """Streams ``chunks`` as given; raises ``fail_with`` after ``fail_after`` chunks.

    ``closed`` counts streams that ended by being closed from outside (``aclose``)."""

    chunks: list[AIMessageChunk]
    fail_after: int | None = None
    fail_with: str = "model exploded"
    closed: list[bool] = Field(default_factory=list)
    requests: list[list[BaseMessage]] = Field(default_factory=list)
    stops: list[list[str] | None] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-chunks"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.requests.append(messages)
        self.stops.append(stop)
        total = self.chunks[0]
        for chunk in self.chunks[1:]:
            total = total + chunk
        message = AIMessage(
            content=total.content,
            tool_calls=total.tool_calls,
            usage_metadata=total.usage_metadata,
            response_metadata=total.response_metadata,
            additional_kwargs=total.additional_kwargs,
            id=total.id,
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        raise NotImplementedError("async only")

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        self.requests.append(messages)
        self.stops.append(stop)
        try:
            for n, chunk in enumerate(self.chunks):
                if self.fail_after is not None and n >= self.fail_after:
                    raise RuntimeError(self.fail_with)
                yield ChatGenerationChunk(message=chunk)
                await asyncio.sleep(0)
        except GeneratorExit:
            self.closed.append(True)
            raise


def poem_model() -> GenericFakeChatModel:
    """A factory: the poem, split on whitespace, for every call."""
    return GenericFakeChatModel(messages=itertools.cycle([AIMessage(POEM, id="run-poem")]))


#: A runnable instance (not a factory), as a module attribute.
poem_instance = GenericFakeChatModel(messages=itertools.cycle([POEM]))


def poem_llm() -> FakeStreamingListLLM:
    """A text LLM streaming the poem one character at a time."""
    return FakeStreamingListLLM(responses=[POEM] * 1000)


def poem_chain() -> Any:
    """prompt | chat model | StrOutputParser: a chain from a string to a stream of ``str``."""
    prompt = ChatPromptTemplate.from_messages([("human", "{input}")])
    return {"input": RunnablePassthrough()} | prompt | poem_model() | StrOutputParser()


# ``content=`` by keyword: AIMessageChunk has no ``__init__`` of its own, so a type checker
# sees the keyword-only one pydantic's dataclass transform implies (AIMessage's takes it
# positionally).
RICH_CHUNKS = [
    AIMessageChunk(content="", id="msg-rich", additional_kwargs={"reasoning_content": "Think "}),
    AIMessageChunk(content="", id="msg-rich", additional_kwargs={"reasoning_content": "first."}),
    AIMessageChunk(
        content=[{"type": "thinking", "thinking": " Blocks too.", "index": 0}], id="msg-rich"
    ),
    AIMessageChunk(
        content="Hello",
        id="msg-rich",
        usage_metadata={"input_tokens": 7, "output_tokens": 1, "total_tokens": 8},
    ),
    AIMessageChunk(content=" world", id="msg-rich"),
    AIMessageChunk(
        content="",
        id="msg-rich",
        tool_call_chunks=[{"name": "get_weather", "args": '{"city": ', "id": "call_1", "index": 0}],
    ),
    AIMessageChunk(
        content="",
        id="msg-rich",
        tool_call_chunks=[{"name": None, "args": '"Paris"}', "id": None, "index": 0}],
    ),
    AIMessageChunk(
        content="",
        id="msg-rich",
        response_metadata={"finish_reason": "tool_calls"},
        usage_metadata={"input_tokens": 0, "output_tokens": 11, "total_tokens": 11},
    ),
]


def rich_model() -> ScriptedChunksChatModel:
    """Reasoning, text with usage, a tool call in two pieces, a finish reason."""
    return ScriptedChunksChatModel(chunks=list(RICH_CHUNKS))


def failing_model() -> ScriptedChunksChatModel:
    """Two text chunks, then a ``RuntimeError``."""
    return ScriptedChunksChatModel(
        chunks=[
            AIMessageChunk(content="Hello"),
            AIMessageChunk(content=" there"),
            AIMessageChunk(content="!"),
        ],
        fail_after=2,
    )


#: One shared instance whose ``closed`` list a test inspects.
endless_instance = ScriptedChunksChatModel(
    chunks=[AIMessageChunk(content=f"word{i} ") for i in range(1000)]
)


def broken_factory() -> Any:
    raise ValueError("cannot build")


not_a_runnable = 42
