"""Words of the Live training page: a label and a classroom explanation for each knob.

A knob with no entry here is shown with the label and help of its config field's metadata, so a new
setting with `live=...` metadata appears on the page without anything added to this file.
"""
from __future__ import annotations

FAMILY_TITLES = {"vae": "VAE (encoder + decoder)", "gan": "GAN (generator vs. discriminator)"}

KNOB_COPY: dict[str, tuple[str, str]] = {
    "cell": ("Cell", "LSTM or GRU: the recurrent unit that reads/writes one row, letter or note per step. "
             "LSTM has the fast fused CPU kernel here."),
    "hidden": ("Hidden size", "Memory of the recurrent layer. Bigger learns more per step but each step is "
               "slower (256 costs 3-4x of 128)."),
    "lr": ("Learning rate", "Size of each optimiser step. Too high and training blows up (the run stops and "
           "says so); too low and nothing seems to happen."),
    "batch_size": ("Batch size", "Examples per step: bigger batches give smoother curves but slower steps."),
    "steps": ("Steps", "How many training steps the run makes before it finishes on its own."),
    "latent": ("Latent size", "Size of z, the code the encoder compresses each example into. With 2 you can "
               "see the whole latent map and explore it later."),
    "kl_anneal_steps": ("KL annealing (steps)", "The KL penalty ramps up from 0 over this many steps, so the "
                        "decoder learns to use z before being pulled towards the prior. 0 = full penalty from "
                        "the start."),
    "free_bits": ("Free bits (nats per dim)", "KL below this many nats per latent dimension costs nothing, "
                  "which stops the latent from collapsing to 'unused'."),
    "word_dropout": ("Word dropout", "Hide the previous letter/note from the decoder this often, so it has "
                     "to rely on z instead of just continuing the sequence."),
    "feature_matching": ("Feature matching", "The generator also matches the discriminator's average "
                         "features of real data: a steadier target than only fooling D (weight; 0 = off)."),
    "label_smoothing": ("Label smoothing", "D is trained to say 0.9 (not 1) for real data, so it cannot get "
                        "overconfident and starve the generator of gradient."),
    "d_steps": ("D steps", "Discriminator updates per generator update."),
}


def knob_text(knob) -> tuple[str, str]:
    """(label, one-line explanation) for a live knob: this page's copy, else its field metadata."""
    return KNOB_COPY.get(knob.name, (knob.label, knob.help[:1].upper() + knob.help[1:] + "."))


def family_title(family: str) -> str:
    return FAMILY_TITLES.get(family, family.upper())
