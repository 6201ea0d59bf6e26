import numpy as np
import pytest
import torch
from toy_domains import ToyRows

import seqgen.domains
from seqgen.domains import KINDS, Domain, domain_names, get_domain
from seqgen.domains import melodies as M
from seqgen.domains.melodies import Note
from seqgen.kinds.image import binarize

SPLITS = ("train", "val", "test")
DOMAINS = domain_names()


def test_registry():
    assert {"digits", "names", "melodies"} <= set(DOMAINS)
    for name in DOMAINS:
        d = get_domain(name)
        assert isinstance(d, Domain) and d.name == name
        assert get_domain(name) is d  # one shared instance
    with pytest.raises(ValueError, match="digits, .*names, melodies"):
        get_domain("poems")


def test_register_makes_a_domain_available_by_name():
    toy = seqgen.domains.register(ToyRows())
    try:
        assert get_domain("toy_rows") is toy and "toy_rows" in domain_names()
    finally:
        seqgen.domains.unregister("toy_rows")
    assert "toy_rows" not in domain_names()
    with pytest.raises(ValueError, match="bundled"):
        seqgen.domains.register(type("Fake", (ToyRows,), {"name": "digits"})())


@pytest.mark.parametrize("name", DOMAINS)
def test_presentation_contract(name, tmp_path):
    """What the app, the CLI and the model cards ask every domain; a new domain must answer all of it."""
    d = get_domain(name)
    assert d.kind in KINDS and d.title and d.picker_title and d.item_noun and d.licence
    lo, hi, default = d.explorer_grid
    assert 1 < lo <= default <= hi
    x, y = d.dataset("test")
    texts = d.item_texts("test")
    assert len(texts) == len(x) and all(isinstance(t, str) and t for t in texts[:50])
    arts = d.artifacts(x[:6])
    assert len(arts) == 6 and all(d.describe(a) for a in arts)
    picture = d.picture(arts, cols=3, scale=2)
    if d.kind == "text":
        assert picture is None  # text reads better as text
    else:
        assert picture.dtype == np.uint8 and picture.ndim == 2 and picture.shape[1] > picture.shape[0] / 2
    lines = d.write_samples(arts[:2], tmp_path, "out")
    assert lines and any(tmp_path.iterdir()), "write_samples wrote no file"


@pytest.mark.parametrize("name", DOMAINS)
def test_dataset_contract(name):
    d = get_domain(name)
    for split in SPLITS:
        x, y = d.dataset(split)
        assert x.shape[1] == d.seq_len
        assert y.dtype == torch.int64 and y.shape == (len(x),)
        assert 0 <= y.min() and y.max() < d.n_labels
        if d.discrete:
            assert x.dtype == torch.int64 and x.ndim == 2
            assert 0 <= x.min() and x.max() < d.n_features
        else:
            assert x.dtype == torch.float32 and x.shape[2] == d.n_features
            assert 0 <= x.min() and x.max() <= 1
    # The split is fixed: asking again gives the same data.
    assert torch.equal(d.dataset("val")[0], d.dataset("val")[0].clone())
    with pytest.raises(ValueError):
        d.dataset("training")


