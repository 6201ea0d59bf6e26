"""Music: four-bar melodies from a melody VAE or GAN, as a piano roll you can play and download."""
import streamlit as st

import seqgen
from seqgen import ui
from seqgen.ui import compute, resources, show, widgets
from seqgen.ui.i18n import _
from seqgen.ui.kinds import kinds_on

ui.configure_torch()


def _new_melody() -> None:
    st.session_state.mu_seed = int(st.session_state.mu_seed) + 1


def choose_model(models) -> str:
    widgets.defaults(mu_seed=0, mu_temp_vae=0.0, mu_temp_gan=1.0)
    return widgets.choose_model(_("Model"), "mu_model", models, resources.model_label,
                                preferred=next(iter(resources.model_names("vae", kinds=kinds_on("music"))), None))


@st.fragment
def new_melodies(name: str, domain, view) -> None:
    """The seed, the temperature, the tempo and the instrument, and the melody they make: each reruns only this,
    not the start section below, which has a tempo and an instrument of its own."""
    with ui.guard(_("the music page")):    # a fragment rerun runs outside the page-level guard
        family = ui.load(name).config.family
        c1, c2, c3 = st.columns(3, vertical_alignment="bottom")
        seed = int(c1.number_input(_("Seed"), 0, 1_000_000, step=1, key="mu_seed", persist_state="session"))
        temp = float(c2.slider(_("Temperature"), 0.0, 1.5, step=0.1, key=f"mu_temp_{family}",
                               persist_state="session",
                               help=_("0 = always the likeliest choice (the VAE's default); 1 = the model's own "
                                      "odds.")))
        c3.button(_("New melody"), key="mu_new", on_click=_new_melody, icon=":material/casino:")
        options = view.playback_options("mu")
        melody = compute.samples(resources.ref(name), seed, 1, temp)[0]
        view.one(domain, melody, key="mu_roll", height=320,
                 title=_("{model}, seed {seed}").format(model=name, seed=seed), **options)
        show.download_buttons(domain, [melody], f"{name}-seed{seed}", key="mu_wav", **options)


st.title(_("Music: new chorale melodies"))
ui.intro(
    _("These models learned from the top voice (the melody) of about 400 chorales by J. S. Bach, cut into "
    "four-bar pieces and moved to C major or A minor. A melody is a sequence of 64 tiny time steps (sixteenth "
    "notes); at each step the recurrent network chooses: start a new note (which pitch?), hold the current one, "
    "or rest. It writes the melody one step at a time, always looking at what it has written so far."),
    _("The **VAE** starts from a random point on its 2-D map (explore the map itself on the *Latent explorer* "
    "page); the **GAN** starts from random noise and was trained against a critic that listens for fake melodies. "
    "The piano roll shows time left to right and pitch bottom to top, one bar between grey lines. Press play; "
    "change the tempo or the instrument (the notes stay the same); download the sound (WAV) or the notes (MIDI) "
    "to open in any music program."))

with ui.guard(_("the music page")):
    models = resources.model_names(("vae", "gan"), kinds=kinds_on("music"))
    if not models:
        st.warning(_("No melody VAE or GAN checkpoint was found."))
        st.stop()
    c_model, _rest = st.columns([1, 2])
    with c_model:
        name = choose_model(models)
    domain = seqgen.get_domain(ui.load(name).config.domain)
    view = show.view(domain)
    new_melodies(name, domain, view)
    view.start_section(domain)
