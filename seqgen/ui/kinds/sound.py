"""The sound kind's view: spectrograms you can see and play; a recording or a WAV file of your own, encoded."""
from __future__ import annotations

import io

import numpy as np
import streamlit as st

from seqgen.render import png_bytes, upscale

from .. import browser_values, compute
from ..i18n import _, domain_word, label_names
from ..widgets import plain
from .base import KindView, show_encoding

GAP_S = 0.25                   # silence between sounds played one after another
# The spectrogram's colours, dark to bright (the same ramp as the pad's renderer, sound.mjs): loud is bright.
RAMP = np.array([[0, 0, 4], [81, 18, 124], [183, 55, 121], [252, 137, 97], [252, 253, 191]], np.float64)
PALETTE = np.stack([np.interp(np.linspace(0, len(RAMP) - 1, 256), np.arange(len(RAMP)), RAMP[:, k])
                    for k in range(3)], 1).round().astype(np.uint8)


class SoundView(KindView):
    kind = "sound"
    pages = ("noise",)
    renderer = "sound.mjs"

    def describe(self, domain, art) -> str:
        return self.describe_all(domain, [art])[0]

    def describe_all(self, domain, arts) -> list[str]:
        guesses = compute.recognise_all(domain.name, tuple(np.asarray(a) for a in arts))
        if guesses is None:
            return [domain.describe(a) for a in arts]
        names = label_names(domain)
        return [_("“{label}”, the classifier is {share} sure").format(label=names[g], share=f"{c:.0%}")
                for g, c in guesses]

    def one(self, domain, art, key: str, caption: str | None = None, **options) -> None:
        st.image(spectrogram_png(domain.name, (np.asarray(art),), 1, 6), output_format="PNG",
                 caption=_("time across, pitch up"), alt=self.describe(domain, art))
        with st.container(key=f"{key}_player"):
            st.audio(sound_wav(domain.name, (np.asarray(art),)), format="audio/wav")
        st.caption(self.describe(domain, art) + (f". {caption}" if caption else ""))

    def grid(self, domain, grid: dict, caption: str, key: str) -> None:
        st.image(spectrogram_png(domain.name, tuple(grid["artifacts"]), grid["n"], 2), output_format="PNG",
                 alt=self.alt(domain, grid["artifacts"]), caption=caption + " " + _("Each tile is a spectrogram: time across, pitch up."))

    def strip(self, domain, arts, key: str) -> None:
        arts = tuple(np.asarray(a) for a in arts)
        st.image(spectrogram_png(domain.name, arts, len(arts), 3), output_format="PNG", alt=self.alt(domain, arts),
                 caption=_("Each tile: one spectrogram, played in order below"))
        st.audio(sound_wav(domain.name, arts), format="audio/wav")
        step = st.select_slider(_("Hear one step"), list(range(1, len(arts) + 1)), key=f"{key}_step")
        st.audio(sound_wav(domain.name, arts[step - 1:step]), format="audio/wav")

    def gallery(self, domain, arts, cols: int, labels, key: str | None) -> None:
        arts = tuple(np.asarray(a) for a in arts)
        st.image(spectrogram_png(domain.name, arts, cols, 2), output_format="PNG", alt=self.alt(domain, arts),
                 caption=_("spectrograms: time across, pitch up"))
        st.audio(sound_wav(domain.name, arts), format="audio/wav")

    def downloads(self, domain, arts, stem: str, **options) -> list[tuple[str, bytes, str, str]]:
        return [(_("Download the sound (WAV)"), sound_wav(domain.name, tuple(np.asarray(a) for a in arts)),
                 f"{stem}.wav", "audio/wav")]

    def replay_png(self, domain, arts, cols: int, scale: int, steps: int) -> bytes:
        return spectrogram_png(domain.name, tuple(np.asarray(a) for a in arts), cols, scale, steps)

    def listen(self, domain, arts, key: str, **options) -> None:
        with st.container(key=f"{key}_player"):
            st.audio(sound_wav(domain.name, tuple(np.asarray(a) for a in arts)), format="audio/wav")
        st.caption(_("All the samples, one after another."))

    # ---------------------------------------------------------------- your own recording
    def own_input(self, ref, ckpt, domain, label, marks, n_items, plane, go_to) -> None:
        noun = domain_word(domain.item_noun)
        sources = {"record": _("record one"), "upload": _("upload a WAV file"),
                   "held-out": _("a held-out {noun}").format(noun=noun)}
        browser_values.choice("le_own_src", sources)
        how = st.radio(_("Your input"), list(sources), key="le_own_src", horizontal=True, persist_state="session",
                       format_func=sources.get)
        if how == "held-out":
            super().own_input(ref, ckpt, domain, label, marks, n_items, plane, go_to)
            return
        if how == "record":
            got = st.audio_input(_("Say one digit, in English or in Mandarin"), key="le_record")
        else:
            got = st.file_uploader(_("A short recording of one spoken digit (WAV, FLAC or OGG, up to 3 s)"),
                                   type=["wav", "flac", "ogg"], key="le_sound_file",
                                   max_upload_size=max(1, domain.max_upload_bytes // 1_000_000))
        if got is None:
            st.caption(_("It is trimmed, resampled to {rate} Hz and turned into a spectrogram, as the training "
                         "sounds were.").format(rate=domain.sample_rate))
            return
        try:
            art = recording(domain.name, got.getvalue())
        except ValueError as e:
            st.error(plain(e, 300), icon=":material/mic_off:")
            return
        st.caption(self.describe(domain, art))
        show_encoding(self, ref, domain, compute.encode_artifact(ref, art, label), marks, plane, go_to)

    def pad_text(self, domain) -> dict:
        return {"sound": _("a spectrogram: released, it plays")}


# ---------------------------------------------------------------- pictures and sound, cached by content
@st.cache_data(show_spinner=False, max_entries=256)
def spectrogram_png(domain_name: str, arts: tuple, cols: int, scale: int, steps: int | None = None) -> bytes:
    """The domain's spectrogram mosaic in colour; with `steps`, the frames from there on greyed out (a replay)."""
    from seqgen import get_domain
    domain = get_domain(domain_name)
    if steps is not None and steps < domain.seq_len:
        arts = tuple(_dimmed(a, steps) for a in arts)
    grey = domain.picture(list(arts), cols=cols, scale=1)
    return png_bytes(upscale(PALETTE[grey], scale))


def _dimmed(art: np.ndarray, steps: int) -> np.ndarray:
    a = np.array(art, copy=True)
    a[steps:] = a[steps:] // 5           # not made yet: dark
    a[steps] = 110                       # the frame being made next: a faint line
    return a


@st.cache_data(show_spinner=False, max_entries=256)
def sound_wav(domain_name: str, arts: tuple) -> bytes:
    """The sounds of spectrograms one after another (GAP_S apart) as 16-bit WAV bytes."""
    import soundfile as sf

    from seqgen import get_domain
    domain = get_domain(domain_name)
    gap = np.zeros(int(GAP_S * domain.sample_rate), np.float32)
    waves = [w for a in arts for w in (domain.to_wave(a), gap)][:-1] or [gap]
    buf = io.BytesIO()
    sf.write(buf, np.concatenate(waves), domain.sample_rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@st.cache_data(show_spinner=False, max_entries=64)
def recording(domain_name: str, data: bytes) -> np.ndarray:
    """A user's recording or file -> the domain's spectrogram. ValueError (a sentence) when it is not one digit."""
    from seqgen import get_domain
    domain = get_domain(domain_name)
    return domain.to_artifact(domain.from_wav_bytes(data))


VIEW = SoundView()
