"""Summing a stream's chunks in linear time: text is appended to a list and joined once, and
only chunks that carry metadata are merged the way LangChain's ``+`` merges them, so a long
answer costs what its text costs, whatever the number of chunks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .messages import (
    AIMessageChunk,
    UsageMetadata,
    add_usage,
    best_id,
    merge_dicts,
)

__all__ = ["STREAMED_KWARGS", "ChunkAccumulator", "TextAccumulator", "sum_chunks"]


class TextAccumulator:
    """Text arriving in many small pieces, held as joined blocks: memory is the text's
    size, not one string object per chunk (a 1,000,000-chunk stream stays small), and
    ``text()`` is linear."""

    __slots__ = ("blocks", "recent")

    BLOCK = 1024

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.recent: list[str] = []

    def add(self, piece: str) -> None:
        recent = self.recent
        recent.append(piece)
        if len(recent) >= self.BLOCK:
            self.blocks.append("".join(recent))
            recent.clear()

    def text(self) -> str:
        return "".join(self.blocks) + "".join(self.recent)


#: ``additional_kwargs`` strings that arrive in pieces, one per chunk (reasoning, refusal):
#: summed in a ``TextAccumulator`` rather than by concatenating the sum so far.
STREAMED_KWARGS = frozenset({"reasoning_content", "refusal"})


class ChunkAccumulator:
    """The running sum of message chunks, equal to ``chunks[0] + chunks[1] + ...`` but
    linear: the text goes to a ``TextAccumulator``, and only the chunks that carry metadata
    pay for a merge. Nothing is kept per chunk, and no chunk's cost grows with what came
    before: reasoning and refusal pieces go to accumulators of their own, a tool call's
    argument pieces to a list per call (joined by ``result``)."""

    __slots__ = (
        "additional",
        "args",
        "by_index",
        "count",
        "fed",
        "ids",
        "last",
        "response",
        "streamed",
        "text",
        "tools",
        "usage",
    )

    def __init__(self, text: TextAccumulator | None = None) -> None:
        #: ``text`` given: the caller adds every chunk's content to it (it sums the answer
        #: anyway), so ``add`` does not add it a second time
        self.fed = text is not None
        self.text = text if text is not None else TextAccumulator()
        self.additional: dict[str, Any] = {}
        self.streamed: dict[str, TextAccumulator] = {}
        self.response: dict[str, Any] = {}
        self.tools: list[dict[str, Any]] = []
        #: tool-call index -> its position in ``tools``; position -> later argument pieces
        self.by_index: dict[Any, int] = {}
        self.args: dict[int, list[str]] = {}
        self.usage: UsageMetadata | None = None
        self.ids: str | None = None
        self.last = False
        self.count = 0

    def add(self, c: AIMessageChunk) -> None:
        self.count += 1
        if not self.fed:
            self.text.add(c.content)
        extra = c.additional_kwargs
        if extra:
            rest = None
            for key, value in extra.items():
                if key in STREAMED_KWARGS and type(value) is str:
                    acc = self.streamed.get(key)
                    if acc is None:
                        acc = self.streamed[key] = TextAccumulator()
                    acc.add(value)
                else:
                    if rest is None:
                        rest = {}
                    rest[key] = value
            if rest:
                self.additional = merge_dicts(self.additional, rest)
        if c.response_metadata:
            self.response = merge_dicts(self.response, c.response_metadata)
        if c.tool_call_chunks:
            self._add_tool_chunks(c.tool_call_chunks)
        if c.usage_metadata is not None:
            self.usage = add_usage(self.usage, c.usage_metadata)
        if c.chunk_position == "last":
            self.last = True
        if c.id != self.ids:
            self.ids = best_id((self.ids, c.id))

    def _add_tool_chunks(self, chunks: list[dict[str, Any]]) -> None:
        """``merge_tool_call_chunks``, in constant time per delta."""
        tools, by_index = self.tools, self.by_index
        for chunk in chunks:
            index = chunk.get("index")
            pos = by_index.get(index) if index is not None else None
            if pos is None:
                if index is not None:
                    by_index[index] = len(tools)
                tools.append(dict(chunk))
                continue
            target = tools[pos]
            for key in ("name", "id"):
                if chunk.get(key) and not target.get(key):
                    target[key] = chunk[key]
            if chunk.get("args"):
                self.args.setdefault(pos, []).append(chunk["args"])

    def tool_call_chunks(self) -> list[dict[str, Any]]:
        """The merged tool-call chunks so far (fresh dicts: the sum is not consumed)."""
        out = [dict(t) for t in self.tools]
        for pos, pieces in self.args.items():
            out[pos]["args"] = (out[pos].get("args") or "") + "".join(pieces)
        return out

    def additional_kwargs(self) -> dict[str, Any]:
        """The merged ``additional_kwargs`` so far (reasoning and refusal joined)."""
        if not self.streamed:
            return self.additional
        out = dict(self.additional)
        for key, acc in self.streamed.items():
            before = out.get(key)
            out[key] = (before if isinstance(before, str) else "") + acc.text()
        return out

    def result(self) -> AIMessageChunk | None:
        if not self.count:
            return None
        return AIMessageChunk(
            self.text.text(),
            additional_kwargs=self.additional_kwargs(),
            response_metadata=self.response,
            tool_call_chunks=self.tool_call_chunks(),
            usage_metadata=self.usage,
            id=self.ids,
            chunk_position="last" if self.last else None,
        )


def sum_chunks(chunks: Iterable[AIMessageChunk]) -> AIMessageChunk | None:
    """``chunks[0] + chunks[1] + ...`` in linear time."""
    total = ChunkAccumulator()
    for c in chunks:
        total.add(c)
    return total.result()
