"""Provider kinds, references and ``build_llm``.

A *provider reference* is a configured name (``fast``), or ad hoc ``KIND:MODEL[@BASE_URL]``
(``openai-chat:gpt-4o-mini@http://127.0.0.1:8000/v1``, ``simulated:swift``); a kind whose
``Spec.reference_field`` is not ``model`` takes the rest whole as that option
(``langchain:my_app.graph:build()`` is the ``langchain`` kind's ``target``). Kinds are
imported only when used, so ``langchain`` and the HTTP kinds cost nothing until needed.

Kinds come from three places, in this order of precedence: the built-in table below, kinds
registered in code with ``register_kind``, and installed plugins: distributions declaring an
entry point in the group ``llmstream_tui.providers`` (name = the kind, value = the backend
class as ``module:Class``). Plugins are discovered once, on the first look-up of a kind that
is not built in, and their modules are imported only when their kind is used; a broken plugin
is reported in one line naming it, and never hides the built-in kinds.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast, overload

from pydantic import ValidationError

from ..core.redaction import mask_urls
from ..core.runnable import LanguageModel
from ..errors import ConfigError
from .spec import BUILTIN_PROVIDERS, ProviderSpec, describe_validation_error

if TYPE_CHECKING:
    import httpx

    from ..core.runnable import ChatModel, TextLLM

__all__ = [
    "ENTRY_POINT_GROUP",
    "KINDS",
    "ProviderTables",
    "backend_class",
    "build_llm",
    "kind_names",
    "parse_reference",
    "plugin_problems",
    "register_kind",
    "resolve",
    "validate_table",
]

#: The entry-point group a plugin declares its kinds in (``kind = "module:Class"``).
ENTRY_POINT_GROUP = "llmstream_tui.providers"

#: kind -> "module:Class" of its backend. Each class has ``Spec`` (its options model) and
#: ``from_spec(name, spec, client=None)``.
BUILTIN_KINDS: dict[str, str] = {
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

#: What a kind names: its backend class, or where to import it from (``module:Class``).
Target = str | type[LanguageModel]


class KindTable(MutableMapping[str, Target]):
    """Every kind: built-in, registered, and (discovered on first need) from plugins.

    A mapping, so callers test ``kind in KINDS`` and list ``sorted(KINDS)`` as before. A
    look-up of a built-in kind never triggers plugin discovery, so using the built-in kinds
    costs no scan of the installed distributions.
    """

    def __init__(self, builtin: Mapping[str, str]) -> None:
        self._kinds: dict[str, Target] = dict(builtin)
        self._builtin = frozenset(builtin)
        #: kind -> the distribution that declared it, for error messages
        self.origin: dict[str, str] = {}
        self.problems: list[str] = []
        self._discovered = False

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        try:
            found = list(entry_points(group=ENTRY_POINT_GROUP))
        except Exception as exc:  # noqa: BLE001  # broken metadata must not stop the app
            self.problems.append(f"provider plugins could not be listed: {exc}")
            return
        for ep in found:
            self._add_entry_point(ep)

    def _add_entry_point(self, ep: EntryPoint) -> None:
        dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else ep.value
        where = f"plugin {dist!r} (entry point {ep.name} = {ep.value!r})"
        if ep.name in self._kinds:
            owner = "a built-in kind" if ep.name in self._builtin else "already registered"
            self.problems.append(f"{where}: kind {ep.name!r} is {owner}; the plugin's is ignored")
            return
        if not ep.attr or not _is_kind_name(ep.name):
            self.problems.append(f"{where}: expected KIND = 'module:Class'; ignored")
            return
        self._kinds[ep.name] = ep.value
        self.origin[ep.name] = where

    def __getitem__(self, kind: str) -> Target:
        if kind not in self._builtin:
            self._discover()
        return self._kinds[kind]

    def __contains__(self, kind: object) -> bool:
        if kind in self._builtin:
            return True
        self._discover()
        return kind in self._kinds

    def __setitem__(self, kind: str, target: Target) -> None:
        self._kinds[kind] = target

    def __delitem__(self, kind: str) -> None:
        del self._kinds[kind]
        self.origin.pop(kind, None)

    def __iter__(self) -> Iterator[str]:
        self._discover()
        return iter(list(self._kinds))

    def __len__(self) -> int:
        self._discover()
        return len(self._kinds)


KINDS = KindTable(BUILTIN_KINDS)


def _is_kind_name(kind: str) -> bool:
    return bool(kind) and not any(c in kind for c in ":@ \t\n") and kind.isprintable()


def register_kind(kind: str, target: Target, *, replace: bool = False) -> None:
    """Make ``kind`` a provider kind: in references (``KIND:MODEL``), config tables and the
    kind list. ``target`` is a ``LanguageModel`` subclass (with ``Spec``, a ``ProviderSpec``
    subclass, and ``from_spec``) or its import path ``"module:Class"``, imported when first
    used. Re-registering a kind needs ``replace=True``; a built-in kind cannot be replaced.
    """
    if not _is_kind_name(kind):
        raise ValueError(f"not a kind name: {kind!r} (no ':', '@' or spaces)")
    if isinstance(target, str):
        if target.count(":") != 1 or not all(target.partition(":")[::2]):
            raise ValueError(f"target must be 'module:Class', not {target!r}")
    elif not (isinstance(target, type) and issubclass(target, LanguageModel)):
        raise TypeError(f"target must be a LanguageModel subclass or 'module:Class': {target!r}")
    if kind in KINDS._builtin:
        raise ValueError(f"{kind!r} is a built-in kind")
    if kind in KINDS and not replace:
        raise ValueError(f"kind {kind!r} is already registered (pass replace=True)")
    KINDS[kind] = target
    KINDS.origin.pop(kind, None)


def kind_names() -> list[str]:
    """Every kind, sorted: built-in, registered and from plugins."""
    return sorted(KINDS)


def plugin_problems() -> list[str]:
    """One line per plugin entry point that was ignored (a name clash, a malformed value)."""
    KINDS._discover()
    return list(KINDS.problems)


def backend_class(kind: str) -> type[LanguageModel]:
    """The backend class of ``kind``, imported now. ``ConfigError`` (one line, naming the
    plugin when the kind comes from one) if it is unknown or cannot be loaded."""
    try:
        target = KINDS[kind]
    except KeyError:
        raise ConfigError(
            f"unknown provider kind {kind!r} (known: {', '.join(kind_names())})"
        ) from None
    origin = KINDS.origin.get(kind)
    if not isinstance(target, str):
        return target
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        cls: object = getattr(module, attr)
    except ModuleNotFoundError as exc:
        if origin is None:
            raise ConfigError(f"provider kind {kind!r} is not available: {exc}") from None
        raise ConfigError(f"provider kind {kind!r} from {origin} cannot be loaded: {exc}") from None
    except Exception as exc:  # noqa: BLE001  # whatever a plugin raises, one line, no traceback
        where = f"from {origin}" if origin else f"({target})"
        reason = f"{type(exc).__name__}: {exc}"
        raise ConfigError(f"provider kind {kind!r} {where} cannot be loaded: {reason}") from None
    if not (
        isinstance(cls, type)
        and issubclass(cls, LanguageModel)
        and isinstance(getattr(cls, "Spec", None), type)
        and issubclass(cls.Spec, ProviderSpec)
    ):
        where = f"from {origin}" if origin else f"({target})"
        raise ConfigError(
            f"provider kind {kind!r} {where}: {target} is not a LanguageModel subclass with a"
            " ProviderSpec subclass as Spec"
        )
    return cls


def validate_table(table: Mapping[str, Any], *, where: str = "provider") -> ProviderSpec:
    """Check a provider table against its kind's options; ConfigError names the key."""
    kind = table.get("kind")
    if not isinstance(kind, str):
        raise ConfigError(f"{where}.kind: missing (one of {', '.join(kind_names())})")
    try:
        cls = backend_class(kind)
    except ConfigError as exc:
        raise ConfigError(f"{where}.kind: {exc}") from None
    try:
        spec = cls.Spec.model_validate(dict(table))
    except ValidationError as exc:
        raise ConfigError(f"{where}.{describe_validation_error(exc)}") from None
    return cast(ProviderSpec, spec)


