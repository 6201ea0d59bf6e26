import io
import struct

import numpy as np
import pytest
import soundfile as sf

from seqgen import audio

# Twinkle twinkle: C C G G A A G-, on a 16th grid (quarter notes = 4 steps).
MELODY = [(60, 0, 4), (60, 4, 4), (67, 8, 4), (67, 12, 4), (69, 16, 4), (69, 20, 4), (67, 24, 8)]


def test_length_formula_and_level():
    for inst in audio.INSTRUMENTS:
        w = audio.synthesize(MELODY, tempo_bpm=120, instrument=inst, sample_rate=16000)
        # 32 steps at 120 BPM, 4 steps per beat = 4 s, plus the release tail.
        assert len(w) == round(4.0 * 16000) + round(audio.TAIL_S * 16000) == audio.wave_length(32, 120, 16000)
        assert w.dtype == np.float32 and w.ndim == 1
        assert np.isfinite(w).all()
        assert 0.1 < np.abs(w).max() <= 0.9
        assert abs(w[0]) < 1e-3 and abs(w[-1]) < 1e-3  # starts and ends silent: no clicks


def test_n_steps_pads_and_silence():
    w = audio.synthesize([(60, 0, 2)], n_steps=64, sample_rate=8000)
    assert len(w) == audio.wave_length(64, 90, 8000)
    assert np.abs(w[len(w) // 2:]).max() == 0  # nothing after the one short note has faded
    s = audio.synthesize([], n_steps=16, sample_rate=8000)
    assert len(s) == audio.wave_length(16, 90, 8000) and not s.any()


def test_pitch_is_right():
    w = audio.synthesize([(69, 0, 16)], tempo_bpm=60, instrument="organ", sample_rate=8000)
    spectrum = np.abs(np.fft.rfft(w[:8000]))
    assert abs(np.argmax(spectrum) - 440) <= 1  # A4 = 440 Hz, 1 Hz bins


def test_overlapping_notes_are_summed():
    chord = audio.synthesize([(60, 0, 8), (64, 0, 8), (67, 0, 8)], instrument="organ", sample_rate=8000)
    spectrum = np.abs(np.fft.rfft(chord))
    freqs = np.fft.rfftfreq(len(chord), 1 / 8000)
    for p in (60, 64, 67):
        near = np.abs(freqs - audio.midi_to_hz(p)) < 3
        assert spectrum[near].max() > 0.2 * spectrum.max()


def test_bad_arguments():
    with pytest.raises(ValueError, match="Tempo"):
        audio.synthesize(MELODY, tempo_bpm=10)
    with pytest.raises(ValueError, match="Tempo"):
        audio.to_midi_bytes(MELODY, tempo_bpm=500)
    with pytest.raises(ValueError, match="instrument"):
        audio.synthesize(MELODY, instrument="kazoo")
    with pytest.raises(ValueError):
        audio.synthesize([(60, 0, 0)])


@pytest.mark.parametrize("encode", [audio.to_wav_bytes, audio.to_flac_bytes])
def test_audio_bytes_decode(encode):
    w = audio.synthesize(MELODY, sample_rate=22050)
    data = encode(w, 22050)
    back, sr = sf.read(io.BytesIO(data), dtype="float32")
    assert sr == 22050 and len(back) == len(w)
    assert np.abs(back - w).max() < 1e-3  # 16-bit quantisation only


def _midi_events(data: bytes):
    """Minimal SMF parser: (division, [(abs_tick, status, data bytes)]) of the single track."""
    assert data[:4] == b"MThd"
    length, fmt, ntracks, division = struct.unpack(">IHHH", data[4:14])
    assert (length, fmt, ntracks) == (6, 0, 1)
    assert data[14:18] == b"MTrk"
    (tlen,) = struct.unpack(">I", data[18:22])
    track = data[22:22 + tlen]
    assert len(track) == tlen and track.endswith(b"\xff\x2f\x00")
    i, tick, events = 0, 0, []
    while i < len(track):
        delta = 0
        while True:
            b = track[i]
            i += 1
            delta = (delta << 7) | (b & 0x7F)
            if b < 0x80:
                break
        tick += delta
        status = track[i]
        if status == 0xFF:
            n = track[i + 2]
            events.append((tick, status, track[i + 1:i + 3 + n]))
            i += 3 + n
        else:
            n = 1 if status & 0xF0 == 0xC0 else 2
            events.append((tick, status, track[i + 1:i + 1 + n]))
            i += 1 + n
    return division, events


def test_midi_bytes():
    data = audio.to_midi_bytes(MELODY, tempo_bpm=120, program=19)
    division, events = _midi_events(data)
    on = [(t, d[0]) for t, s, d in events if s & 0xF0 == 0x90 and d[1] > 0]
    off = [(t, d[0]) for t, s, d in events if s & 0xF0 == 0x80]
    assert len(on) == len(off) == len(MELODY)
    step = division // 4
    assert on == [(s * step, p) for p, s, _ in MELODY]
    assert off[-1] == (32 * step, 67)
    tempo = next(d for t, s, d in events if s == 0xFF and d[0] == 0x51)
    assert int.from_bytes(tempo[2:], "big") == 500_000  # 120 BPM
    assert any(s == 0xC0 and d[0] == 19 for _, s, d in events)


def test_long_delta_times_use_several_bytes():
    data = audio.to_midi_bytes([(60, 0, 1), (62, 1000, 1)])
    _, events = _midi_events(data)
    ticks = [t for t, s, _ in events if s == 0x90]
    assert ticks[1] - ticks[0] == 1000 * 120  # > 16383 ticks: a 3-byte delta


def test_the_same_melody_gives_the_same_samples_whatever_was_played_before():
    """Short notes are made once and shared between melodies (a class plays the same notes over and over):
    sharing must not change a sound, and no caller may change a shared note."""
    flute = [(72, 0, 4), (74, 4, 2), (72, 6, 2), (60, 8, 64)]      # breath noise, and one note too long to keep
    first = audio.synthesize(flute, tempo_bpm=100, instrument="flute", sample_rate=8000)
    audio._kept_tone.cache_clear()
    audio.synthesize([(74, 0, 2), (72, 2, 4)], tempo_bpm=100, instrument="flute", sample_rate=8000)
    assert np.array_equal(audio.synthesize(flute, tempo_bpm=100, instrument="flute", sample_rate=8000), first)
    kept = audio._kept_tone(72, 4, 0.15, "flute", 8000)
    with pytest.raises(ValueError):
        kept[0] = 1.0
