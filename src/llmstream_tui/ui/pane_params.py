"""A pane's system prompt, generation parameters and model, changed from the app.

The dialog (``screens/params.py``) edits text; this module turns it into a provider table and
a new backend, without Textual: the values are checked by the same ``Params`` model the config
uses (so a bad temperature is the config's own one-line error), and the new backend is built
from the old one's validated spec with only those fields changed. The pane keeps its
conversation: a follow-up goes to the new backend with the history so far. The session's
recording gets the new provider line at the next run (``PaneSession.reconfigure``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ..core.inert import escape_controls
from ..core.runnable import LanguageModel
from ..providers.registry import ProviderTables, build_llm
from ..providers.spec import Params, describe_validation_error
from .session import BuiltFromSpec

#: The parameters the dialog edits, in its order: (field, label).
FIELDS: tuple[tuple[str, str], ...] = (
    ("system", "system prompt"),
    ("temperature", "temperature"),
    ("max_tokens", "max tokens"),
    ("top_p", "top_p"),
    ("seed", "seed"),
)


class ParamsError(ValueError):
    """A value the dialog cannot use; the message is one line naming the field."""


def current_values(llm: LanguageModel | None) -> dict[str, str]:
    """The dialog's starting text: the backend's model and parameters ("" when unset)."""
    values = {name: "" for name, _ in FIELDS}
    values["model"] = ""
    if llm is None:
        return values
    values["model"] = llm.model or ""
    for name, _ in FIELDS:
        value = llm.params.get(name)
        if value is not None:
            values[name] = str(value)
    return values


def parse_values(values: Mapping[str, str]) -> dict[str, Any]:
    """The dialog's text as ``Params`` fields (an empty field unsets one); ``ParamsError``
    names the first field that is not valid."""
    raw = {name: values.get(name, "").strip() for name, _ in FIELDS}
    raw["system"] = values.get("system", "")  # a system prompt keeps its own spacing
    table = {k: v for k, v in raw.items() if v != ""}
    try:
        params = Params.model_validate(table)
    except ValidationError as exc:
        raise ParamsError(describe_validation_error(exc)) from None
    return params.model_dump(exclude_none=True)


def rebuilt(
    llm: LanguageModel, params: Mapping[str, Any], model: str, settings: ProviderTables
) -> LanguageModel:
    """A new backend like ``llm`` with ``params`` (all of them: unset ones are cleared) and,
    when ``model`` is not empty, that model. ``ParamsError`` when the kind cannot be rebuilt
    or refuses the values."""
    if not isinstance(llm, BuiltFromSpec):
        raise ParamsError(f"{escape_controls(llm.name)}: its settings cannot be changed here")
    table = llm.spec.model_dump()
    kept = {k: v for k, v in (table.get("params") or {}).items() if k not in dict(FIELDS)}
    table["params"] = {**kept, **params}
    if model.strip():
        table["model"] = model.strip()
    try:
        return build_llm(table, name=llm.name, settings=settings)
    except Exception as exc:  # noqa: BLE001  # any kind's refusal is one line in the dialog
        raise ParamsError(" ".join(escape_controls(str(exc)).split())) from None


def with_saved(
    llm: LanguageModel, saved: Mapping[str, Any], settings: ProviderTables
) -> LanguageModel | None:
    """``llm`` (built from the config) with the model and dialog parameters a saved session
    used last, for a reopened session to go on as it ran; None when they are the config's
    already. ``ParamsError`` when the kind refuses them."""
    fields = dict(FIELDS)
    params = {k: v for k, v in (saved.get("params") or {}).items() if k in fields}
    current = {k: v for k, v in llm.params.items() if k in fields and v is not None}
    model = str(saved.get("model") or "")
    if params == current and model in ("", llm.model):
        return None
    return rebuilt(llm, params, "" if model == llm.model else model, settings)


def badge(llm: LanguageModel | None) -> str:
    """The parameters set on a pane, short, for its header: ``T0.2 max512 p0.9 seed7 sys``."""
    if llm is None:
        return ""
    p = llm.params
    bits = []
    if p.get("temperature") is not None:
        bits.append(f"T{p['temperature']:g}")
    if p.get("max_tokens") is not None:
        bits.append(f"max{p['max_tokens']}")
    if p.get("top_p") is not None:
        bits.append(f"p{p['top_p']:g}")
    if p.get("seed") is not None:
        bits.append(f"seed{p['seed']}")
    if p.get("system"):
        bits.append("sys")
    return " ".join(bits)
