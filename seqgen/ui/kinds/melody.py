"""The melody kind's view: piano rolls you can play (tempo and instrument), WAV and MIDI files; a start played
on a note grid or uploaded as MIDI, continued by the models."""
from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from seqgen import audio
from seqgen.domains import get_domain
from seqgen.kinds.melody import Note, pitch_name
from seqgen.kinds.midi import MAX_MIDI_BYTES
from seqgen.kinds.notes import NOTE_NAMES, estimated_key

from .. import browser_values, compute, figures, i18n, resources
from ..i18n import N_, _, domain_word, ngettext
from ..widgets import defaults, plain, presenting
from .base import KindView

SAMPLE_RATE = 22050
TEMPO_RANGE = (40, 200)
DEFAULT_TEMPO = 90
INSTRUMENT_NAMES = (N_("piano"), N_("organ"), N_("strings"), N_("flute"))  # audio.INSTRUMENTS, shown
GRID_LOW, GRID_HIGH = 60, 84   # the note grid: C4..C6, two octaves
NATURAL = {0, 2, 4, 5, 7, 9, 11}       # pitch classes of the white keys: C D E F G A B


class MelodyView(KindView):
    kind = "melody"
    pages = ("music",)
    renderer = "melody.mjs"

    def describe(self, domain, art) -> str:
        """Its key (estimated from the notes), the number of notes and their range, in the session's language
        (note names stay as they are)."""
        notes = list(art)
        if not notes:
            return _("silence")
        lo, hi = min(n.pitch for n in notes), max(n.pitch for n in notes)
        span = ngettext("{n} note, {low}–{high}", "{n} notes, {low}–{high}", len(notes)).format(
            n=len(notes), low=pitch_name(lo), high=pitch_name(hi))
        key = estimated_key(notes)
        if key is None:
            return _("a melody of {notes}").format(notes=span)
        tonic, mode = NOTE_NAMES[key[0]], key[1]
        in_key = _("{tonic} major").format(tonic=tonic) if mode == "major" else _("{tonic} minor").format(tonic=tonic)
        return _("a melody in {key}, {notes}").format(key=in_key, notes=span)

    def one(self, domain, art, key: str, caption: str | None = None, tempo: int = DEFAULT_TEMPO,
            instrument: str = "piano", height: int = 240, title: str | None = None, **options) -> None:
        """Piano roll (with a follow-the-notes button when it has a title), audio player, description."""
        notes = tuple(art)
        height = int(height * 1.5) if presenting() else height
        st.plotly_chart(piano_roll_chart(notes, n_steps=domain.seq_len, height=height, title=title,
                                         tempo=tempo if title else None),
                        key=key, config={"displayModeBar": False})
        with st.container(key=f"{key.removesuffix('_roll')}_player"):
            st.audio(melody_wav(notes, domain.seq_len, tempo, instrument), format="audio/wav")
        text = self.describe(domain, notes)
        if title:     # the main player: how it fits the data's keys, and how long it plays
            text = _("{melody}; {share} of the notes are in {keys}.").format(
                melody=text, share=f"{domain.in_scale(notes):.0%}", keys=domain_word(domain.keys_words)) + " " + ngettext(
                "{n} bar at {tempo} BPM ≈ {seconds} s.", "{n} bars at {tempo} BPM ≈ {seconds} s.", domain.bars).format(
                n=domain.bars, tempo=tempo, seconds=f"{domain.seq_len / domain.steps_per_beat * 60 / tempo:.1f}")
        st.caption(text + (f". {caption}" if caption else ""))

    def grid(self, domain, grid: dict, caption: str, key: str) -> None:
        st.image(compute.picture_png(domain.name, grid["artifacts"], grid["n"], 2), alt=self.alt(domain, grid["artifacts"]),
                 caption=caption + " " + _("Each tile is a 4-bar piano roll."), output_format="PNG")

    def strip(self, domain, arts, key: str) -> None:
        st.image(compute.picture_png(domain.name, arts, len(arts), 2), output_format="PNG", alt=self.alt(domain, arts),
                 caption=_("Each tile: one piano roll, played in order below"))
        st.audio(melody_wav(one_after_another(arts, domain.seq_len), domain.seq_len * len(arts)),
                 format="audio/wav")
        step = st.select_slider(_("Hear one step"), list(range(1, len(arts) + 1)), key=f"{key}_step")
        st.audio(melody_wav(tuple(arts[step - 1]), domain.seq_len), format="audio/wav")

    def gallery(self, domain, arts, cols: int, labels, key: str | None) -> None:
        st.image(compute.picture_png(domain.name, list(arts), cols, 2), output_format="PNG", alt=self.alt(domain, arts),
                 caption=_("piano rolls: time across, pitch up"))
        st.caption(" · ".join(self.describe(domain, n) for n in list(arts)[:8]))

    def playback_options(self, key: str) -> dict:
        defaults(**{f"{key}_tempo": DEFAULT_TEMPO, f"{key}_instrument": "piano"})
        c1, c2 = st.columns(2)
        tempo = int(c1.slider(_("Tempo (beats per minute)"), *TEMPO_RANGE, step=5, key=f"{key}_tempo",
                              persist_state="session"))
        sounds = {i: _(i) for i in audio.INSTRUMENTS}
        browser_values.choice(f"{key}_instrument", audio.INSTRUMENTS)
        instrument = c2.selectbox(_("Instrument sound"), list(audio.INSTRUMENTS), key=f"{key}_instrument",
                                  persist_state="session", format_func=sounds.get)
        return {"tempo": tempo, "instrument": instrument}

    def listen(self, domain, arts, key: str, tempo: int = DEFAULT_TEMPO, instrument: str = "piano", **options) -> None:
        with st.container(key=f"{key}_player"):
            st.audio(melody_wav(one_after_another(arts, domain.seq_len), domain.seq_len * len(arts), tempo, instrument),
                     format="audio/wav")
        st.caption(_("All the melodies, one after another."))

    def downloads(self, domain, arts, stem: str, tempo: int = DEFAULT_TEMPO, instrument: str = "piano",
                  **options) -> list[tuple[str, bytes, str, str]]:
        notes = one_after_another(arts, domain.seq_len)
        steps = domain.seq_len * len(arts)
        midi = audio.to_midi_bytes(list(notes), tempo_bpm=tempo, program=audio.MIDI_PROGRAMS.get(instrument, 0))
        return [(_("Download WAV"), melody_wav(notes, steps, tempo, instrument), f"{stem}-{instrument}.wav",
                 "audio/wav"),
                (_("Download MIDI"), midi, f"{stem}-{instrument}.mid", "audio/midi")]

    # ---------------------------------------------------------------- your own start
    def start_section(self, domain, key: str = "own_mel", **options) -> None:
        """A start the user plays (a note grid or a MIDI file), finished by a model, with players at a tempo and
        instrument of their own: the Music page's melody has its own pair in its section, so that changing them
        there reruns only that section."""
        st.header(_("Play the start of a melody"))
        sources = {"a note grid (one bar)": _("a note grid (one bar)"), "a MIDI file": _("a MIDI file")}
        browser_values.choice(f"{key}_how", sources)
        how = st.radio(_("Start from"), list(sources), key=f"{key}_how", horizontal=True, format_func=sources.get)
        notes = _from_grid(domain, key) if how.startswith("a note") else _from_midi(domain, key)
        if not notes:
            return
        bars = 1
        if how == "a MIDI file":
            bars = int(st.slider(_("Keep the first bars"), 1, domain.bars - 1, 1, key=f"{key}_bars"))
        models = resources.model_names(("vae", "gan"), domain=domain.name)
        if not models:
            st.info(_("No {data} VAE or GAN is available.").format(data=domain_word(domain.title)))
            return
        browser_values.choice(f"{key}_model", models, options_change=True)
        name = st.selectbox(_("Continue with"), models, key=f"{key}_model")
        playback = self.playback_options(key)
        ref = resources.ref(name)
        try:
            res = compute.complete(ref, tuple(notes), 3, 1.0, 0, bars, None)
        except ValueError as e:
            st.error(plain(e, 300), icon=":material/piano:")
            return
        _encoded_point(ref, notes)
        cut = bars * domain.steps_per_bar
        for i, art in enumerate(res["artifacts"]):
            st.plotly_chart(piano_roll_chart(tuple(art), n_steps=domain.seq_len, height=220, yours_until=cut),
                            key=f"{key}_roll{i}", config={"displayModeBar": False})
            st.audio(melody_wav(tuple(art), domain.seq_len, playback["tempo"], playback["instrument"]),
                     format="audio/wav")
        st.caption(_("The shaded part is yours (the first {n} steps), kept exactly; the model continued from there. "
                     "Each player plays your start and the continuation back to back.").format(n=cut))

    def pad_text(self, domain) -> dict:
        # the pad picks the form by n: gettext's plural rule, evaluated here for the counts a melody can have
        return {"notes": [ngettext("{n} note; released, it plays", "{n} notes; released, it plays", n)
                          for n in range(domain.seq_len + 1)]}


