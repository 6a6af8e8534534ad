"""What a pane over a whole LangChain application can show: the application's output, or the
chunks of one chat model inside it.

A nested application's events are its whole run tree (see ``providers.langchain``): every
run inside streams too (the chat models, the parsers, the chains between). The pane shows
the *root*'s stream (what the application outputs), and a key switches it to one of the
chat models seen so far, in the order they started, then back to the root. Each of those
runs is a :class:`Source`: its chunk texts with their arrival times, its chunks that carry
more than text (reasoning, tool calls, usage: replayed into the pane's side channels when
it is switched to), and its own ``StreamTimeline``, so the metrics are always those of
what the pane shows. The root's timeline is the run's (the provider stamps the root's
chunks on it); a chat model's starts at its own start event.

The worker (``PaneSession.run``) hands every stream event of such a run to
:meth:`RunSources.chunk` and every other event to :meth:`RunSources.observe`: a dict look-up
and a few appends per event, nothing that grows with what arrived.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from ..core.metrics import StreamTimeline
from ..core.parts import REASONING, TOOL_CALL

__all__ = ["RunSources", "RunsNested", "Source"]

#: Event names of the runs a pane can be switched to (LangChain's chat models).
_MODEL_START = "on_chat_model_start"


@runtime_checkable
class RunsNested(Protocol):
    """A backend whose ``astream_events`` is a whole application's run tree (the
    ``langchain`` kind), not one model's run: its pane shows the root's output."""

    def output_text(self, chunk: Any) -> str:
        """The text one streamed chunk of any run shows (a string, a message's content,
        compact JSON for anything else)."""
        ...


class Source:
    """One run whose stream the pane can show."""

    __slots__ = ("arrivals", "label", "run_id", "sides", "texts", "timeline")

    def __init__(self, run_id: str, label: str, timeline: StreamTimeline) -> None:
        self.run_id = run_id
        #: what the pane's header names it by: ``output`` or ``NAME #N``
        self.label = label
        self.timeline = timeline
        #: the chunk texts with text, and their arrival times (timeline clock, ns)
        self.texts: list[str] = []
        self.arrivals: list[int] = []
        #: chunks carrying more than text, with their arrival (ns since the run started)
        self.sides: list[tuple[Any, int]] = []


class RunSources:
    """The root and the chat models of one application run, and which one is shown."""

    __slots__ = ("_by_id", "_clock", "_text_of", "models", "root", "root_id", "shown", "timeline")

    def __init__(
        self,
        timeline: StreamTimeline,
        text_of: Callable[[Any], str],
        clock: Callable[[], int],
    ) -> None:
        #: the run's timeline: the root's, stamped by the provider
        self.timeline = timeline
        self._text_of = text_of
        self._clock = clock
        self.root: Source | None = None
        #: the root's run id ("" before its first event)
        self.root_id = ""
        #: chat-model runs in the order they started
        self.models: list[Source] = []
        self._by_id: dict[str, Source] = {}
        #: the run the pane shows (the root until switched)
        self.shown: str = ""

    def observe(self, ev: Mapping[str, Any]) -> None:
        """A start or end event: the first one is the root's; chat models become sources."""
        kind = ev["event"]
        run_id = ev["run_id"]
        if self.root is None:
            self.root = Source(run_id, "output", self.timeline)
            self.root_id = run_id
            self._by_id[run_id] = self.root
            if not self.shown:
                self.shown = run_id
        elif kind == _MODEL_START and run_id not in self._by_id:
            timeline = StreamTimeline(clock=self._clock)
            timeline.start()
            number = sum(1 for m in self.models if m.label.startswith(f"{ev['name']} #")) + 1
            source = Source(run_id, f"{ev['name']} #{number}", timeline)
            self.models.append(source)
            self._by_id[run_id] = source

    def chunk(self, run_id: str, chunk: Any) -> tuple[str, Any, int]:
        """A stream event's chunk: ``(text, payload, arrival ns)``, the payload being the
        text itself or, when the chunk carries more (a message chunk with reasoning, tool
        calls, usage or metadata), the chunk. Kept by its run when that is a source."""
        text = chunk if type(chunk) is str else self._text_of(chunk)
        payload: Any = text
        if (
            getattr(chunk, "additional_kwargs", None)
            or getattr(chunk, "tool_call_chunks", None)
            or getattr(chunk, "usage_metadata", None)
            or getattr(chunk, "response_metadata", None)
        ):
            payload = chunk
        source = self._by_id.get(run_id)
        if source is None:
            return text, payload, self._clock()
        timeline = source.timeline
        if source is self.root:  # stamped by the provider as it passed
            at = (timeline.last_ns or 0) if text and payload is text else self._clock()
        else:
            at = timeline.chunk(text) if text else self._stamp_side(timeline, chunk)
        if text:
            source.texts.append(text)
            source.arrivals.append(at)
        if payload is not text:
            source.sides.append((chunk, at - (self.timeline.start_ns or at)))
        return text, payload, at

    def _stamp_side(self, timeline: StreamTimeline, chunk: Any) -> int:
        """A model chunk without text, on its timeline: a tool call or reasoning is a side
        part; anything else (usage, metadata) only has its arrival."""
        if getattr(chunk, "tool_call_chunks", None):
            return timeline.side(TOOL_CALL, "")
        extra = getattr(chunk, "additional_kwargs", None) or {}
        reasoning = extra.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning:
            return timeline.side(REASONING, reasoning)
        return self._clock()

    def finish(self) -> None:
        """The run ended: every model's timeline stops (the root's is the run's)."""
        for source in self.models:
            source.timeline.finish()

    @property
    def shown_source(self) -> Source | None:
        return self._by_id.get(self.shown)

    def next(self) -> Source | None:
        """Show the next source (the root, then each chat model, then the root again);
        None when there is nothing else to show."""
        order = [s for s in (self.root, *self.models) if s is not None]
        if len(order) < 2:
            return None
        ids = [s.run_id for s in order]
        at = ids.index(self.shown) if self.shown in ids else 0
        chosen = order[(at + 1) % len(order)]
        self.shown = chosen.run_id
        return chosen

    def root_text(self) -> str:
        return "".join(self.root.texts) if self.root is not None else ""
