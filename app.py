"""seqgen explorer: a Streamlit app over the pretrained RNN-GAN / RNN-VAE checkpoints.

    streamlit run app.py

The entry point is a frame that runs on every rerun of every page: page config, the session's language
(seqgen.ui.i18n), navigation over the files in pages/ (registered explicitly, so nothing is listed twice),
presenter mode, the lesson banner (seqgen.ui.lessons), then the page. Widgets keep their values across
page switches through persist_state="session".

Nothing the page loads leaves the machine: the tab icon is an emoji (Streamlit draws it as an inline SVG;
a :material/...: page icon would be fetched from a font server).
"""
import importlib
import json
import threading
from pathlib import Path

import streamlit as st


@st.cache_resource(show_spinner=False)
def _module_loading_lock() -> threading.Lock:
    """One per server process: sessions that arrive together at a fresh server run this frame at once, and
    one of them must not take a module from sys.modules while another is still executing it."""
    return threading.Lock()


def _without_torch(name: str, path: str):
    """Load a torch-free seqgen module under its own name without running the packages' __init__ files
    (seqgen/__init__.py imports torch, which the frame and the home page must not wait for). Later imports
    of the name find it in sys.modules, so there is still one module."""
    import importlib.util
    import sys
    with _module_loading_lock():
        if name in sys.modules:
            return sys.modules[name]
        file = Path(__file__).parent / path
        spec = importlib.util.spec_from_file_location(
            name, file, submodule_search_locations=[str(file.parent)] if file.name == "__init__.py" else None)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        return module


_without_torch("seqgen.locale", "seqgen/locale/__init__.py")
_without_torch("seqgen.ui.i18n", "seqgen/ui/i18n.py")
from seqgen.ui.i18n import N_, _, language_switch  # noqa: E402 - loaded just above, without torch
from seqgen.ui.i18n import setup as setup_language  # noqa: E402

# torch (imported by seqgen) takes seconds to import: the frame and the whole home page need none of it,
# and seqgen is imported where it is needed, so a fresh visitor sees the page at once.
st.set_page_config(page_title="seqgen", page_icon="🧠", layout="wide")
lang = setup_language()

LATENT = "pages/1_latent_explorer.py"
NOISE = "pages/2_noise_to_image.py"
TEXT = "pages/3_text.py"
MUSIC = "pages/4_music.py"
LIVE = "pages/5_live_training.py"
LESSONS = "pages/6_lessons.py"
PICTURES = Path(__file__).parent / "assets" / "home"
HOME_TITLE = N_("Home")
TITLES = {LATENT: N_("Latent explorer"), NOISE: N_("Noise → image"), TEXT: N_("Text"),
          MUSIC: N_("Music"), LIVE: N_("Live training"), LESSONS: N_("Lessons")}
PRESENT_KEY = "present"
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
    card(c1, _(TITLES[LATENT]), LATENT, ":material/explore:",
         _("Walk across a VAE's 2-D map: every point decodes to a digit, a name or a melody."), "latent.png")
    card(c2, _(TITLES[NOISE]), NOISE, ":material/draw:",
         _("A GAN turns random noise into a digit of your choice, drawing it row by row."), "noise.png")
    card(c3, _(TITLES[TEXT]), TEXT, ":material/abc:",
         _("Invent new first names letter by letter; see which are real and which are made up."), "names.json")
    c4, c5, c6 = st.columns(3)
    card(c4, _(TITLES[MUSIC]), MUSIC, ":material/music_note:",
         _("Four-bar melodies in the style of Bach chorales: see the piano roll, play it, download it."), "music.png")
    card(c5, _(TITLES[LIVE]), LIVE, ":material/model_training:",
         _("Train a small model yourself and watch it learn; save it and explore it on the other pages."), None)
    card(c6, _(TITLES[LESSONS]), LESSONS, ":material/school:",
         _("Guided tours for a class: each step says what to do and what to notice, with a link and a QR code "
           "for students."), None)


def card(column, title: str, page: str, icon: str, blurb: str, picture: str | None) -> None:
    """One bordered card: title link, its picture (a PNG, or a JSON list of names), a sentence.

    The pictures are real outputs of the shipped models, written by scripts/home_pictures.py: reading
    files keeps torch off the home page. A missing or unreadable picture only costs the picture."""
    with column.container(border=True):
        st.page_link(page, label=title, icon=icon)
        path = PICTURES / picture if picture else None
        try:
            if path and path.suffix == ".png":
                st.image(path.read_bytes(), output_format="PNG", width="stretch")
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
    thread = threading.Thread(target=importlib.import_module, args=("seqgen.ui",), daemon=True, name="warm-up")
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


def started_in_folder_mode() -> bool:
    """Whether Streamlit began this script run in its pages/-folder mode.

    Until the first st.navigation call in the server process, Streamlit runs new sessions' first script
    runs in that mode, because this app has a pages/ folder. A deep link such as /training is not one of
    that mode's page names, so Streamlit sends the browser "Page not found" before this script even starts,
    and the browser keeps that modal over the right page (st.navigation below then shows the right page).
    Only a fresh server's first visitors are affected; dismiss_page_not_found() takes the modal away."""
    import sys
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code.co_name == "_mpa_v1":    # streamlit.runtime.scriptrunner.script_runner
            return True
        frame = frame.f_back
    return False


def dismiss_page_not_found() -> None:
    """Close Streamlit's "Page not found" modal in this browser tab, if one is open (see above)."""
    st.iframe("""<script>
      const close = () => {
        for (const d of window.parent.document.querySelectorAll('[role="dialog"]')) {
          if (!d.textContent.includes("Page not found")) continue;
          const b = d.querySelector('button[aria-label="Close"]');
          if (b) { b.click(); } else { d.dispatchEvent(new KeyboardEvent("keydown", {key: "Escape", bubbles: true})); }
          return true;
        }
        return false;
      };
      let tries = 0;
      const timer = setInterval(() => { if (close() || ++tries > 40) clearInterval(timer); }, 50);
    </script>""", height=1)


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


folder_mode = started_in_folder_mode()
pg = st.navigation([
    st.Page(home, title=_(HOME_TITLE), icon=":material/home:", default=True),
    st.Page(LATENT, title=_(TITLES[LATENT]), icon=":material/explore:", url_path="latent"),
    st.Page(NOISE, title=_(TITLES[NOISE]), icon=":material/draw:", url_path="noise"),
    st.Page(TEXT, title=_(TITLES[TEXT]), icon=":material/abc:", url_path="text"),
    st.Page(MUSIC, title=_(TITLES[MUSIC]), icon=":material/music_note:", url_path="music"),
    st.Page(LIVE, title=_(TITLES[LIVE]), icon=":material/model_training:", url_path="training"),
    st.Page(LESSONS, title=_(TITLES[LESSONS]), icon=":material/school:", url_path="lessons"),
])
if folder_mode and pg.url_path:     # a deep link: the modal was sent (the home page has no path)
    with st.sidebar:
        dismiss_page_not_found()
language_switch()
st.sidebar.caption(_("seqgen: recurrent GANs and VAEs on digits, names and melodies. Everything runs locally."))
presenter_mode()
if st.session_state.get("lesson_id") or "lesson" in st.query_params:
    from seqgen.ui import lessons
    lessons.frame(pg)
if st.session_state.get("lt_run") is not None:  # a running training keeps its heartbeat on every page
    from seqgen.ui import live
    live.sidebar_status()
pg.run()
