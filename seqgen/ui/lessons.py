"""Guided lessons: step-by-step tours across the pages, opened from the Lessons page or a link (?lesson=ID).

A lesson is data (LESSONS below). Each step names a page, what to do there and what to notice, and the
page state it starts from: it writes the pages' own session-state keys (the widget keys such as `le_z0`,
`ni_rows`, `lt_domain`) and switches page, so the pages themselves need no lesson code. `preset` fills the
Live training knobs from a preset (seqgen/presets.py); `hide` names widget keys whose controls would
distract at that step (hidden with CSS while the step's page is shown).

app.py calls `frame(pg)` on every run, after st.navigation and before the page: it reads `?lesson=` and
`?step=` (a shared link starts there), switches to the step's page when a step was just entered, draws
the banner with Back / Next, and keeps `?lesson=&step=` in the address bar.

All words are gettext messages (N_ here, translated where shown), so a lesson is in both languages.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from .i18n import N_, _
from .pages import PAGES

LESSON_KEY, STEP_KEY, GOTO_KEY, MEMO_KEY = "lesson_id", "lesson_step", "lesson_goto", "_lesson_url"


@dataclass(frozen=True)
class Step:
    page: str                                   # a key of seqgen.ui.pages.PAGES
    title: str
    do: str                                     # what to do
    notice: str                                 # what to notice
    state: Mapping[str, Any] = field(default_factory=dict)
    preset: tuple[str, str, str] | None = None  # (domain, family, preset name): Live training knobs from it
    hide: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    summary: str
    minutes: int
    steps: tuple[Step, ...]


# Where digits-vae's 9s turn into 4s: along z₂ = 0.25 the judge (digits-classifier) reads 9 up to
# z₁ = 1.25 and 4 from z₁ = 1.5 on.
_NINE, _FOUR = (0.75, 0.25), (1.75, 0.25)
_LATENT = dict(le_model="digits-vae", le_classic=True)
_GAN = dict(ni_model="digits-gan", ni_seed=7, ni_n=10)

LESSONS: dict[str, Lesson] = {lesson.id: lesson for lesson in (
    Lesson("latent-space", N_("What is a latent space?"),
           N_("Walk the digit map of a VAE and find where a 4 turns into a 9."), 10, (
        Step("latent", N_("A map of all digits"),
             N_("Look at the map: every dot is a real handwritten digit the model never trained on, placed by "
                "the encoder and coloured (and shaped) by what it is."),
             N_("Nobody told the encoder which digit is which, yet the same digits end up together: the map "
                "sorts them by how they look."),
             state={**_LATENT, "le_z0": 0.0, "le_z1": 0.0}, hide=("le_interp_mode", "le_text", "le_item")),
        Step("latent", N_("Every point is a digit"),
             N_("Move the z₁ slider slowly from left to right, then z₂ up and down. The picture on the left is "
                "what the decoder makes of the point ⊕."),
             N_("There are no holes: every point decodes to something that looks like a digit, even far from "
                "the dots. That is what the KL term in the VAE's loss buys."),
             state={**_LATENT, "le_z0": -2.0, "le_z1": 0.0}, hide=("le_interp_mode", "le_text", "le_item")),
        Step("latent", N_("Find the border between 4 and 9"),
             N_("The point is now on a 4. Press the left arrow key on the z₁ slider, one step at a time, "
                "until the 4 becomes a 9."),
             N_("Around z₁ ≈ 1.4 the top of the 4 closes into a loop: the model draws a 4 and a 9 almost the "
                "same way, so it puts them side by side."),
             state={**_LATENT, "le_z0": _FOUR[0], "le_z1": _FOUR[1]}, hide=("le_interp_mode", "le_text", "le_item")),
        Step("latent", N_("Walk in a straight line"),
             N_("Scroll down to Interpolation: the strip walks from the 4 (A) to the 9 (B) in 8 steps."),
             N_("Half-way pictures are neither a 4 nor a 9 but something in between: the latent space is "
                "continuous."),
             state={**_LATENT, "le_z0": _FOUR[0], "le_z1": _FOUR[1], "le_interp_mode": "two points I pick",
                    "le_a": _FOUR, "le_b": _NINE, "le_steps": 8}),
    )),
    Lesson("rnn-steps", N_("An RNN writes one step at a time"),
           N_("Replay a GAN drawing digits row by row and watch its hidden state change."), 10, (
        Step("noise", N_("The first row"),
             N_("The GAN has been asked for ten 7s and has drawn only the first row of each."),
             N_("A recurrent network makes a sequence one step at a time: here a step is one row of 28 pixels."),
             state={**_GAN, "ni_label": 7, "ni_rows": 1, "ni_pick": 0}, hide=("ni_png", "ni_reset")),
        Step("noise", N_("Half-way"),
             N_("The slider now shows the first 14 rows. Move it on, row by row."),
             N_("The top bar of each 7 is already there; where the stroke goes down is decided later, from "
                "the memory the network carries from row to row."),
             state={**_GAN, "ni_label": 7, "ni_rows": 14, "ni_pick": 0}, hide=("ni_png", "ni_reset")),
        Step("noise", N_("Play the drawing"),
             N_("Press “Play the drawing” to watch all ten drawn row after row."),
             N_("Every image is drawn at the same time, but each from its own noise: same class, different "
                "handwriting."),
             state={**_GAN, "ni_label": 7, "ni_rows": 28, "ni_pick": 0}, hide=("ni_png", "ni_reset")),
        Step("noise", N_("The hidden state"),
             N_("Look at the heat map below: each row is the generator's memory right after drawing that row."),
             N_("Rows where many colours change are where a stroke starts or ends; where the image is empty, "
                "the memory hardly moves."),
             state={**_GAN, "ni_label": 7, "ni_rows": 28, "ni_pick": 3}, hide=("ni_png", "ni_reset")),
    )),
    Lesson("gan-training", N_("How a GAN learns — and how it fails"),
           N_("Train a GAN live, then make it collapse on purpose."), 20, (
        Step("training", N_("Start a GAN"),
             N_("The settings are the page's defaults for a digits GAN. Press Start."),
             N_("At first the samples are noise. The discriminator quickly learns to tell them from real "
                "digits: D(real) goes up, D(fake) goes down."),
             state={"lt_domain": "digits", "lt_family": "gan"}, preset=("digits", "gan", "digits-gan-live")),
        Step("training", N_("The tug of war"),
             N_("Let it run for a minute. Watch the two curves on the right and the samples below them."),
             N_("When the game is balanced, D(real) and D(fake) stay near each other: the generator's fakes "
                "are good enough to fool the discriminator about half the time. The samples become digits, but "
                "early on all samples of one digit look alike: this small GAN has none of the diversity terms "
                "of the shipped one."),
             state={"lt_domain": "digits", "lt_family": "gan"}, preset=("digits", "gan", "digits-gan-live")),
        Step("training", N_("Make it fail: mode collapse"),
             N_("Press Stop, then Start: the settings are now a learning rate thirty times higher, with feature "
                "matching and label smoothing off."),
             N_("Within a few hundred steps several digits turn into the same blot: whatever the label and "
                "the noise, the generator draws the one picture that fools the discriminator. This is mode "
                "collapse."),
             state={"lt_domain": "digits", "lt_family": "gan"}, preset=("digits", "gan", "digits-gan-collapse")),
        Step("noise", N_("What the cure looks like"),
             N_("This is the shipped digits GAN, trained for 8,000 steps with feature matching, label "
                "smoothing and a mode-seeking term."),
             N_("Twenty 7s, twenty different 7s: the stabilisers keep the generator from betting everything "
                "on one picture."),
             state={**_GAN, "ni_n": 20, "ni_label": 7, "ni_rows": 28}),
    )),
    Lesson("vae-vs-gan", N_("VAE vs GAN on the same data"),
           N_("The same digits made by a VAE and by a GAN: what each is good at."), 15, (
        Step("noise", N_("Side by side"),
             N_("Left: the GAN's samples, one of each digit. Right: the VAE's samples from random points of "
                "its map."),
             N_("The GAN's digits are sharper: it was trained to fool a critic. The VAE's are smoother and "
                "blurrier: it was trained to rebuild every example, so it hedges."),
             state={**_GAN, "ni_n": 20, "ni_label": -1, "ni_rows": 28}),
        Step("latent", N_("A VAE has a map"),
             N_("A VAE can also go the other way: its encoder puts any digit on the map. Move the point around."),
             N_("A GAN has no encoder: you cannot ask it where a given digit lives, only what a given noise "
                "makes."),
             state={**_LATENT, "le_z0": 0.0, "le_z1": -2.0}),
        Step("latent", N_("The same idea on clothes"),
             N_("The same kind of VAE, trained on pictures of clothes."),
             N_("Trousers, bags and shoes each get their own region; shirts, pullovers and coats share one, "
                "because two numbers cannot keep every look apart."),
             state={"le_model": "fashion-vae", "le_classic": True, "le_z0": 0.0, "le_z1": 0.0}),
        Step("training", N_("Train both"),
             N_("Start a VAE on digits. When it is done, switch the family to GAN and start again."),
             N_("The VAE's loss falls smoothly and its latent map sorts the digits as you watch; the GAN's two "
                "losses push against each other instead of falling."),
             state={"lt_domain": "digits", "lt_family": "vae"}, preset=("digits", "vae", "digits-vae-live")),
    )),
)}


# ------------------------------------------------------------------------------------------------ state
def active() -> tuple[Lesson, int] | None:
    lesson = LESSONS.get(st.session_state.get(LESSON_KEY))
    if lesson is None:
        return None
    return lesson, min(max(0, int(st.session_state.get(STEP_KEY, 0))), len(lesson.steps) - 1)


def step_state(step: Step) -> dict:
    """The session values a step writes: its own, plus the Live training knobs of its preset."""
    values = dict(step.state)
    if step.preset:
        from seqgen.presets import configure
        from seqgen.training.live.knobs import knobs_for

        domain, family, preset = step.preset
        model_cfg, train_cfg, _p = configure(preset)
        for knob in knobs_for(domain, family):
            cfg = model_cfg if knob.target == "model" else train_cfg
            values[f"lt_k_{domain}_{family}_{knob.name}"] = getattr(cfg, knob.name)
    return values


def enter(lesson_id: str, index: int) -> None:
    """Go to step `index` of a lesson: write its state, and switch to its page on this run (frame)."""
    lesson = LESSONS[lesson_id]
    index = min(max(0, int(index)), len(lesson.steps) - 1)
    step = lesson.steps[index]
    for key, value in step_state(step).items():
        st.session_state[key] = value
    st.session_state[LESSON_KEY], st.session_state[STEP_KEY] = lesson_id, index
    st.session_state[GOTO_KEY] = step.page


def leave() -> None:
    for key in (LESSON_KEY, STEP_KEY, GOTO_KEY):
        st.session_state.pop(key, None)
    st.session_state[MEMO_KEY] = (None, None)
    for key in ("lesson", "step"):
        if key in st.query_params:
            del st.query_params[key]


def _from_url() -> None:
    """A lesson link (?lesson=ID&step=N) the session has not written itself starts that lesson there."""
    url = (st.query_params.get("lesson"), st.query_params.get("step"))
    if url[0] is None or url == st.session_state.get(MEMO_KEY):
        return
    st.session_state[MEMO_KEY] = url
    if url[0] not in LESSONS:
        return
    try:
        index = int(url[1] or 1) - 1
    except ValueError:
        index = 0
    enter(url[0], index)


def link(lesson_id: str, lang: str, base: str = "") -> str:
    """The lesson's address (relative to the app when `base` is empty)."""
    return f"{base.rstrip('/')}/?lesson={lesson_id}&lang={lang}"


