"""What a saved run streamed besides its answer, read back from its chunks.

An export shows it (reasoning, tool calls, refusal), a reopened pane draws it and, above all,
puts it back into the conversation: a tool-use conversation continued after a reopen must
send the assistant's tool calls and Anthropic's signed thinking blocks again, as it would
have live. One pass over the run's side chunks (``History.iter_side_chunks``, never the
answer's), each read back into the chunk it was recorded from and summed as LangChain sums
chunks.
"""

from __future__ import annotations

from typing import Any

from ..core.accumulate import ChunkAccumulator
from ..core.messages import AIMessageChunk
from ..core.outputs import part_to_chunk
from ..core.recording_lines import line_part
from .history import History


class SideChannels:
    """A saved run's reasoning (with its chunk boundaries), refusal and tool calls, and the
    sum of its side chunks (``total``: metadata and usage included)."""

    __slots__ = ("reasoning_chunks", "refusal", "tool_calls", "total")

    def __init__(self, history: History, run_id: int) -> None:
        acc = ChunkAccumulator()
        reasoning: list[str] = []
        for line in history.iter_side_chunks(run_id):
            part = line_part(line)
            if part.channel == "reasoning" and part.text:
                reasoning.append(part.text)
            chunk = part_to_chunk(part, "")
            if chunk.content:  # answer text riding with metadata: the answer is read apart
                chunk.content = ""
            acc.add(chunk)
        #: the reasoning texts as they arrived
        self.reasoning_chunks: list[str] = reasoning
        extra = acc.additional_kwargs()
        #: the refusal's text ("" for a refusal with no reason), None when there was none
        self.refusal: str | None = extra.get("refusal")
        #: the merged tool calls (``name``, ``args`` as streamed, ``id``, ``index``)
        self.tool_calls: list[dict[str, Any]] = acc.tool_call_chunks()
        #: everything the side chunks carried, summed: what the conversation keeps
        self.total: AIMessageChunk | None = acc.result() if acc.count else None

    @property
    def reasoning(self) -> str:
        return "".join(self.reasoning_chunks)
