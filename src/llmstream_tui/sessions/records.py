"""What reading the history gives back: plain records, no database handle in them.

``History`` builds them; the history screen, the CLI and the exports read them. They hold
values only, so a record stays usable after its ``History`` is closed, and a run's chunks
(which may be millions) are never part of one: ``History.iter_chunks`` pages them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

#: How a session's status is summarised from its runs' statuses, first match wins.
_STATUS_ORDER: Final = ("streaming", "error", "interrupted", "cancelled", "done")


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One row of the history list."""

    id: int
    uid: str
    title: str
    created: float
    updated: float
    providers: list[str]
    turns: int
    #: streaming | error | interrupted | cancelled | done | empty
    status: str
    #: chat (a conversation) | compare (a ``compare`` run: ``sessions/compare_history.py``)
    kind: str = "chat"

    @property
    def page_key(self) -> tuple[float, int]:
        """Pass as ``before=`` to get the page after this row."""
        return (self.updated, self.id)

    @staticmethod
    def status_of(statuses: str | None) -> str:
        """The session's status from its runs' distinct statuses (comma-separated, as
        ``group_concat`` gives them): the most telling one, ``empty`` when there are none."""
        if not statuses:
            return "empty"
        found = set(statuses.split(","))
        for status in _STATUS_ORDER:
            if status in found:
                return status
        return "done"


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One provider answering one turn."""

    id: int
    turn: int
    provider: str
    status: str
    started: float
    t: float | None
    text: str
    finish_reason: str | None
    usage: dict[str, Any] | None
    metrics: dict[str, Any] | None
    error: dict[str, Any] | None
    chunks: int


@dataclass(frozen=True, slots=True)
class ProviderRecord:
    """A provider as a session saved it (its recording ``provider`` line, never a key)."""

    name: str
    #: The recording's ``provider`` line (kind, model, base_url, api_key_env, params, options).
    settings: dict[str, Any]

    def table(self) -> dict[str, Any]:
        """A provider table for ``build_llm`` that rebuilds this provider (keys come from the
        environment as usual; header values were never saved)."""
        s = self.settings
        table: dict[str, Any] = {k: v for k, v in (s.get("options") or {}).items()}
        table.update(kind=s.get("kind"), model=s.get("model") or "")
        for key in ("base_url", "api_key_env"):
            if s.get(key):
                table[key] = s[key]
        if s.get("params"):
            table["params"] = dict(s["params"])
        return table


@dataclass(slots=True)
class SessionRecord:
    """A whole session, for reopening or exporting (chunks are read separately, lazily).
    A run still streaming (in another process) has the text of the chunks saved so far."""

    id: int
    uid: str
    title: str
    created: float
    updated: float
    prompts: list[str]
    providers: list[ProviderRecord]
    runs: list[RunRecord] = field(default_factory=list)

    def run(self, provider: str, turn: int) -> RunRecord | None:
        """``provider``'s run of ``turn``, None if it did not answer that turn."""
        for r in self.runs:
            if r.provider == provider and r.turn == turn:
                return r
        return None

    def provider(self, name: str) -> ProviderRecord | None:
        """The saved settings of the provider called ``name``, None if it has none."""
        return next((p for p in self.providers if p.name == name), None)

    def messages(self, provider: str) -> list[dict[str, str]]:
        """The conversation as ``provider`` saw it, ready to continue: user prompts and that
        provider's answers (partial ones included), ``{"role", "content"}`` dicts."""
        out: list[dict[str, str]] = []
        for turn, prompt in enumerate(self.prompts):
            out.append({"role": "user", "content": prompt})
            run = self.run(provider, turn)
            if run is not None and run.text:
                out.append({"role": "assistant", "content": run.text})
        return out


__all__ = ["ProviderRecord", "RunRecord", "SessionRecord", "SessionSummary"]