# ------------------------------------------------------------------------------------------------ frame
def frame(pg) -> None:
    """app.py, every run: lesson links, the step's page and state, the banner, the hidden controls."""
    _from_url()
    now = active()
    if now is None:
        return
    lesson, index = now
    step = lesson.steps[index]
    goto = st.session_state.pop(GOTO_KEY, None)
    here = pg.url_path or "home"
    url = {"lesson": lesson.id, "step": str(index + 1)}
    st.session_state[MEMO_KEY] = (url["lesson"], url["step"])
    if goto and goto != here and goto in PAGES:
        from .i18n import current
        st.switch_page(PAGES[goto].file, query_params={**url, "lang": current()})
    for key, value in url.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value
    banner(lesson, index, on_page=(here == step.page))
    if here == step.page and step.hide:
        st.html("<style>" + "".join(f".st-key-{k}{{display:none !important}}" for k in step.hide) + "</style>")


# A phone shows the sidebar only when it is opened, and nothing says to open it: there the step (its text,
# Back and Next) also sits on top of the page. On a wider screen only the sidebar's copy shows.
NARROW = 768        # px: Streamlit's own breakpoint, below which the sidebar is collapsed
PHONE_CSS = (f"<style>@media (min-width: {NARROW}px) {{ .st-key-lesson_banner_top {{ display: none; }} }}"
             f"@media (max-width: {NARROW - 1}px) {{ .st-key-lesson_banner_top {{ margin-bottom: 0.5rem; }} }}</style>")


