"""``llmstream-tui providers [--check]``: list the configured providers, and ask each to answer."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from ..config import Settings
from ..core.capabilities import ModelLister
from ..core.inert import escape_controls
from ..core.redaction import mask_urls
from ..core.runnable import LanguageModel
from ..errors import ConfigError, ProviderError
from ..providers.registry import build_llm, plugin_problems


async def providers_command(args: argparse.Namespace, settings: Settings) -> int:
    ok = True
    rows: list[list[str]] = []
    for name in settings.provider_names():
        table = settings.provider_table(name) or {}
        row = [
            escape_controls(name),
            str(table.get("kind", "?")),
            escape_controls(str(table.get("model") or "-")),
            mask_urls(str(table["base_url"])) if table.get("base_url") else "-",  # no credentials
        ]
        if args.check:
            status = await _check(name, settings)
            ok = ok and status.startswith("ok")
            row.append(escape_controls(status))
        rows.append(row)
    header = ["NAME", "KIND", "MODEL", "BASE_URL", "CHECK"][: len(rows[0]) if rows else 4]
    for line in aligned([header, *rows]):
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


def served(model: str, models: list[str]) -> bool:
    """Whether ``model`` is in a server's list, as the server may spell it (Ollama adds
    ``:latest`` to an untagged name, Gemini puts ``models/`` before every id)."""
    return bool({model, f"{model}:latest", f"models/{model}"} & set(models))


def aligned(rows: list[list[str]]) -> list[str]:
    """Rows as lines whose columns line up, each as wide as its longest cell (the last
    column is not padded)."""
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(map(len, rows)))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


async def _check(name: str, settings: Settings) -> str:
    """``ok, ...`` when the provider answers: a server that lists models must list the
    configured one (so a key it rejects, or a model it does not serve, fails); any other
    kind must stream a first chunk."""
    from . import check_targets

    try:
        check_targets([name], settings)  # a missing key is reported without a request
        llm = build_llm(name, settings=settings)
    except ConfigError as exc:
        return f"config: {exc}"
    try:
        if not isinstance(llm, ModelLister):
            return await asyncio.wait_for(_first_chunk(llm), timeout=30)
        models = await asyncio.wait_for(llm.list_models(), timeout=15)
        if llm.model and not served(llm.model, models):
            return f"model {llm.model!r} is not served ({len(models)} models are)"
        return f"ok, {len(models)} models" + (f", {llm.model!r} among them" if llm.model else "")
    except ProviderError as exc:
        return f"{exc.kind}: {exc.message}"
    except TimeoutError:
        return "timeout"
    finally:
        await llm.aclose()
