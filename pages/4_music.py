"""Music: four-bar melodies from a melody VAE or GAN, as a piano roll you can play and download."""
import streamlit as st

import seqgen
from seqgen import audio, ui
from seqgen.domains.melodies import in_scale_ratio
from seqgen.ui import compute, figures, music, own_input, resources, show, widgets
from seqgen.ui.i18n import N_, _, ngettext

INSTRUMENT_NAMES = (N_("piano"), N_("organ"), N_("strings"), N_("flute"))  # audio.INSTRUMENTS, shown
ui.configure_torch()


def _new_melody() -> None:
    st.session_state.mu_seed = int(st.session_state.mu_seed) + 1


def settings(models):
    widgets.defaults(mu_seed=0, mu_temp_vae=0.0, mu_temp_gan=1.0, mu_tempo=90, mu_instrument="piano")
    c1, c2, c3 = st.columns([1.2, 1, 1])
    with c1:
        name = widgets.choose_model(_("Model"), "mu_model", models, resources.model_label,
                                     preferred=next(iter(resources.model_names("vae", kind="melody")), None))
    family = ui.load(name).config.family
    seed = int(c2.number_input(_("Seed"), 0, 1_000_000, step=1, key="mu_seed", persist_state="session"))
    temp = float(c3.slider(_("Temperature"), 0.0, 1.5, step=0.1, key=f"mu_temp_{family}", persist_state="session",
                           help=_("0 = always the likeliest choice (the VAE's default); 1 = the model's own odds.")))
    st.button(_("New melody"), key="mu_new", on_click=_new_melody, icon=":material/casino:")
    c4, c5 = st.columns(2)
    tempo = int(c4.slider(_("Tempo (beats per minute)"), *music.TEMPO_RANGE, step=5, key="mu_tempo",
                          persist_state="session"))
    sounds = {i: _(i) for i in audio.INSTRUMENTS}
    instrument = c5.selectbox(_("Instrument sound"), list(audio.INSTRUMENTS), key="mu_instrument",
                              persist_state="session", format_func=sounds.get)
    return name, seed, temp, tempo, instrument


def melody_player(name, domain, notes, seed, tempo, instrument) -> None:
    notes = tuple(notes)
    st.plotly_chart(figures.piano_roll_figure(notes, n_steps=domain.seq_len, height=320, tempo=tempo,
                                              title=_("{model}, seed {seed}").format(model=name, seed=seed)),
                    key="mu_roll", config={"displaylogo": False})
    wav = music.melody_wav(notes, domain.seq_len, tempo, instrument)
    with st.container(key="mu_player"):
        st.audio(wav, format="audio/wav")
    bars = domain.seq_len // 16
    st.caption(_("{melody}; {share} of the notes are in C major / A minor.").format(
        melody=show.describe(domain, notes), share=f"{in_scale_ratio(notes):.0%}") + " "
        + ngettext("{n} bar at {tempo} BPM ≈ {seconds} s.", "{n} bars at {tempo} BPM ≈ {seconds} s.", bars).format(
            n=bars, tempo=tempo, seconds=f"{domain.seq_len / 4 * 60 / tempo:.1f}"))
    d1, d2, _rest = st.columns([1, 1, 2])
    d1.download_button(_("Download WAV"), wav, file_name=f"{name}-seed{seed}-{instrument}.wav", mime="audio/wav",
                       key="mu_wav", icon=":material/download:")
    midi = audio.to_midi_bytes(list(notes), tempo_bpm=tempo, program=audio.MIDI_PROGRAMS.get(instrument, 0))
    d2.download_button(_("Download MIDI"), midi, file_name=f"{name}-seed{seed}-{instrument}.mid",
                       mime="audio/midi", key="mu_midi", icon=":material/download:")


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
    models = resources.model_names(("vae", "gan"), kind="melody")
    if not models:
        st.warning(_("No melody VAE or GAN checkpoint was found."))
        st.stop()
    name, seed, temp, tempo, instrument = settings(models)
    domain = seqgen.get_domain(ui.load(name).config.domain)
    notes = compute.samples(resources.ref(name), seed, 1, temp)[0]
    melody_player(name, domain, notes, seed, tempo, instrument)
    own_input.melody_start_section(domain, tempo, instrument)
