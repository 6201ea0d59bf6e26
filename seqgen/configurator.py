"""Command-line flags and live knobs read from the config dataclasses' field metadata.

nanoGPT's configurator lets any config key be overridden from the command line; here the keys are the
fields of ModelConfig and TrainConfig declared with `setting(...)` (seqgen/models/config.py), so a new
hyperparameter is one field there and shows up in `python -m seqgen train --help` and, when its
metadata has `live=...`, on the Live training page.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from .models.config import FAMILIES, GENERATIVE, ModelConfig, TrainConfig, settings_of

TARGETS = {"model": ModelConfig, "train": TrainConfig}
_TYPES = {"int": int, "float": float, "str": str, "bool": bool}


def value_type(f: dataclasses.Field) -> type:
    """int / float / str / bool from the field's annotation (`int | None` -> int)."""
    name = str(f.type).replace("| None", "").replace("None |", "").strip()
    if name not in _TYPES:
        raise TypeError(f"setting {f.name!r} has type {f.type!r}; settings are int, float, str or bool")
    return _TYPES[name]


def scope_text(meta: dict) -> str:
    """'VAE', 'GAN (tokens)', ... : where a setting applies, or '' when it applies to every model."""
    families = meta["families"]
    scope = "" if families in (FAMILIES, GENERATIVE) else "/".join(f.upper() for f in families)
    data = "tokens" if meta["discrete_only"] else "rows" if meta["continuous_only"] else ""
    return f"{scope} ({data})".strip() if data else scope


def flag_names(f: dataclasses.Field) -> list[str]:
    main = "--" + f.name.replace("_", "-")
    return [*f.metadata["flags"], main] if f.metadata["flags"] else [main]


def add_setting_arguments(parser: argparse.ArgumentParser) -> None:
    """One argument group per config class, one flag per setting; every default is None (= keep the preset's)."""
    for title, cls in TARGETS.items():
        group = parser.add_argument_group("training" if title == "train" else title)
        for f in settings_of(cls):
            meta, kind = f.metadata, value_type(f)
            scope = scope_text(meta)
            help_text = f"{scope}: {meta['help']}" if scope else meta["help"]
            kw: dict = dict(dest=f.name, default=None, help=help_text)
            if kind is bool:
                kw["action"] = argparse.BooleanOptionalAction
            else:
                kw["type"] = kind
                if meta["choices"]:
                    kw["choices"] = meta["choices"]
            group.add_argument(*flag_names(f), **kw)


def overrides(args: argparse.Namespace) -> tuple[dict, dict]:
    """(model overrides, train overrides): the settings given on the command line."""
    out = []
    for cls in TARGETS.values():
        out.append({f.name: getattr(args, f.name) for f in settings_of(cls) if getattr(args, f.name, None) is not None})
    return out[0], out[1]


def find_setting(name: str) -> tuple[str, dataclasses.Field] | None:
    """("model" | "train", the field) for a setting's name; None when no config class has that setting."""
    for target, cls in TARGETS.items():
        for f in settings_of(cls):
            if f.name == name:
                return target, f
    return None


def target_of(name: str) -> str | None:
    """"model" or "train" for a setting's name, None when it is not a setting."""
    found = find_setting(name)
    return found[0] if found else None


def applies(meta: dict, family: str, discrete: bool) -> bool:
    """Whether a setting (its field metadata, or a Knob's) means something for this family and data."""
    return (family in meta["families"] and not (meta["discrete_only"] and not discrete)
            and not (meta["continuous_only"] and discrete))


# ------------------------------------------------------------------------------------------------ live knobs
@dataclass(frozen=True)
class Knob:
    """One setting a student can change on the Live training page, as its field metadata describes it."""
    name: str
    label: str
    help: str
    target: str                       # "model" (ModelConfig field) | "train" (TrainConfig field)
    type: type                        # int | float | str | bool
    options: tuple = ()               # choice knobs
    min: float | None = None          # numeric knobs
    max: float | None = None
    step: float | None = None
    input: str = "slider"             # "slider" | "number" (a free number box, for wide ranges)
    families: tuple[str, ...] = GENERATIVE
    discrete_only: bool = False       # only meaningful for token domains
    continuous_only: bool = False     # only meaningful for real-valued rows
    while_running: bool = False       # a running run takes a new value from its next step (live.while_running)

    def applies(self, family: str, discrete: bool) -> bool:
        return applies(dataclasses.asdict(self), family, discrete)

    def checked(self, value: Any) -> Any:
        """`value` as this knob's type when it is one of its options or inside its range; else ValueError."""
        try:
            if isinstance(value, bool) != (self.type is bool) or isinstance(value, (list, dict)) or \
                    (self.type is int and isinstance(value, float) and not value.is_integer()):
                raise TypeError
            cast = self.type(value)
        except (TypeError, ValueError):
            kind = {int: "a whole number", float: "a number", bool: "true or false"}.get(self.type, "a word")
            raise ValueError(f"{self.name} takes {kind}, not {value!r}") from None
        if self.options and cast not in self.options:
            raise ValueError(f"{self.name} is one of {', '.join(map(str, self.options))}, not {value!r}")
        if isinstance(cast, float) and not math.isfinite(cast) or \
                (self.min is not None and cast < self.min) or (self.max is not None and cast > self.max):
            raise ValueError(f"{self.name} is between {self.min} and {self.max}, not {value!r}")
        return cast


def _knob(target: str, f: dataclasses.Field) -> Knob:
    meta, live = f.metadata, f.metadata["live"]
    return Knob(name=f.name, label=live.get("label") or f.name.replace("_", " ").capitalize(), help=meta["help"],
                target=target, type=value_type(f), options=tuple(live.get("options", ())), min=live.get("min"),
                max=live.get("max"), step=live.get("step"), input=live.get("input", "slider"),
                families=tuple(live.get("families", meta["families"])), discrete_only=meta["discrete_only"],
                continuous_only=meta["continuous_only"], while_running=bool(live.get("while_running")))


def live_knobs() -> tuple[Knob, ...]:
    """Every live knob, in display order: those for all families first, then the family-specific ones."""
    knobs = [_knob(target, f) for target, cls in TARGETS.items() for f in settings_of(cls) if f.metadata["live"]]
    return tuple(sorted(knobs, key=lambda k: not set(GENERATIVE) <= set(k.families)))


def knobs_for_family(family: str, discrete: bool) -> list[Knob]:
    """The live knobs that mean something for a model family on discrete (tokens) or continuous data."""
    return [k for k in live_knobs() if k.applies(family, discrete)]
