"""Lesson claims as measured facts: each checked "Notice:" line runs what its step runs (same model, same
sampling call, the step's seed) and asserts the claim in at least 4 of 5 seeds, the step's own among them.

So far "An RNN writes one step at a time" (lessons/rnn-steps.toml, steps 1 and 4: GAN samples, 5 seeds) and
"What is a latent space?" (lessons/latent-space.toml, steps 1-4: a VAE's encoder and decoder have no seed, so
one run is the fact). Slow: the GAN is sampled with its hidden states, the held-out set encoded.
"""
from __future__ import annotations

import numpy as np
import pytest

import seqgen
from seqgen import explore
from seqgen.lessons import SHIPPED, read_lesson
from seqgen.ui.pages import PAGES

pytestmark = pytest.mark.slow
SEEDS = (7, 1, 2, 3, 4)          # 7 is the lesson's
INK = 64                         # a pixel (0-255) darker than paper


def _step_state(number: int, lesson_file: str = "rnn-steps.toml") -> dict:
    lesson = read_lesson(SHIPPED / lesson_file, PAGES)
    return dict(lesson.steps[number - 1].state)


def _sevens(state: dict, seed: int):
    """What the step's page shows: ni_n samples of label ni_label from ni_model, with the hidden states."""
    arts, hidden = explore.sample(seqgen.load(state["ni_model"]), state["ni_n"], seed,
                                  labels=(state["ni_label"],) * state["ni_n"], return_hidden=True)
    return np.stack([np.asarray(a, dtype=np.float32) for a in arts]), np.asarray(hidden, dtype=np.float32)


def test_step_1_the_first_rows_show_the_top_bar_and_the_rows_above_it_are_empty():
    """ "The top rows of a digit are empty paper; the 7's top bar comes around rows 8 to 10." """
    state = _step_state(1)
    held = []
    for seed in SEEDS:
        images, _hidden = _sevens(state, seed)
        shown = images[:, :state["ni_rows"]]                        # what the step's replay slider shows
        inked_rows = (shown > INK).any(-1)                          # [samples, rows]
        held.append(bool(inked_rows[:, 7:10].any(1).all() and inked_rows[:, :4].mean() < 0.1))
    assert sum(held) >= 4 and held[0], held


def test_step_4_the_memory_moves_most_at_row_1_and_again_at_the_top_bar_least_down_the_stroke():
    """ "The memory moves most at row 1 ... settles over the empty rows at the top, moves again where the 7's top
    bar is drawn (about rows 8 to 11), and changes least along the downstroke." (the page's line: the length of
    the hidden state's change at each row, the mean over the samples) """
    state = _step_state(4)
    held = []
    for seed in SEEDS:
        _images, hidden = _sevens(state, seed)
        moved = np.linalg.norm(np.diff(hidden, axis=1, prepend=0.0), axis=-1).mean(0)     # [rows]
        top_empty, bar, stroke = moved[2:6].mean(), moved[7:11].max(), moved[14:26].mean()
        least = int(moved.argmin())                                                      # 0-based row
        held.append(bool(moved.argmax() == 0 and bar > top_empty and bar > stroke and 14 <= least <= 26))
    assert sum(held) >= 4 and held[0], held


# ------------------------------------------------------------------------------------ What is a latent space?
def _latent_step(number: int):
    state = _step_state(number, "latent-space.toml")
    model = seqgen.load(state["le_model"])
    return state, model, seqgen.get_domain(model.config.domain)


def test_latent_step_1_the_same_digits_end_up_together():
    """ "Nobody told the encoder which digit is which, yet the same digits end up together." The map's held-out
    points: of each point's 10 nearest, most are its own digit (chance: about 1 in 10)."""
    _state, model, _domain = _latent_step(1)
    m = explore.latent_map(model)
    points, labels = np.asarray(m["points"]), np.asarray(m["labels"])
    d = ((points[:, None] - points[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    agree = float((labels[np.argsort(d, 1)[:, :10]] == labels[:, None]).mean())
    assert agree >= 0.5, f"only {agree:.0%} of each point's neighbours are its own digit"


def test_latent_step_2_there_are_no_holes():
    """ "Every point decodes to something that looks like a digit, even far from the dots." A 15×15 grid over the
    pad's whole square: the reference classifier reads a digit with at least even odds in 95 % of it."""
    _state, model, domain = _latent_step(2)
    grid = [[x, y] for y in np.linspace(3.7, -3.7, 15) for x in np.linspace(-3.7, 3.7, 15)]
    confidence = np.array([c for _g, c in domain.recognise(explore.decode_points(model, np.array(grid)))])
    assert (confidence >= 0.5).mean() >= 0.95, sorted(confidence)[:10]


def test_latent_step_3_a_9_turns_into_a_4_around_z1_1_4():
    """ "Around z₁ ≈ 1.4 the top of the 4 closes into a loop" and the reveal: along z₂ = 0.25 the classifier reads
    a 9 up to z₁ ≈ 1.25 and a 4 from z₁ ≈ 1.5 on (the step starts at the state's z, on a 4)."""
    state, model, domain = _latent_step(3)
    z2 = state["le_z1"]
    xs = np.round(np.arange(0.8, 2.01, 0.05), 2)
    reads = domain.recognise(explore.decode_points(model, np.array([[x, z2] for x in xs])))
    nine = [x for x, (g, c) in zip(xs, reads) if g == 9 and c >= 0.5]
    four = [x for x, (g, c) in zip(xs, reads) if g == 4 and c >= 0.5]
    assert nine and four and max(nine) < min(four), reads
    assert max(nine) >= 1.25 and 1.3 <= min(four) <= 1.5, (max(nine), min(four))      # the border: z₁ ≈ 1.4
    assert domain.recognise(explore.decode_points(model, np.array([[state["le_z0"], z2]])))[0][0] == 4


def test_latent_step_4_half_way_pictures_are_in_between():
    """ "Half-way pictures are neither a 4 nor a 9 but something in between." The step's strip from A (a 4) to B
    (a 9): the classifier's reading turns from 4 to 9 once, and it is least sure at the turn."""
    state, model, domain = _latent_step(4)
    strip = explore.interpolate(model, state["le_a"], state["le_b"], state["le_steps"])["artifacts"]
    reads = domain.recognise(strip)
    guesses, sure = [g for g, _c in reads], np.array([c for _g, c in reads])
    turn = next(i for i, g in enumerate(guesses) if g != guesses[0])
    assert guesses[0] == 4 and guesses[-1] == 9 and set(guesses) == {4, 9}, reads
    assert guesses == [4] * turn + [9] * (len(guesses) - turn), reads
    assert sure[turn - 1:turn + 1].min() < min(sure[0], sure[-1]) - 0.1, reads