def parse_reference(ref: str) -> dict[str, Any]:
    """``KIND:MODEL[@BASE_URL]`` as a provider table (``KIND:REST`` with ``REST`` as the
    kind's ``reference_field`` when that is not ``model``)."""
    kind, sep, rest = ref.partition(":")
    if not sep or kind not in KINDS:
        raise ConfigError(
            f"unknown provider {mask_urls(ref)!r}: not a configured name, and not"
            " KIND:MODEL[@BASE_URL]"
            f" with KIND one of {', '.join(kind_names())}"
        )
    field = backend_class(kind).Spec.reference_field
    if field != "model":
        return {"kind": kind, field: rest}
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
    """(display name, table) for a reference. An ad hoc reference's display name is the
    reference with its URL's credentials masked (``openai-chat:m@http://***@host/v1``): it is
    shown, saved in history and recordings; the table keeps the real URL for the request."""
    if settings is not None:
        table = settings.provider_table(ref)
        if table is not None:
            return ref, dict(table)
    elif ":" not in ref and ref in BUILTIN_PROVIDERS:
        return ref, BUILTIN_PROVIDERS[ref]
    return mask_urls(ref), parse_reference(ref)


@overload
def build_llm(
    spec: str | Mapping[str, Any],
    *,
    name: str | None = None,
    settings: ProviderTables | None = None,
    client: httpx.AsyncClient | None = None,
    flavor: Literal["chat"],
) -> ChatModel: ...
@overload
def build_llm(
    spec: str | Mapping[str, Any],
    *,
    name: str | None = None,
    settings: ProviderTables | None = None,
    client: httpx.AsyncClient | None = None,
    flavor: Literal["llm"],
) -> TextLLM: ...
@overload
def build_llm(
    spec: str | Mapping[str, Any],
    *,
    name: str | None = None,
    settings: ProviderTables | None = None,
    client: httpx.AsyncClient | None = None,
    flavor: None = None,
) -> ChatModel | TextLLM: ...
def build_llm(
    spec: str | Mapping[str, Any],
    *,
    name: str | None = None,
    settings: ProviderTables | None = None,
    client: httpx.AsyncClient | None = None,
    flavor: Literal["chat", "llm"] | None = None,
) -> ChatModel | TextLLM:
    """A ready backend from a provider table (``{"kind": ..., ...}``) or a reference.

    ``flavor="chat"`` (or ``"llm"``) says which kind of model the caller expects: the result
    is typed accordingly (``ChatModel``: ``invoke`` returns ``AIMessage``, ``stream`` yields
    ``AIMessageChunk``; ``TextLLM``: ``str`` both), and a model of the other flavour is a
    ``ConfigError``. Without it the result is either.

    ``client`` is injected into HTTP kinds (tests pass one bound to a loopback server or an
    ``httpx.MockTransport``); without it a backend makes its own and closes it in ``aclose``.
    """
    if isinstance(spec, str):
        display, table = resolve(spec, settings)
    else:
        display, table = name or str(spec.get("model") or spec.get("kind")), dict(spec)
    parsed = validate_table(table, where=f"provider {display!r}")
    model = backend_class(parsed.kind).from_spec(name or display, parsed, client=client)
    if flavor is not None and model.flavor != flavor:
        what = {"chat": "a chat model", "llm": "a text LLM"}
        raise ConfigError(
            f"provider {model.name!r} is {what[model.flavor]}, not {what[flavor]}"
            f" (flavor={flavor!r} was asked for)"
        )
    return cast("ChatModel | TextLLM", model)
