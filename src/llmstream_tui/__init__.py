"""llmstream-tui: watch large language models stream.

The public API for scripts and tests::

    from llmstream_tui import build_llm, load_settings

    llm = build_llm({"kind": "scripted", "chunks": ["Spark", "ling", " water"]})
    for chunk in llm.stream("Write me a 1 verse song about sparkling water."):
        print(chunk.content, end="|", flush=True)
"""

from __future__ import annotations

from .config import Settings, load_settings
from .core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from .core.metrics import MetricsSnapshot, StreamTimeline
from .core.runnable import LanguageModel
from .providers.registry import build_llm
from .version import VERSION

__all__ = [
    "AIMessage",
    "AIMessageChunk",
    "HumanMessage",
    "LanguageModel",
    "MetricsSnapshot",
    "Settings",
    "StreamTimeline",
    "SystemMessage",
    "build_llm",
    "load_settings",
]
__version__ = VERSION