# ---------------------------------------------------------------- sound and files, cached by the notes
# A four-bar melody's WAV is about half a megabyte at 90 BPM (a megabyte at 40): 128 of them hold a class's
# current sounds (the melody and the start section's players of 30 students) and stop growing within minutes.
@st.cache_data(show_spinner=False, max_entries=128)
def melody_wav(notes: tuple, n_steps: int, tempo_bpm: int = DEFAULT_TEMPO, instrument: str = "piano") -> bytes:
    """16-bit WAV of the notes over n_steps sixteenths. Length: audio.wave_length(n_steps, tempo_bpm, SAMPLE_RATE)."""
    wave = audio.synthesize(list(notes), tempo_bpm=tempo_bpm, instrument=instrument,
                            sample_rate=SAMPLE_RATE, n_steps=n_steps)
    return audio.to_wav_bytes(wave, SAMPLE_RATE)


@st.cache_data(show_spinner=False, max_entries=512)
def melody_midi(notes: tuple, tempo_bpm: int = DEFAULT_TEMPO) -> bytes:
    return audio.to_midi_bytes(list(notes), tempo_bpm=tempo_bpm)


def one_after_another(melodies, steps_each: int) -> tuple:
    """Several melodies as one: each shifted to start where the previous one's steps end."""
    return tuple(replace(n, start=n.start + i * steps_each) for i, notes in enumerate(melodies) for n in notes)


