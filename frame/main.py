"""The frame around every page of the seqgen app (started by app.py: `streamlit run app.py`).

It runs on every rerun of every page: page config, the session's language (seqgen.ui.i18n), navigation over
the files in pages/ (listed once, in seqgen.ui.pages), presenter mode, class mode (seqgen.ui.classroom: the
teacher leads, students follow), the lesson banner (seqgen.ui.lessons),
then the page. Widgets keep their values across page switches through persist_state="session".

Nothing the page loads leaves the machine: the tab icon is an emoji (Streamlit draws it as an inline SVG;
a :material/...: page icon would be fetched from a font server).
"""
import importlib
import json
import os
import threading
from pathlib import Path

# Torch's OpenMP threads sleep between jobs in the app: spinning ones would slow every training run and page
# beside them (read once, when torch loads; an OMP_WAIT_POLICY already set wins).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import streamlit as st  # noqa: E402

from seqgen.ui.browser_values import show_notice as show_browser_notice  # noqa: E402
from seqgen.ui.i18n import _, language_switch  # noqa: E402
from seqgen.ui.i18n import setup as setup_language  # noqa: E402
from seqgen.ui.pages import HOME_TITLE, PAGES  # noqa: E402
from seqgen.ui.widgets import PRESENT_KEY  # noqa: E402

# torch takes seconds to import: app.py's imports load it when the server starts (frame/main.py run on its
# own, as the page tests do, loads it here), so a fresh visitor's first page does not wait for it.
st.set_page_config(page_title="seqgen", page_icon="🧠", layout="wide")
lang = setup_language()

PICTURES = Path(__file__).resolve().parents[1] / "assets" / "home"
# Captions in a grey dark enough to read (Streamlit's own reads at 3.9:1 on white, under WCAG AA's 4.5:1), and
# on touch screens every control at least 44 px tall, so a finger hits the one it means.
APP_CSS = """<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] * { color: #55575f !important; opacity: 1 !important; }
@media (pointer: coarse) {
  [data-testid^="stBaseButton"], [data-testid="stDownloadButton"] button { min-height: 44px; }
  [data-testid="stCheckbox"] label, [data-testid="stRadio"] label, [data-testid="stToggle"] label {
    min-height: 44px; align-items: center; }
  [data-testid="stSidebarNavLink"] { min-height: 44px; }
}
</style>"""
# Presenter mode: larger type, pictures and plots for a projector (Streamlit sizes its text in rem)
PRESENTER_CSS = """<style>
html { font-size: 21px; }
[data-testid="stMain"] [data-testid="stImage"] img { min-width: min(100%, 360px); image-rendering: pixelated; }
[data-testid="stMain"] .js-plotly-plot .main-svg text { font-size: 15px !important; }
[data-testid="stMainBlockContainer"] { max-width: 100%; padding-left: 2rem; padding-right: 2rem; }
</style>"""


def home() -> None:
    st.title(_("seqgen: how machines learn to make digits, names and music"))
    st.markdown(_(
        "This is a hands-on lab for two kinds of **generative** neural networks, models that make new things "
        "instead of just recognising them. Everything runs on this computer from small models trained in "
        "advance. Pick a page below (or in the sidebar), move a slider, and watch what the model does."))
    pictures()
    ideas()
    warm_up()


def pictures() -> None:
    c1, c2, c3 = st.columns(3)
    card(c1, "latent", _("Walk across a VAE's 2-D map: every point decodes to a digit, a name or a melody."),
         "latent.png", _("digits decoded across a VAE's latent plane, each morphing into its neighbours"))
    card(c2, "noise", _("A GAN turns random noise into a digit of your choice, drawing it row by row."), "noise.png",
         _("digits drawn by the GAN, one of each from 0 to 9"))
    card(c3, "text", _("Invent new first names letter by letter; see which are real and which are made up."),
         "names.json")
    c4, c5, c6 = st.columns(3)
    card(c4, "music", _("Four-bar melodies in the style of Bach chorales: see the piano roll, play it, download it."),
         "music.png", _("piano rolls of melodies the models wrote"))
    card(c5, "training", _("Train a small model yourself and watch it learn; save it and explore it on the other "
                           "pages."), None)
    card(c6, "lessons", _("Guided tours for a class: each step says what to do and what to notice, with a link and "
                          "a QR code for students."), None)
    c7, c8, _c9 = st.columns(3)
    card(c7, "compare", _("Two models side by side on the same seed: a VAE beside a GAN, or your live run at step "
                          "500 beside the same run now."), None)
    card(c8, "class", _("Teach a class: every student's screen follows yours, and their answers and drawings "
                        "gather on your screen."), None)


