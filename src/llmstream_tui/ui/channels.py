"""What a run streams besides its answer: reasoning, refusal, tool-call deltas, usage details.

:class:`RunChannels` is fed by the pane's worker (``PaneSession.run``) with every chunk that
is more than plain text, and read by the pane once per frame, like the answer's own pending
list. Plain answer chunks never come here, so the answer's hot path is untouched: a run
without other channels costs nothing more than before.

A chunk is read the way LangChain's chat models shape it: reasoning in
``additional_kwargs["reasoning_content"]``, a refusal in ``additional_kwargs["refusal"]``
(never the answer: its text is taken from there only), tool-call deltas in
``tool_call_chunks`` (``name``, ``args``, ``id``, ``index``), usage in ``usage_metadata``
(``input_token_details`` cache_read / cache_creation, ``output_token_details`` reasoning).
"""

from __future__ import annotations

from collections import deque
from typing import Any

#: usage details shown in the metrics line: (where, key) -> label
USAGE_DETAILS: tuple[tuple[str, str, str], ...] = (
    ("output_token_details", "reasoning", "reasoning tok"),
    ("input_token_details", "cache_read", "cached in"),
    ("input_token_details", "cache_creation", "cache write"),
)
#: Arrival times kept of side chunks for the all-channels gap sparkline (as many as the
#: answer's: ``session.STAMPS``).
SIDE_STAMPS = 160


class RunChannels:
    """One run's side channels: appended to by the worker, taken by the pane per frame."""

    __slots__ = (
        "first_reasoning_ns",
        "last_reasoning_ns",
        "reasoning",
        "reasoning_chunks",
        "refusal",
        "side_stamps",
        "tool_chunks",
        "usage_details",
    )

    def __init__(self) -> None:
        #: reasoning texts not yet drawn
        self.reasoning: list[str] = []
        #: refusal texts not yet drawn
        self.refusal: list[str] = []
        #: tool-call deltas not yet drawn, in arrival order
        self.tool_chunks: list[dict[str, Any]] = []
        #: reasoning / cached-input / cache-creation token counts, summed over the run
        self.usage_details: dict[str, int] = {}
        #: reasoning chunks seen this run, and when the first arrived (ns since the run started)
        self.reasoning_chunks = 0
        self.first_reasoning_ns: int | None = None
        self.last_reasoning_ns: int | None = None
        #: arrival times (ns since the run started) of the last reasoning, refusal and
        #: tool-call chunks: the all-channels sparkline merges them with the answer's
        self.side_stamps: deque[int] = deque(maxlen=SIDE_STAMPS)

    def clear(self) -> None:
        self.reasoning = []
        self.refusal = []
        self.tool_chunks = []
        self.usage_details = {}
        self.reasoning_chunks = 0
        self.first_reasoning_ns = None
        self.last_reasoning_ns = None
        self.side_stamps.clear()

    def observe(self, chunk: Any, rel_ns: int) -> bool:
        """Take what ``chunk`` carries besides its ``content``; ``rel_ns`` is when it arrived.
        Returns whether it carried reasoning, a refusal or a tool call (the model is
        producing something, even without answer text)."""
        produced = False
        extra = chunk.additional_kwargs
        if extra:
            reasoning = extra.get("reasoning_content")
            if isinstance(reasoning, str) and reasoning:
                self.reasoning.append(reasoning)
                self.reasoning_chunks += 1
                if self.first_reasoning_ns is None:
                    self.first_reasoning_ns = rel_ns
                self.last_reasoning_ns = rel_ns
                produced = True
            refusal = extra.get("refusal")
            if isinstance(refusal, str) and refusal:
                self.refusal.append(refusal)
                produced = True
        calls = chunk.tool_call_chunks
        if calls:
            self.tool_chunks.extend(c for c in calls if isinstance(c, dict))
            produced = True
        usage = chunk.usage_metadata
        if usage:
            self._add_usage(usage)
        if produced:
            self.side_stamps.append(rel_ns)
        return produced

    def _add_usage(self, usage: Any) -> None:
        details = self.usage_details
        for where, key, _ in USAGE_DETAILS:
            table = usage.get(where)
            if isinstance(table, dict):
                value = table.get(key)
                if isinstance(value, int) and not isinstance(value, bool) and value:
                    details[key] = details.get(key, 0) + value

    def take_reasoning(self) -> list[str]:
        batch = self.reasoning
        if not batch:
            return []
        self.reasoning = []
        return batch

    def take_refusal(self) -> list[str]:
        batch = self.refusal
        if not batch:
            return []
        self.refusal = []
        return batch

    def take_tool_chunks(self) -> list[dict[str, Any]]:
        batch = self.tool_chunks
        if not batch:
            return []
        self.tool_chunks = []
        return batch

    def usage_parts(self) -> list[tuple[str, str]]:
        """The usage details reported so far, as metrics-line (label, value) pairs."""
        details = self.usage_details
        return [(label, str(details[key])) for _, key, label in USAGE_DETAILS if key in details]
