"""Backends: one module per provider family, each a pure parser plus a thin async adapter."""
