"""LangChain reference models that stream the same chunks as our ``scripted`` kind.

langchain-core (a test-only dependency, ``>=1.7,<1.8``) is the specification our runnable
layer reproduces; these fakes let a test run both on identical input and compare.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from langchain_core.language_models import BaseChatModel, BaseLLM
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    ChatResult,
    Generation,
    GenerationChunk,
    LLMResult,
)

#: Metadata langchain-core adds about itself; not part of the event schema we reproduce.
LC_ONLY_METADATA = ("ls_integration", "lc_versions")


class _Script:
    """What both reference models share; listed first among the bases so it overrides the
    LangChain base class (whose ``_get_ls_params`` it then calls)."""

    chunks: list[str]
    fail_at: int | None
    finish_reason: str | None
    model: str

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _get_ls_params(self, stop: Any = None, **kw: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kw)  # type: ignore[misc]
        params["ls_provider"] = "scripted"
        params["ls_model_name"] = self.model
        return params

    def _info(self, i: int) -> dict[str, Any] | None:
        if i == len(self.chunks) - 1 and self.finish_reason is not None:
            return {"finish_reason": self.finish_reason}
        return None


class RefChat(_Script, BaseChatModel):
    chunks: list[str]
    fail_at: int | None = None
    finish_reason: str | None = "stop"
    model: str = "scripted"

    def _generate(
        self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        meta = {"finish_reason": self.finish_reason} if self.finish_reason else {}
        msg = AIMessage(content="".join(self.chunks), response_metadata=meta)
        return ChatResult(generations=[ChatGeneration(message=msg)])

    async def _astream(
        self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        for i, text in enumerate(self.chunks):
            if self.fail_at is not None and i >= self.fail_at:
                raise RuntimeError("scripted failure")
            info = self._info(i)
            yield ChatGenerationChunk(
                message=AIMessageChunk(content=text, response_metadata=info or {})
            )


class RefChatNoStream(RefChat):
    """A chat model with no ``_astream``: LangChain's single-chunk fallback."""

    _astream = BaseChatModel._astream


class RefLLM(_Script, BaseLLM):
    chunks: list[str]
    fail_at: int | None = None
    finish_reason: str | None = "stop"
    model: str = "scripted"

    def _generate(
        self, prompts: Any, stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> LLMResult:
        info = {"finish_reason": self.finish_reason} if self.finish_reason else None
        return LLMResult(
            generations=[[Generation(text="".join(self.chunks), generation_info=info)]]
        )

    async def _astream(
        self, prompt: Any, stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> AsyncIterator[GenerationChunk]:
        for i, text in enumerate(self.chunks):
            if self.fail_at is not None and i >= self.fail_at:
                raise RuntimeError("scripted failure")
            yield GenerationChunk(text=text, generation_info=self._info(i))


class RefLLMNoStream(RefLLM):
    _astream = BaseLLM._astream


def normalise(value: Any) -> Any:
    """Messages (ours or LangChain's) as comparable dicts; other values unchanged."""
    if hasattr(value, "content") and hasattr(value, "response_metadata"):
        return {
            "class": type(value).__name__,
            "content": value.content,
            "id": value.id,
            "additional_kwargs": dict(value.additional_kwargs),
            "response_metadata": dict(value.response_metadata),
            "usage_metadata": dict(value.usage_metadata) if value.usage_metadata else None,
            "chunk_position": getattr(value, "chunk_position", None),
            "tool_call_chunks": [dict(c) for c in getattr(value, "tool_call_chunks", [])],
        }
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def normalise_event(event: dict[str, Any]) -> dict[str, Any]:
    out = normalise(event)
    out["metadata"] = {k: v for k, v in out["metadata"].items() if k not in LC_ONLY_METADATA}
    return out
