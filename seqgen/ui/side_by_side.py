"""The side-by-side view: two models of one domain make samples from the same seed, drawn next to each other by
their kind's view. Either side is a checkpoint (shipped, or one you saved) or this tab's live run, as it is now
or at one of the steps it kept (seqgen.training.live.run.KEPT_AT)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

import seqgen
from seqgen import explore
from seqgen.checkpoints import Checkpoint
from seqgen.domains import domain_names

from . import compute, live, resources, show, widgets
from .i18n import _, domain_word

MODEL, LIVE = "model", "live"
NOW = -1                     # the live run's step "now": its weights at this moment
MAX_SAMPLES = 20


@dataclass(frozen=True)
class Side:
    """One model a side can show: a checkpoint by name, or the live run at a kept step (or NOW)."""
    source: str              # MODEL or LIVE
    name: str                # the checkpoint's name, or the live run's id
    step: int                # the live run's kept step, NOW; 0 for a checkpoint
    domain: str
    family: str

    @property
    def key(self) -> str:
        return f"{self.source}:{self.name}:{self.step}"


def label(side: Side) -> str:
    """What the picker shows for a side, in the session's language."""
    family = side.family.upper()
    if side.source == MODEL:
        return f"{resources.model_label(side.name)} · {family}"
    if side.step == NOW:
        return _("your live run, now") + f" · {family}"
    return _("your live run at step {step}").format(step=f"{side.step:,}") + f" · {family}"


def sides() -> list[Side]:
    """Every model this tab can put side by side: the readable checkpoints, then its live run's kept steps."""
    out = []
    for name in resources.model_names():
        info = resources.model_info(name)
        out.append(Side(MODEL, name, 0, info["domain"], info["family"]))
    run = live.current_run()
    if run is not None and run.model is not None:
        steps = run.kept_steps()
        out += [Side(LIVE, run.run_id, s, run.domain_name, run.family) for s in (*steps, NOW)]
    return out


def checkpoint(side: Side) -> Checkpoint:
    """The side's model, loaded (a checkpoint) or copied out of the live run (its weights then or now)."""
    if side.source == MODEL:
        return resources.load(side.name)
    run = live.current_run()
    if run is None or run.run_id != side.name or run.model is None:
        raise ValueError(_("That live run is gone (a new run replaced it). Pick another model."))
    model = run.model_copy() if side.step == NOW else run.model_at(side.step)
    return Checkpoint(name=label(side), path=Path("."), config=run.model_cfg, model=model)


def samples(a: Side, b: Side, n: int, seed: int, labels: tuple[int, ...] | None) -> dict:
    """explore.side_by_side for the two sides: cached for two checkpoints, drawn afresh from a live run."""
    if a.source == MODEL and b.source == MODEL:
        return compute.side_by_side(resources.ref(a.name), resources.ref(b.name), n, seed, labels)
    return explore.side_by_side(checkpoint(a), checkpoint(b), n, seed, labels)


def _default_pair(choices: list[Side]) -> tuple[str, str]:
    """A VAE beside a GAN where the domain has both (shipped ones first), else its first two models."""
    shipped = [s for s in choices if s.source == MODEL and resources.model_info(s.name).get("shipped")]
    vae = next((s for s in shipped + choices if s.family == "vae"), choices[0])
    gan = next((s for s in shipped + choices if s.family == "gan"), None)
    if gan is None:
        gan = next(s for s in choices if s != vae)
    return vae.key, gan.key