# ---------------------------------------------------------------- the piano roll
def piano_roll_figure(notes, n_steps: int = 64, height: int = 260, title: str | None = None,
                      tempo: int | None = None, playhead: int | None = None) -> dict:
    """Notes as horizontal bars: time (16th steps) across, pitch up; bar lines every 16 steps (a plotly dict).

    Every white-key pitch in range is named on the pitch axis and each bar carries its note's name, upright
    and readable. `playhead` draws a line at that step; with `tempo` the figure gets a ▶ button that sweeps
    the line across at that speed (in the browser, no rerun)."""
    # one trace even for a melody of rests: plotly refuses a figure with no data at all (and plotly 7 then
    # fails on its own error class), so an empty melody is drawn as an empty roll
    data = [{
        "type": "bar", "orientation": "h", "x": [n.length for n in notes], "base": [n.start for n in notes],
        "y": [n.pitch for n in notes], "width": 0.85,
        "marker": {"color": figures.PALETTE[0], "line": {"width": 0.5, "color": "#00304d"}},
        "text": [pitch_name(n.pitch) for n in notes], "textposition": "inside", "insidetextanchor": "start",
        "textangle": 0, "constraintext": "none", "insidetextfont": {"size": 13, "color": "white"},
        "customdata": [[pitch_name(n.pitch), n.start, n.length] for n in notes],
        "hovertemplate": "%{customdata[0]}: " + _("step {start}, {length} sixteenths").format(
            start="%{customdata[1]}", length="%{customdata[2]}") + "<extra></extra>"}]
    lo = min([n.pitch for n in notes], default=60) - 2
    hi = max([n.pitch for n in notes], default=72) + 2
    ticks = [p for p in range(lo, hi + 1) if p % 12 in NATURAL]
    bars = [{"type": "line", "x0": b, "x1": b, "yref": "paper", "y0": 0, "y1": 1, "line": {"color": "#999", "width": 1}}
            for b in range(0, n_steps + 1, 16)]
    layout = {"height": height, "margin": {"l": 10, "r": 10, "t": 30 if (title or tempo) else 10, "b": 10},
              "showlegend": False, "plot_bgcolor": "#fafafa", "bargap": 0,
              "shapes": bars + ([] if playhead is None else [_playhead(playhead)]),
              "xaxis": {"range": [0, n_steps], "title": {"text": _("time (sixteenth notes; a bar = 16)")}, "dtick": 4,
                        "gridcolor": "#eee"},
              "yaxis": {"range": [lo - 0.5, hi + 0.5], "tickvals": ticks, "tickfont": {"size": 12},
                        "ticktext": [pitch_name(p) for p in ticks], "title": {"text": _("pitch")},
                        "gridcolor": "#eee"}}
    if title:
        layout["title"] = {"text": title}
    fig = {"data": data, "layout": layout}
    if tempo:
        step_ms = 60_000 / tempo / 4
        fig["frames"] = [{"name": str(t), "layout": {"shapes": bars + [_playhead(t)]}} for t in range(n_steps + 1)]
        layout["updatemenus"] = [{"type": "buttons", "showactive": False, "x": 1, "y": 1.02, "xanchor": "right",
                                  "yanchor": "bottom", "direction": "left", "buttons": [
            {"label": "▶ " + _("Follow the notes"), "method": "animate",
             "args": [None, {"frame": {"duration": step_ms, "redraw": True}, "transition": {"duration": 0},
                             "fromcurrent": False, "mode": "immediate"}]}]}]
    return fig


