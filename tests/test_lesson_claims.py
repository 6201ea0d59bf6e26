"""Lesson claims as measured facts: each checked "Notice:" line runs what its step runs (same model, same
sampling call, the step's seed) and asserts the claim in at least 4 of 5 seeds, the step's own among them.

So far the "An RNN writes one step at a time" lesson (lessons/rnn-steps.toml), steps 1 and 4. Slow: each seed
samples the GAN with its hidden states.
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


def _step_state(number: int) -> dict:
    lesson = read_lesson(SHIPPED / "rnn-steps.toml", PAGES)
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
