"""Domain registry: get_domain(name), domain_names(), register(domain).

A domain owns its data; it subclasses the base class of its kind (seqgen.kinds), which owns how its
artifacts look. Domain modules are imported on first use and their data loaded on the first dataset()
call, so importing seqgen.domains stays cheap. A new domain is one module here plus one line in BUILTIN.
A learner's own data set is a domain too (seqgen.domains.own): registered when it is read, and opened
from the user folder by its name.
"""
from __future__ import annotations

import importlib
import weakref

from ..kinds.base import KINDS, SPLITS, Domain

# name -> (module, class): the bundled domains, in the order the app lists them
BUILTIN = {
    "digits": ("digits", "DigitsDomain"),
    "fashion": ("fashion", "FashionDomain"),
    "names": ("names", "NamesDomain"),
    "melodies": ("melodies", "MelodiesDomain"),
    "spoken": ("spoken", "SpokenDigitsDomain"),
}
_instances: dict[str, Domain] = {}
# registered for as long as something else holds them: a learner's data set lives in the browser session that
# read it (and in its training run), and is gone with them unless a saved model kept it in the user folder
_borrowed: weakref.WeakValueDictionary[str, Domain] = weakref.WeakValueDictionary()
OWN_PREFIX = "own-"            # a learner's own data set (seqgen.domains.own), opened from the user folder


def domain_names() -> tuple[str, ...]:
    """Every domain name: the bundled ones, then any registered at run time."""
    return tuple(BUILTIN) + tuple(n for n in (*_instances, *list(_borrowed)) if n not in BUILTIN)


def get_domain(name: str) -> Domain:
    """The (shared) Domain instance for a name; ValueError lists the valid names."""
    if name in _instances:
        return _instances[name]
    borrowed = _borrowed.get(name)
    if borrowed is not None:
        return borrowed
    if name not in BUILTIN and isinstance(name, str) and name.startswith(OWN_PREFIX):
        from .own import open_kept
        return _instances.setdefault(name, open_kept(name))     # a learner's data set a saved model needs
    if name not in BUILTIN:
        raise ValueError(f"Unknown domain {name!r}; choose one of {', '.join(domain_names())}.")
    module, cls = BUILTIN[name]
    domain = getattr(importlib.import_module(f".{module}", __name__), cls)()
    return _instances.setdefault(name, domain)


def register(domain: Domain, while_held: bool = False) -> Domain:
    """Make a Domain object available by its name (a notebook's own data, a test's tiny domain). With
    `while_held`, only for as long as the caller (a browser session) holds the object."""
    if not isinstance(domain, Domain):
        raise TypeError(f"expected a Domain, got {type(domain).__name__}")
    if domain.name in BUILTIN:
        raise ValueError(f"{domain.name!r} is a bundled domain; pick another name")
    if while_held and domain.name not in _instances:
        _borrowed[domain.name] = domain
    else:
        _instances[domain.name] = domain
    return domain


def unregister(name: str) -> None:
    if name not in BUILTIN:
        _instances.pop(name, None)
        _borrowed.pop(name, None)


__all__ = ["KINDS", "SPLITS", "Domain", "domain_names", "get_domain", "register", "unregister"]