# ---------------------------------------------------------------- digits
def test_digits_splits_are_stratified_and_disjoint():
    d = get_domain("digits")
    sizes = {s: len(d.dataset(s)[0]) for s in SPLITS}
    assert sizes == {"train": 4000, "val": 500, "test": 500}
    for split in SPLITS:
        counts = torch.bincount(d.dataset(split)[1], minlength=10)
        assert (counts == sizes[split] // 10).all()
    flat = {s: {bytes(img.numpy().tobytes()) for img in d.dataset(s)[0]} for s in SPLITS}
    assert not (flat["train"] & flat["test"]) and not (flat["train"] & flat["val"])
    assert d.label_names == tuple("0123456789")


def test_digits_round_trip():
    d = get_domain("digits")
    x, _ = d.dataset("test")
    img = d.to_artifact(x[0])
    assert img.dtype == np.uint8 and img.shape == (28, 28)
    assert img.max() > 200  # a digit, not a blank
    assert torch.equal(d.from_artifact(img), x[0])
    assert torch.equal(d.from_artifact(img.astype(np.float32) / 255), x[0])
    assert torch.equal(d.from_artifact(img.tolist()), x[0])  # plain nested lists work too
    # Out-of-range model output is clipped, not wrapped around.
    assert d.to_artifact(torch.full((28, 28), 2.0)).min() == 255
    assert d.to_artifact(torch.full((28, 28), -1.0)).max() == 0


def test_digits_from_other_sizes_and_bad_input():
    d = get_domain("digits")
    big = np.zeros((56, 56), np.uint8)
    big[:28] = 255  # top half white
    x = d.from_artifact(big)
    assert x.shape == (28, 28) and x.dtype == torch.float32
    assert x[:14].min() == 1 and x[14:].max() == 0
    for bad in (np.zeros((28, 28, 3)), np.zeros(784), np.zeros((0, 28))):
        with pytest.raises(ValueError):
            d.from_artifact(bad)
    nan = np.zeros((28, 28))
    nan[3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        d.from_artifact(nan)


def test_binarize():
    x = torch.tensor([0.0, 0.5, 0.51, 1.0])
    assert binarize(x).tolist() == [0, 0, 1, 1]


# ---------------------------------------------------------------- names
def test_names_splits_disjoint_and_sized():
    d = get_domain("names")
    names = {s: {d.to_artifact(t) for t in d.dataset(s)[0]} for s in SPLITS}
    n = {s: len(d.dataset(s)[0]) for s in SPLITS}
    assert sum(n.values()) == len(d.known_words()) > 5000
    assert len(names["train"]) == n["train"]  # names are unique
    assert not (names["train"] & names["val"] or names["train"] & names["test"] or names["val"] & names["test"])
    assert 0.04 < n["val"] / sum(n.values()) < 0.06
    y = d.dataset("train")[1]
    assert 0.1 < y.float().mean() < 0.4  # the census lists have far more female than male names


def test_names_tokens_and_round_trip():
    d = get_domain("names")
    assert (d.seq_len, d.n_features, d.pad_id, d.bos_id) == (12, 29, 0, 1)
    t = d.from_artifact("  mary ")
    assert t.dtype == torch.int64 and t.shape == (12,)
    assert t.tolist() == [15, 3, 20, 27, 2] + [0] * 7  # m a r y EOS PAD...
    assert d.to_artifact(t) == "Mary"
    assert d.to_artifact(torch.tensor([1, 15, 3, 99, 20, 27, 0, 5])) == "Mary"  # BOS/invalid skipped, stops at PAD
    for x in d.dataset("val")[0]:
        assert torch.equal(d.from_artifact(d.to_artifact(x)), x)


@pytest.mark.parametrize("bad,msg", [("R2D2", "letters a–z"), ("", "name"), ("   ", "name"),
                                     ("Maximiliannn", "at most 11"), ("Zoë", "letters a–z"), ("Ann-Marie", "letters")])
def test_names_reject_bad_text(bad, msg):
    with pytest.raises(ValueError, match=msg):
        get_domain("names").from_artifact(bad)


def test_names_known_and_well_formed():
    d = get_domain("names")
    assert d.is_known("Mary") and d.is_known("JAMES") and d.is_known("mary")
    assert not d.is_known("Zzyzx")
    assert "mary" in d.known_words()
    assert d.well_formed("Bo") and d.well_formed("Maximilian")
    assert not d.well_formed("B") and not d.well_formed("Al3x") and not d.well_formed("Abcdefghijkl")


# ---------------------------------------------------------------- melodies
def test_melodies_split_by_chorale():
    d = get_domain("melodies")
    ids = {s: set(d.chorale_ids(s)) for s in SPLITS}
    groups = {s: {M.chorale_group(i) for i in ids[s]} for s in SPLITS}
    assert not (groups["train"] & groups["val"] or groups["train"] & groups["test"] or groups["val"] & groups["test"])
    assert len(ids["train"]) > 250 and len(ids["val"]) >= 10 and len(ids["test"]) >= 10
    assert len(d.dataset("train")[0]) > 2000
    y = d.dataset("train")[1]
    assert 0.3 < y.float().mean() < 0.7  # both modes well represented


def test_melody_windows_look_like_music():
    d = get_domain("melodies")
    x, y = d.dataset("train")
    assert d.seq_len == 64 and d.n_features == 2 + M.MAX_PITCH - M.MIN_PITCH + 1
    assert d.pad_id is None and d.bos_id is None
    assert ((x == M.REST).float().mean(1) <= 0.25).all()
    assert (x[:, 0] != M.HOLD).all()  # every window starts with a note (or a rest)
    notes = [d.to_artifact(w) for w in x]
    # Transposed to C major / A minor: nearly all notes in the scale of the label.
    major = [n for n, lab in zip(notes, y) if lab == 0]
    assert M.in_scale_ratio(major, label=0) > 0.9
    assert M.in_scale_ratio(notes) > 0.95
    assert M.pitch_class_histogram(notes).argmax() in (0, 4, 7, 9)  # tonic-ish, not F#
    h = M.interval_histogram(notes)
    assert h.shape == (25,) and abs(h.sum() - 1) < 1e-9
    assert h[10:15].sum() > 0.7  # steps (up to a whole tone) and repeats dominate chorale melodies


@pytest.mark.parametrize("split", SPLITS)
def test_melodies_round_trip(split):
    d = get_domain("melodies")
    for w in d.dataset(split)[0]:
        notes = d.to_artifact(w)
        assert all(isinstance(n, Note) for n in notes)
        assert torch.equal(d.from_artifact(notes), w)


def test_melody_tokens_to_notes():
    d = get_domain("melodies")
    c4 = 2 + 60 - M.MIN_PITCH
    seq = torch.zeros(64, dtype=torch.int64)
    seq[0] = M.HOLD                 # HOLD at step 0: rest
    seq[2], seq[3], seq[4] = c4, M.HOLD, M.HOLD
    seq[5] = c4                     # repeated note is a new note
    seq[7] = M.HOLD                 # HOLD after a rest: rest
    seq[63] = c4 + 2
    assert d.to_artifact(seq) == [Note(60, 2, 3), Note(60, 5, 1), Note(62, 63, 1)]
    assert d.describe(d.to_artifact(seq)) == "3 notes, C4–D4"
    assert d.describe([]) == "silence"


def _melody(pitches, lengths):
    starts = np.cumsum([0, *lengths[:-1]])
    return [Note(p, int(t), n) for p, t, n in zip(pitches, starts, lengths)]


@pytest.mark.parametrize("pitches, lengths, key", [
    ([60, 62, 64, 65, 67, 69, 71, 72], [4, 2, 2, 2, 4, 2, 2, 4], (0, "major")),      # C major scale
    ([67, 69, 71, 72, 74, 76, 78, 79], [4, 2, 2, 2, 4, 2, 2, 4], (7, "major")),      # G major: F sharp
    ([57, 60, 64, 57, 59, 60, 62, 64, 57], [4, 2, 2, 4, 2, 2, 2, 2, 6], (9, "minor")),  # A minor, ending on A
    ([60, 64, 60], [2, 2, 2], None),                                                # two pitch classes: no key
])
def test_a_melody_s_key_is_estimated_from_its_notes(pitches, lengths, key):
    from seqgen.kinds.notes import estimated_key
    assert estimated_key(_melody(pitches, lengths)) == key


def test_a_melody_is_described_with_its_key():
    d = get_domain("melodies")
    assert d.describe(_melody([60, 62, 64, 65, 67, 69, 71, 72], [4, 2, 2, 2, 4, 2, 2, 4])) == \
        "in C major, 8 notes, C4–C5"


def test_melody_rejects_bad_notes():
    d = get_domain("melodies")
    with pytest.raises(ValueError, match="outside"):
        d.from_artifact([Note(M.MAX_PITCH + 1, 0, 4)])
    with pytest.raises(ValueError, match="overlap"):
        d.from_artifact([Note(60, 0, 4), Note(62, 2, 4)])
    with pytest.raises(ValueError, match="past"):
        d.from_artifact([Note(60, 60, 8)])
    with pytest.raises(ValueError):
        d.from_artifact([Note(60, 0, 0)])


def test_scales():
    assert M.scale_pitch_classes(0) == {0, 2, 4, 5, 7, 9, 11}
    assert 8 in M.scale_pitch_classes(1) and 8 not in M.scale_pitch_classes(0)
    assert M.in_scale_ratio([Note(61, 0, 1), Note(60, 1, 1)]) == 0.5  # C# out, C in
    assert M.in_scale_ratio([]) == 0.0