def choose(all_sides: list[Side]) -> tuple[object, Side, Side] | None:
    """The domain and the two sides, as the pickers say; None (with a message) when there is nothing to compare."""
    by_domain: dict[str, list[Side]] = {}
    for s in all_sides:
        by_domain.setdefault(s.domain, []).append(s)
    domains = [d for d in domain_names() if len(by_domain.get(d, ())) >= 2]
    if not domains:
        st.info(_("Side by side needs two models of one kind of data, and no kind has two yet."))
        return None
    run = live.current_run()
    preferred = run.domain_name if run is not None and run.domain_name in domains else domains[0]
    widgets.defaults(sb_domain=preferred)
    if st.session_state.sb_domain not in domains:
        st.session_state.sb_domain = preferred
    domain_name = st.selectbox(_("Data"), domains, key="sb_domain", persist_state="session",
                               format_func=lambda d: domain_word(seqgen.get_domain(d).picker_title))
    choices = by_domain[domain_name]
    keys = [s.key for s in choices]
    by_key = {s.key: s for s in choices}
    first, second = _default_pair(choices)
    for key, default in (("sb_a", first), ("sb_b", second)):
        if st.session_state.get(key) not in keys:
            st.session_state[key] = default
    c1, c2 = st.columns(2)
    a = c1.selectbox(_("Left"), keys, key="sb_a", format_func=lambda k: label(by_key[k]), persist_state="session")
    b = c2.selectbox(_("Right"), keys, key="sb_b", format_func=lambda k: label(by_key[k]), persist_state="session")
    return seqgen.get_domain(domain_name), by_key[a], by_key[b]


def settings(domain, a: Side, b: Side) -> tuple[int, int, tuple[int, ...] | None]:
    """Seed, number of samples and the labels the conditional side(s) are asked for."""
    widgets.defaults(sb_seed=0, sb_n=10, sb_label=widgets.ONE_OF_EACH)
    conditional = any(checkpoint_config(s).conditional for s in (a, b))
    c1, c2, c3 = st.columns(3) if domain.n_labels else (*st.columns(2), None)
    seed = int(c1.number_input(_("Seed"), 0, 1_000_000, step=1, key="sb_seed", persist_state="session",
                               help=_("One seed for both sides: the same random numbers go into each model.")))
    n = int(c2.slider(_("Number of samples"), 1, MAX_SAMPLES, key="sb_n", persist_state="session"))
    if c3 is None:              # a domain without labels: nothing to ask for
        return seed, n, None
    labels, _choice = widgets.what_to_make(c3, "sb_label", domain, n, disabled=not conditional,
                                           help=_("Only a conditional model can be told what to make; the other "
                                                  "side makes whatever its random numbers give."))
    return seed, n, labels


def checkpoint_config(side: Side):
    if side.source == MODEL:
        return resources.load(side.name).config
    run = live.current_run()
    if run is None or run.run_id != side.name:
        raise ValueError(_("That live run is gone (a new run replaced it). Pick another model."))
    return run.model_cfg


def how_made(side: Side, cfg) -> str:
    """A side's caption: what went into it."""
    if cfg.family == "vae":
        return _("Decoded from random points z of its {d}-D map.").format(d=cfg.latent)
    told = _("asked for the labels above") if cfg.conditional else _("not told what to make")
    return _("Generated from random noise, {told}.").format(told=told)


def pair(domain, a: Side, b: Side, seed: int, n: int, labels) -> None:
    """The two sides' samples next to each other (one above the other on a phone), and what they share."""
    out = samples(a, b, n, seed, labels)
    view = show.view(domain)
    cols = min(n, 5)
    for column, side, arts, key in zip(st.columns(2, gap="large"), (a, b), (out["a"], out["b"]), ("sb_left", "sb_right")):
        with column, st.container(key=key):
            st.subheader(label(side))
            if side.source == LIVE and side.step == NOW:
                st.caption(_("At step {step}.").format(step=f"{live.current_run().snapshot().step:,}"))
            st.caption(how_made(side, checkpoint_config(side)))
            show.gallery(domain, list(arts), cols, key=f"{key}_gallery")
            view.listen(domain, list(arts), key=key)
    if out["same_inputs"]:
        st.caption(_("Both sides read the very same random numbers (seed {seed}), so any difference comes from the "
                     "models alone.").format(seed=seed))
    else:
        st.caption(_("Both sides start from seed {seed}, but they do not read the same kind of random numbers (a "
                     "VAE's point z is not a GAN's noise, and latents of different sizes differ), so compare what "
                     "each makes in general, not sample by sample.").format(seed=seed))
