"""Provider kinds, references and ``build_llm``.

A *provider reference* is a configured name (``fast``), or ad hoc ``KIND:MODEL[@BASE_URL]``
(``openai-chat:gpt-4o-mini@http://127.0.0.1:8000/v1``, ``simulated:swift``). Kinds are
imported only when used, so ``langchain`` and the HTTP kinds cost nothing until needed.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from ..errors import ConfigError
from .spec import BUILTIN_PROVIDERS, ProviderSpec, describe_validation_error

if TYPE_CHECKING:
    import httpx

    from ..core.runnable import LanguageModel

#: kind -> "module:Class" of its backend. Each class has ``Spec`` (its options model) and
#: ``from_spec(name, spec, client=None)``.
KINDS: dict[str, str] = {
    "scripted": "llmstream_tui.providers.scripted:ScriptedModel",
    "simulated": "llmstream_tui.providers.simulated:SimulatedModel",
    "openai-chat": "llmstream_tui.providers.openai:OpenAIChatModel",
    "openai-completions": "llmstream_tui.providers.openai:OpenAICompletionsModel",
    "openai-responses": "llmstream_tui.providers.openai_responses:OpenAIResponsesModel",
    "anthropic": "llmstream_tui.providers.anthropic:AnthropicModel",
    "ollama-chat": "llmstream_tui.providers.ollama:OllamaChatModel",
    "ollama-generate": "llmstream_tui.providers.ollama:OllamaGenerateModel",
    "gemini": "llmstream_tui.providers.gemini:GeminiModel",
    "langchain": "llmstream_tui.providers.langchain:LangChainModel",
    "replay": "llmstream_tui.providers.replay:ReplayModel",
}


def backend_class(kind: str) -> Any:
    target = KINDS.get(kind)
    if target is None:
        known = ", ".join(sorted(KINDS))
        raise ConfigError(f"unknown provider kind {kind!r} (known: {known})")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"provider kind {kind!r} is not available: {exc}") from None
    return getattr(module, attr)


def validate_table(table: Mapping[str, Any], *, where: str = "provider") -> ProviderSpec:
    """Check a provider table against its kind's options; ConfigError names the key."""
    kind = table.get("kind")
    if not isinstance(kind, str):
        raise ConfigError(f"{where}.kind: missing (one of {', '.join(sorted(KINDS))})")
    try:
        cls = backend_class(kind)
    except ConfigError as exc:
        raise ConfigError(f"{where}.kind: {exc}") from None
    try:
        spec: ProviderSpec = cls.Spec.model_validate(dict(table))
    except ValidationError as exc:
        raise ConfigError(f"{where}.{describe_validation_error(exc)}") from None
    return spec


def parse_reference(ref: str) -> dict[str, Any]:
    """``KIND:MODEL[@BASE_URL]`` as a provider table."""
    kind, sep, rest = ref.partition(":")
    if not sep or kind not in KINDS:
        raise ConfigError(
            f"unknown provider {ref!r}: not a configured name, and not KIND:MODEL[@BASE_URL]"
            f" with KIND one of {', '.join(sorted(KINDS))}"
        )
    model, at, base = rest.partition("@")
    table: dict[str, Any] = {"kind": kind, "model": model}
    if at:
        table["base_url"] = base
    return table


class ProviderTables(Protocol):
    """Where configured provider tables are looked up by name (``Settings`` is one): the
    registry needs only this, so it never imports the settings module above it."""

    def provider_table(self, name: str) -> Mapping[str, Any] | None: ...


def resolve(ref: str, settings: ProviderTables | None) -> tuple[str, dict[str, Any]]:
    """(display name, table) for a reference."""
    if settings is not None:
        table = settings.provider_table(ref)
        if table is not None:
            return ref, dict(table)
    elif ":" not in ref and ref in BUILTIN_PROVIDERS:
        return ref, BUILTIN_PROVIDERS[ref]
    return ref, parse_reference(ref)


def build_llm(
    spec: str | Mapping[str, Any],
    *,
    name: str | None = None,
    settings: ProviderTables | None = None,
    client: httpx.AsyncClient | None = None,
) -> LanguageModel:
    """A ready backend from a provider table (``{"kind": ..., ...}``) or a reference.

    ``client`` is injected into HTTP kinds (tests pass one bound to a loopback server or an
    ``httpx.MockTransport``); without it a backend makes its own and closes it in ``aclose``.
    """
    if isinstance(spec, str):
        display, table = resolve(spec, settings)
    else:
        display, table = name or str(spec.get("model") or spec.get("kind")), dict(spec)
    parsed = validate_table(table, where=f"provider {display!r}")
    cls = backend_class(parsed.kind)
    model: LanguageModel = cls.from_spec(name or display, parsed, client=client)
    return model
