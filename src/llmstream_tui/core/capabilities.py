"""Optional capabilities a backend may have beyond the Runnable interface.

Each is a ``Protocol``: callers ask ``isinstance(llm, ModelLister)`` (or ``issubclass`` on a
backend class) rather than probing attributes, so mypy checks both the backends that
implement a capability and the code that uses it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["ModelLister"]


@runtime_checkable
class ModelLister(Protocol):
    """A backend that can say which models its server offers (the UI's model picker,
    ``providers --check``)."""

    async def list_models(self) -> list[str]:
        """Model ids the server offers, sorted."""
        ...
