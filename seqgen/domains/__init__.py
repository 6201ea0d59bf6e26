"""Domain registry: get_domain("digits" | "names" | "melodies").

Domain modules are imported on first use and their data loaded on the first dataset() call,
so importing seqgen.domains stays cheap.
"""
from __future__ import annotations

import importlib
from functools import lru_cache

from .base import SPLITS, Domain
from .melodies import Note

DOMAINS = ("digits", "names", "melodies")
_CLASSES = {"digits": "DigitsDomain", "names": "NamesDomain", "melodies": "MelodiesDomain"}


@lru_cache(maxsize=None)
def get_domain(name: str) -> Domain:
    """The (shared) Domain instance for a name; ValueError lists the valid names."""
    if name not in _CLASSES:
        raise ValueError(f"Unknown domain {name!r}; choose one of {', '.join(DOMAINS)}.")
    module = importlib.import_module(f".{name}", __name__)
    return getattr(module, _CLASSES[name])()


__all__ = ["DOMAINS", "SPLITS", "Domain", "Note", "get_domain"]