def piano_roll_chart(notes: tuple, n_steps: int = 64, height: int = 260, title: str | None = None,
                     tempo: int | None = None, yours_until: int | None = None) -> compute.ValidatedFigure:
    """piano_roll_figure as st.plotly_chart should get it: validated once per roll and language, not on every
    rerun. `yours_until` shades the steps before it (a learner's start)."""
    return compute.ValidatedFigure(_validated_roll(tuple(notes), n_steps, height, title, tempo, yours_until,
                                                   i18n.current()))


@st.cache_resource(show_spinner=False, max_entries=256)
def _validated_roll(notes: tuple, n_steps: int, height: int, title: str | None, tempo: int | None,
                    yours_until: int | None, lang: str) -> dict:
    """`lang` keys the cache only: the figure's words come from the session's language. Of a new roll only what
    depends on its notes is new (its bar trace's arrays, the pitch axis, the title); the rest, plotly's template
    among it, is the empty roll's, validated once, so a new melody's roll costs no validation of its own."""
    empty = _validated_empty_roll(n_steps, height, bool(title), tempo, yours_until, lang)
    fig = piano_roll_figure(notes, n_steps=n_steps)       # its notes only: no title, button or frames to build
    trace, axis = fig["data"][0], fig["layout"]["yaxis"]
    data = ({**empty["data"][0], **{k: trace[k] for k in ROLL_NOTE_ARRAYS}},)
    layout = {**empty["layout"], "yaxis": {**empty["layout"]["yaxis"], **{k: axis[k] for k in ROLL_PITCH_AXIS}}}
    if title:
        layout["title"] = {**empty["layout"]["title"], "text": title}
    return {**empty, "data": data, "layout": layout}


ROLL_NOTE_ARRAYS = ("x", "base", "y", "text", "customdata")     # what a roll's notes set in its bar trace
ROLL_PITCH_AXIS = ("range", "tickvals", "ticktext")            # and on its pitch axis


@st.cache_resource(show_spinner=False, max_entries=64)
def _validated_empty_roll(n_steps: int, height: int, titled: bool, tempo: int | None, yours_until: int | None,
                          lang: str) -> dict:
    """A roll without notes, validated by plotly; with a `tempo`, its ▶ button and that button's frames."""
    fig = piano_roll_figure((), n_steps=n_steps, height=height, title="-" if titled else None, tempo=tempo)
    follow = fig.pop("frames", None)
    if yours_until:
        fig["layout"]["shapes"].append({"type": "rect", "x0": 0, "x1": yours_until, "yref": "paper", "y0": 0,
                                        "y1": 1, "fillcolor": "rgba(255,127,14,0.12)", "line": {"width": 0}})
    spec = compute.validated(fig)
    return {**spec, "frames": _validated_follow_frames(n_steps)} if follow else spec


@st.cache_resource(show_spinner=False, max_entries=8)
def _validated_follow_frames(n_steps: int) -> tuple:
    """The ▶ button's frames (the bar lines and the playhead at each step): the same for every roll of n_steps,
    and most of a roll's validation, so validated once."""
    return compute.validated(piano_roll_figure((), n_steps=n_steps, tempo=DEFAULT_TEMPO))["frames"]


def _playhead(step: float) -> dict:
    return {"type": "line", "x0": step, "x1": step, "yref": "paper", "y0": 0, "y1": 1,
            "line": {"color": figures.PALETTE[3], "width": 3}}


# ---------------------------------------------------------------- a start: the note grid or a MIDI file
def _grid_notes(table: pd.DataFrame, steps: int) -> list[Note]:
    """Ticked cells of the one-bar grid -> notes: the highest ticked pitch per step; a run of the same
    pitch on consecutive steps is one held note."""
    notes: list[Note] = []
    for step in range(steps):
        col = table[str(step + 1)]
        on = [int(p) for p, v in zip(table.index, col) if bool(v)]
        if not on:
            continue
        p = max(on)
        if notes and notes[-1].pitch == p and notes[-1].end == step:
            notes[-1] = Note(p, notes[-1].start, notes[-1].length + 1)
        else:
            notes.append(Note(p, step, 1))
    return notes


