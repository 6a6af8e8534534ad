"""llmstream-tui: watch large language models stream.

The public API for scripts and tests::

    from llmstream_tui import build_llm, load_settings

    llm = build_llm({"kind": "scripted", "chunks": ["Spark", "ling", " water"]}, flavor="chat")
    for chunk in llm.stream("Write me a 1 verse song about sparkling water."):
        print(chunk.content, end="|", flush=True)

``flavor="chat"`` types the model as a ``ChatModel`` (``stream`` yields ``AIMessageChunk``,
``invoke`` returns ``AIMessage``), ``flavor="llm"`` as a ``TextLLM`` (``str`` both). New
provider kinds come from ``register_kind`` or an ``llmstream_tui.providers`` entry point.
"""

from __future__ import annotations

from .config import Settings, load_settings
from .core.events import StreamEvent
from .core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from .core.metrics import MetricsSnapshot, StreamTimeline
from .core.runnable import ChatModel, LanguageModel, TextLLM
from .providers.registry import build_llm, register_kind
from .version import VERSION

__all__ = [
    "AIMessage",
    "AIMessageChunk",
    "ChatModel",
    "HumanMessage",
    "LanguageModel",
    "MetricsSnapshot",
    "Settings",
    "StreamEvent",
    "StreamTimeline",
    "SystemMessage",
    "TextLLM",
    "build_llm",
    "load_settings",
    "register_kind",
]
__version__ = VERSION
