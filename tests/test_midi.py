"""Reading a melody from MIDI files made here with mido (chords, drums, tempo changes), every bad file, and
the mido-written downloads."""
from __future__ import annotations

import io

import mido
import pytest

from seqgen import audio
from seqgen.domains import get_domain
from seqgen.domains.melodies import MAX_PITCH, MIN_PITCH
from seqgen.kinds.midi import MAX_MIDI_BYTES


def read_melody(data: bytes):
    """The melodies domain's reading of a MIDI file (what the app's upload and the CLI's --midi use)."""
    return get_domain("melodies").from_midi(data)


def midi_bytes(tracks, tpb: int = 480) -> bytes:
    """tracks: lists of (delta ticks, message) -> a type-1 file."""
    f = mido.MidiFile(type=1, ticks_per_beat=tpb)
    for events in tracks:
        t = mido.MidiTrack()
        for delta, msg in events:
            t.append(msg.copy(time=delta))
        f.tracks.append(t)
    buf = io.BytesIO()
    f.save(file=buf)
    return buf.getvalue()


def notes_track(notes, channel=0, tpb=480):
    """(pitch, start beats, length beats) -> note on/off events (any overlap allowed)."""
    ev = []
    for p, s, L in notes:
        ev += [(int(s * tpb), 1, p), (int((s + L) * tpb), 0, p)]
    ev.sort()
    out, now = [], 0
    for tick, on, p in ev:
        kind = "note_on" if on else "note_off"
        out.append((tick - now, mido.Message(kind, note=p, velocity=80 if on else 0, channel=channel)))
        now = tick
    return out


def test_chords_keep_the_top_voice_on_the_grid():
    chords = [(60, 0, 1), (64, 0, 1), (67, 0, 1), (62, 1, 1), (65, 1, 1), (69, 1, 1), (72, 2, 2)]
    r = read_melody(midi_bytes([notes_track(chords)]))
    assert [(n.pitch, n.start, n.length) for n in r.notes] == [(67, 0, 4), (69, 4, 4), (72, 8, 8)]
    assert any("top voice" in c for c in r.changes)


def test_tempo_changes_do_not_move_notes():
    track = [(0, mido.MetaMessage("set_tempo", tempo=500000))] + notes_track([(72, 0, 1)])
    track += [(0, mido.MetaMessage("set_tempo", tempo=250000))] + notes_track([(74, 0, 1)])
    r = read_melody(midi_bytes([track]))
    assert [(n.pitch, n.start) for n in r.notes] == [(72, 0), (74, 4)]


def test_a_file_timed_in_seconds_is_read_at_120_beats_a_minute():
    """SMPTE timing (25 frames a second, 40 ticks a frame: 1,000 ticks a second, 500 a beat at 120 bpm)."""
    melody = [(60, 0, 1), (62, 1, 1), (64, 2, 0.5), (65, 2.5, 0.5), (67, 3, 2)]
    division = -(25 << 8) + 40                     # the header's signed 16-bit division: 0xE728
    r = read_melody(midi_bytes([notes_track(melody, tpb=500)], tpb=division))
    assert [(n.pitch, n.start, n.length) for n in r.notes] == [(60, 0, 4), (62, 4, 4), (64, 8, 2), (65, 10, 2),
                                                               (67, 12, 8)]
    assert any("SMPTE" in c and "120 beats" in c for c in r.changes)
    assert not any("empty bar" in c for c in r.changes)


def test_drums_are_left_out_and_a_shift_into_the_key_is_reported():
    melody = notes_track([(62, 0, 1), (64, 1, 1), (66, 2, 1), (67, 3, 1)])       # D major
    drums = notes_track([(36, 0, 0.5), (38, 1, 0.5)], channel=9)
    r = read_melody(midi_bytes([melody, drums]))
    assert r.notes and all(MIN_PITCH <= n.pitch <= MAX_PITCH for n in r.notes)
    assert "Left out the drums." in r.changes
    assert any("semitone" in c for c in r.changes)
    assert all(n.pitch % 12 in {0, 2, 4, 5, 7, 9, 11, 8} for n in r.notes)


def test_range_bars_and_length_are_fixed_and_said():
    far = notes_track([(100, 8, 1), (30, 9, 1)] + [(72, 10 + i, 1) for i in range(20)])
    r = read_melody(midi_bytes([far]))
    assert r.notes[0].start == 0 and max(n.end for n in r.notes) <= 64
    text = " ".join(r.changes)
    assert "empty bar" in text and "octaves" in text and "first 4 bars" in text


@pytest.mark.parametrize("data, words", [
    (b"this is a text file", "not a MIDI file"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x05", "could not be read"),
    (b"MThd" + b"\x00" * (MAX_MIDI_BYTES + 1), "Export only the melody"),
    (b"MThd\x00\x00\x00\x06\x00\x00\x00\x00\x00\x00", "no time unit"),
])
def test_bad_files_get_a_sentence(data, words):
    with pytest.raises(ValueError, match=words):
        read_melody(data)


def test_no_notes_only_drums_and_sixteen_voices():
    with pytest.raises(ValueError, match="no notes"):
        read_melody(midi_bytes([[(0, mido.MetaMessage("set_tempo", tempo=500000))]]))
    with pytest.raises(ValueError, match="only drums"):
        read_melody(midi_bytes([notes_track([(36, 0, 1)], channel=9)]))
    voices = [notes_track([(48 + 2 * c, 0, 4)], channel=c if c != 9 else 15) for c in range(16)]
    with pytest.raises(ValueError, match="16 notes at once"):
        read_melody(midi_bytes(voices))


def test_downloads_are_written_with_mido_and_carry_the_instrument():
    data = audio.to_midi_bytes([(60, 0, 4), (64, 4, 4)], tempo_bpm=120, program=audio.MIDI_PROGRAMS["flute"])
    f = mido.MidiFile(file=io.BytesIO(data))
    msgs = list(f.tracks[0])
    assert [m.program for m in msgs if m.type == "program_change"] == [73]
    assert read_melody(data).notes[0].pitch == 60


def test_the_page_reads_a_file_once_whatever_the_reruns(monkeypatch):
    """The verdict on an uploaded file, a reading or a refusal, is remembered per file's bytes."""
    from seqgen.kinds.melody import MelodyDomain
    from seqgen.ui.kinds.melody import midi_reading

    calls = []
    real = MelodyDomain.from_midi
    monkeypatch.setattr(MelodyDomain, "from_midi", lambda self, data: calls.append(1) or real(self, data))
    midi_reading.clear()
    good = midi_bytes([notes_track([(72, 0, 1), (74, 1, 1)])])
    first, again = midi_reading("melodies", good), midi_reading("melodies", good)
    assert [n.pitch for n in first.notes] == [n.pitch for n in again.notes] == [72, 74]
    refused = [midi_reading("melodies", b"not midi") for _ in range(3)]
    assert all(isinstance(r, ValueError) and "not a MIDI file" in str(r) for r in refused)
    assert len(calls) == 2


def test_a_melody_of_rests_draws_an_empty_roll_that_streamlit_takes():
    """A young model's melody can be all rests (a learner's own data after a few steps): plotly refuses a
    figure without data (and plotly 7 then fails on its own missing error class), so the roll keeps one trace."""
    from plotly.tools import return_figure_from_figure_or_data

    from seqgen.ui.kinds.melody import piano_roll_figure
    for notes in ((), get_domain("melodies").to_artifact(get_domain("melodies").dataset("test")[0][0])):
        fig = return_figure_from_figure_or_data(piano_roll_figure(tuple(notes), title="t", tempo=90), True)
        assert len(fig["data"]) == 1
