"""``llmstream-tui models [-p REF]``: the models a provider's server offers, one per line.

Kinds that can list (OpenAI-compatible, Ollama, Gemini, Anthropic: ``core.capabilities.
ModelLister``) print their list; any other kind is one line saying it cannot, exit 2. Without
``-p``, the first default provider is asked.
"""

from __future__ import annotations

import argparse
import sys

from ..config import Settings
from ..core.capabilities import ModelLister
from ..core.inert import escape_controls
from ..errors import ConfigError
from ..providers.registry import build_llm


async def models_command(args: argparse.Namespace, settings: Settings) -> int:
    from . import check_targets

    refs = args.providers or settings.default_providers[:1]
    check_targets(refs, settings)  # unknown references and missing keys: exit 2, no request
    lines: list[str] = []
    for ref in refs:
        llm = build_llm(ref, settings=settings)
        try:
            if not isinstance(llm, ModelLister):
                kind = getattr(getattr(llm, "spec", None), "kind", type(llm).__name__)
                raise ConfigError(f"provider {ref!r}: kind {kind!r} cannot list models")
            models = await llm.list_models()
        finally:
            await llm.aclose()
        prefix = f"{ref}\t" if len(refs) > 1 else ""
        lines += [prefix + escape_controls(str(m)) for m in models]
    for line in lines:
        print(line)
    sys.stdout.flush()
    return 0