def card(column, page_id: str, blurb: str, picture: str | None, alt: str = "") -> None:
    """One bordered card: title link, its picture (a PNG, or a JSON list of names), a sentence.

    The pictures are real outputs of the shipped models, written by scripts/home_pictures.py: reading
    files keeps torch off the home page. A missing or unreadable picture only costs the picture."""
    page = PAGES[page_id]
    with column.container(border=True):
        st.page_link(page.file, label=_(page.title), icon=page.icon)
        path = PICTURES / picture if picture else None
        try:
            if path and path.suffix == ".png":
                st.image(path.read_bytes(), output_format="PNG", width="stretch", alt=alt)
            elif path and path.suffix == ".json":   # generated names: data, never translated
                st.container(key="data_home_names").markdown(
                    " · ".join(f"**{n}**" for n in json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            pass
        st.caption(blurb)


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Import torch and the models' code (seconds) in the background, once per server, while the
    first visitor reads the home page, so the first model page opens without that wait."""
    thread = threading.Thread(target=importlib.import_module, args=("seqgen.ui.compute",), daemon=True,
                              name="warm-up")
    thread.start()
    return thread


def ideas() -> None:
    st.header(_("The ideas in five minutes"))
    st.markdown(_("""
**Everything is a sequence.** A digit image is read as 28 rows of pixels, top to bottom; a name is a
sequence of letters; a melody is a sequence of sixteenth-note steps. So one kind of network handles all three.

**Recurrent neural networks (RNNs)** read or write a sequence one step at a time. At each step they combine the
new input with a *hidden state*, a memory of everything so far, and pass that memory on to the next step.
That is how a name-writing RNN knows it already wrote "Ma" when it picks the next letter.

**GANs (generative adversarial networks)** are two networks trained against each other:
- the **generator** turns random numbers (*noise*) into a sample, for example a drawing of a 7;
- the **discriminator** sees real examples and the generator's fakes and scores how real each looks.
The generator improves by fooling the discriminator, the discriminator by not being fooled. When the game is
balanced, the fakes look real. Give both networks a *label* ("draw a 7") and the GAN becomes *conditional*.

**VAEs (variational autoencoders)** learn a map:
- the **encoder** reads an example and places it at a point *z* on a small map (here just 2 numbers);
- the **decoder** turns any point back into an example;
- the **KL term** in the training loss keeps the encoder's points close to a standard bell curve around the
  centre and slightly fuzzy, so the map has no holes: every point decodes to something sensible, and similar
  examples end up near each other.
The *Latent explorer* lets you walk across that map.
"""))
    st.caption(_("Tip for teachers: the latent explorer keeps its view in the address bar, so you can share a "
                 "link to exactly the point you are showing. The Lessons page has guided tours for a class."))


def presenter_mode() -> bool:
    """?present=1 or the sidebar toggle: larger type and pictures for a projector (kept in the address bar)."""
    asked = st.query_params.get("present")
    if asked in ("1", "0") and st.session_state.get("_present_url") != asked:
        st.session_state["_present_url"] = asked
        st.session_state[PRESENT_KEY] = asked == "1"
    on = st.sidebar.toggle(_("Presenter mode"), key=PRESENT_KEY,
                           help=_("Larger text and pictures for a projector. A link with ?present=1 opens in it."))
    value = "1" if on else None
    st.session_state["_present_url"] = value or "0"
    if value and st.query_params.get("present") != value:
        st.query_params["present"] = value
    elif not value and "present" in st.query_params:
        del st.query_params["present"]
    if on:
        st.html(PRESENTER_CSS)
    return on


pg = st.navigation([st.Page(home, title=_(HOME_TITLE), icon=":material/home:", default=True)]
                   + [st.Page(p.file, title=_(p.title), icon=p.icon, url_path=p.url_path) for p in PAGES.values()])
st.html(APP_CSS)
language_switch()
st.sidebar.caption(_("seqgen: recurrent GANs and VAEs on digits, names and melodies. Everything runs locally."))
presenter_mode()
if st.session_state.get("class_code") or "class" in st.query_params or "teacher" in st.query_params:
    from seqgen.ui import classroom  # before the lessons: following the teacher may enter a lesson step
    classroom.frame(pg)
if st.session_state.get("lesson_id") or "lesson" in st.query_params:
    from seqgen.ui import lessons
    lessons.frame(pg)
if st.session_state.get("lt_run") is not None:  # a running training keeps its heartbeat on every page
    from seqgen.ui import live
    live.sidebar_status()
show_browser_notice()     # a forged value from the browser, refused before the page ran
pg.run()