def banner(lesson: Lesson, index: int, on_page: bool) -> None:
    """The step's text with Back / Next: in the sidebar, and on top of the page where the sidebar is hidden
    (a phone, an embedded app with ?embed=true)."""
    try:
        embedded = bool(st.context.is_embedded)
    except Exception:  # noqa: BLE001 - no browser context
        embedded = False
    if not embedded:
        with st.sidebar.container(border=True, key="lesson_banner"):
            _banner_body(lesson, index, on_page, suffix="")
        st.html(PHONE_CSS)
    with st.container(border=True, key="lesson_banner" if embedded else "lesson_banner_top"):
        _banner_body(lesson, index, on_page, suffix="" if embedded else "_top")


def _banner_body(lesson: Lesson, index: int, on_page: bool, suffix: str) -> None:
    """One copy of the banner; `suffix` keeps the keys of its buttons apart from the other copy's."""
    step, n = lesson.steps[index], len(lesson.steps)
    st.markdown(f"**{_(lesson.title)}** · " + _("step {i} of {n}").format(i=index + 1, n=n))
    st.markdown(f"#### {_(step.title)}")
    st.markdown(_("**Do:** {text}").format(text=_(step.do)))
    st.markdown(_("**Notice:** {text}").format(text=_(step.notice)))
    if not on_page:
        st.button(_("Back to this step's page"), key=f"lesson_here{suffix}", on_click=enter, args=(lesson.id, index),
                  icon=":material/my_location:")
    c1, c2 = st.columns(2)
    c1.button(_("Back"), key=f"lesson_back{suffix}", on_click=enter, args=(lesson.id, index - 1),
              disabled=index == 0, icon=":material/arrow_back:", use_container_width=True)
    if index + 1 < n:
        c2.button(_("Next"), key=f"lesson_next{suffix}", on_click=enter, args=(lesson.id, index + 1), type="primary",
                  icon=":material/arrow_forward:", use_container_width=True)
    else:
        c2.button(_("Finish"), key=f"lesson_finish{suffix}", on_click=leave, type="primary", icon=":material/check:",
                  use_container_width=True)
    st.button(_("Leave the lesson"), key=f"lesson_leave{suffix}", on_click=leave, type="tertiary")