def grid_edits_fit(edits, n_rows: int, columns: list[str]) -> bool:
    """Whether a note grid's edits, as the browser sent them, are ticks on its cells: rows within the grid, its
    own columns, True or False; no rows added or deleted (None: nothing edited yet)."""
    if edits is None:
        return True
    try:
        rows, added, deleted = edits["edited_rows"], edits["added_rows"], edits["deleted_rows"]
    except (KeyError, TypeError):
        return False
    return (not added and not deleted and isinstance(rows, dict)
            and all(type(r) is int and 0 <= r < n_rows and isinstance(cells, dict)
                    and all(c in columns and type(v) is bool for c, v in cells.items())
                    for r, cells in rows.items()))


def _from_grid(domain, key: str) -> list[Note]:
    pitches = list(range(GRID_HIGH, GRID_LOW - 1, -1))
    steps = domain.steps_per_bar
    if f"{key}_grid0" not in st.session_state:
        start = pd.DataFrame(False, index=pitches, columns=[str(s + 1) for s in range(steps)])
        for step, p in ((0, 72), (1, 72), (2, 72), (3, 72), (4, 74), (5, 74), (6, 76), (7, 76), (8, 77),
                        (9, 77), (10, 77), (11, 77), (12, 76), (13, 76), (14, 74), (15, 74)):
            start.loc[p, str(step + 1)] = True
        st.session_state[f"{key}_grid0"] = start
    columns = list(st.session_state[f"{key}_grid0"].columns)
    if not grid_edits_fit(st.session_state.get(f"{key}_grid"), len(pitches), columns):
        del st.session_state[f"{key}_grid"]            # forged edits: the grid as it started
        st.warning(_("Your browser sent note-grid edits that do not fit the grid, so they were ignored."),
                   icon=":material/block:")
    spb = domain.steps_per_beat
    table = st.data_editor(st.session_state[f"{key}_grid0"].rename(index=pitch_name), key=f"{key}_grid",
                           height=35 * (len(pitches) + 1) + 3, row_height=35,
                           column_config={c: st.column_config.CheckboxColumn(
                               str(int(c) // spb + 1) if int(c) % spb == 1 else "·", width=40,
                               help=_("sixteenth {n}").format(n=c))
                               for c in st.session_state[f"{key}_grid0"].columns})
    table.index = pitches
    notes = _grid_notes(table, steps)
    if not notes:
        st.info(_("Tick at least one cell: rows are pitches, columns the 16 sixteenth notes of one bar."),
                icon=":material/piano:")
    return notes


@st.cache_data(show_spinner=False, max_entries=64)
def midi_reading(domain_name: str, data: bytes):
    """A MIDI file's reading, or the error that refuses it, remembered per file: a file of 300,000 events
    costs seconds to refuse, and every rerun of the page would pay that again."""
    try:
        return get_domain(domain_name).from_midi(data)
    except ValueError as e:
        return e


def _from_midi(domain, key: str) -> list[Note]:
    up = st.file_uploader(_("A MIDI file (.mid)"), type=["mid", "midi"], key=f"{key}_file",
                          max_upload_size=max(1, MAX_MIDI_BYTES // 1_000_000))
    if up is None:
        st.caption(_("The top voice is taken, moved onto the sixteenth-note grid and into the models' key and range."))
        return []
    reading = midi_reading(domain.name, up.getvalue())
    if isinstance(reading, ValueError):
        st.error(plain(reading, 300), icon=":material/music_off:")
        return []
    for line in reading.changes:
        st.caption(plain(line, 200))
    return reading.notes


def _encoded_point(ref, notes) -> None:
    ckpt = resources.load(ref[0])
    if ckpt.config.family != "vae":
        return
    try:
        enc = compute.encode_artifact(ref, tuple(notes))
    except ValueError:
        return
    mu = enc["mu"]
    z = (float(mu[0]), float(mu[1]) if len(mu) > 1 else 0.0)
    st.markdown(_("The encoder puts your start at **z = ({x}, {y})**: the ⊕ among the held-out melodies (explore "
                  "the map itself on the *Latent explorer*).").format(x=f"{z[0]:.2f}", y=f"{z[1]:.2f}"))
    fig = figures.latent_map_figure(compute.latent_map_base(ref, 4.0), z)
    fig["layout"]["height"] = 360
    st.plotly_chart(fig, key="own_mel_map", theme=None, config={"displayModeBar": False})


VIEW = MelodyView()
