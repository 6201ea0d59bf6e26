"""The knobs of a live run and the configs they make.

The knobs are the ModelConfig / TrainConfig settings whose field metadata has `live=...`
(seqgen.configurator reads them). A run starts from the domain's "<domain>-<family>-live" preset; a
domain without one (a notebook's own data) trains from the family's defaults plus the knobs given.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...configurator import Knob, applies, find_setting, knobs_for_family, live_knobs
from ...models.config import GENERATIVE

FAMILIES = GENERATIVE
KNOBS: tuple[Knob, ...] = live_knobs()
KNOB_BY_NAME = {k.name: k for k in KNOBS}


def knobs_for(domain: str, family: str) -> list[Knob]:
    """The knobs that mean something for this domain/family, in display order."""
    from ...domains import get_domain
    return knobs_for_family(family, get_domain(domain).discrete)


def live_defaults(domain: str, family: str) -> dict:
    """The knob values a run of domain/family starts from when nobody changes anything."""
    return build_configs(domain, family)[2]


def _split(domain, family: str, knobs: Mapping[str, Any]) -> tuple[dict, dict]:
    """(model overrides, train overrides); settings that mean nothing for this model are left out."""
    unknown = sorted(k for k in knobs if find_setting(k) is None)
    if unknown:
        raise ValueError(f"unknown knob(s): {', '.join(unknown)}")
    model_over, train_over = {}, {}
    for name, value in knobs.items():
        if value is None:
            continue
        target, f = find_setting(name)
        if applies(f.metadata, family, domain.discrete):
            (model_over if target == "model" else train_over)[name] = value
    return model_over, train_over


def build_configs(domain: str, family: str, knobs: Mapping[str, Any] | None = None):
    """(ModelConfig, TrainConfig, knob values used) for a live run.

    `knobs` may set any ModelConfig / TrainConfig setting (not only the page's knobs); unknown names raise
    ValueError. The values returned are every knob of this domain/family plus the other settings given."""
    from ...domains import get_domain
    from ...models import ModelConfig, TrainConfig
    from ...presets import configure, live_preset

    if family not in FAMILIES:
        raise ValueError(f"live training is for the families {', '.join(FAMILIES)}, not {family!r}")
    dom = get_domain(domain)
    model_over, train_over = _split(dom, family, dict(knobs or {}))
    preset = live_preset(domain, family)
    if preset:
        model_cfg, train_cfg, _ = configure(preset, domain, model_overrides=model_over, train_overrides=train_over)
    else:
        model_cfg, train_cfg = ModelConfig.for_domain(dom, family, **model_over), TrainConfig(**train_over)
    # keep eval cheap relative to the run: never fewer than ~3 validations, never more than every 25 steps
    train_cfg.eval_every = max(25, min(train_cfg.eval_every, train_cfg.steps // 3 or 25))
    train_cfg.validate()
    cfgs = {"model": model_cfg, "train": train_cfg}
    values = {k.name: getattr(cfgs[k.target], k.name) for k in knobs_for_family(family, dom.discrete)}
    values.update({k: v for k, v in {**model_over, **train_over}.items() if k not in values})
    return model_cfg, train_cfg, values


def describe_knobs(values: Mapping[str, Any]) -> str:
    def fmt(v):
        return f"{v:g}" if isinstance(v, float) else str(v)
    return ", ".join(f"{k}={fmt(v)}" for k, v in values.items())
