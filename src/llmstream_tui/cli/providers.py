"""``llmstream-tui providers [--check]``: list the configured providers, and ask each to answer."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from ..config import Settings
from ..core.capabilities import ModelLister
from ..core.runnable import LanguageModel
from ..errors import ConfigError, ProviderError
from ..providers.registry import build_llm, plugin_problems


async def providers_command(args: argparse.Namespace, settings: Settings) -> int:
    ok = True
    for name in settings.provider_names():
        table = settings.provider_table(name) or {}
        line = f"{name:<16} {table.get('kind', '?'):<20} {table.get('model') or '-'}"
        if table.get("base_url"):
            line += f"  {table['base_url']}"
        if args.check:
            status = await _check(name, settings)
            ok = ok and status.startswith("ok")
            line += f"  [{status}]"
        print(line)
    for problem in plugin_problems():
        print(f"llmstream-tui: warning: {problem}", file=sys.stderr)
    return 0 if ok else 1


async def _first_chunk(llm: LanguageModel) -> str:
    """Ask for a stream and stop at its first chunk: answering is all a check needs, and
    it costs an offline model a fraction of a whole answer."""
    started = time.perf_counter()
    async for _ in llm.astream("ping"):
        break
    return f"ok, first chunk in {time.perf_counter() - started:.2f} s"


async def _check(name: str, settings: Settings) -> str:
    try:
        llm = build_llm(name, settings=settings)
    except ConfigError as exc:
        return f"config: {exc}"
    try:
        if not isinstance(llm, ModelLister):
            return await asyncio.wait_for(_first_chunk(llm), timeout=30)
        models = await asyncio.wait_for(llm.list_models(), timeout=15)
        return f"ok, {len(models)} models"
    except ProviderError as exc:
        return f"{exc.kind}: {exc.message}"
    except TimeoutError:
        return "timeout"
    finally:
        await llm.aclose()
