"""Words of the Live training page: a label and a classroom explanation for each knob.

A knob with no entry here is shown with the label and help of its config field's metadata (in English:
tests/test_i18n.py asks for an entry here for every live knob, so the page is fully translated), so a new
setting with `live=...` metadata still appears on the page without anything added to this file.
"""
from __future__ import annotations

from .i18n import N_, _

FAMILY_TITLES = {"vae": N_("VAE (encoder + decoder)"), "gan": N_("GAN (generator vs. discriminator)")}

KNOB_COPY: dict[str, tuple[str, str]] = {
    "cell": (N_("Cell"), N_("LSTM or GRU: the recurrent unit that reads/writes one row, letter or note per step. "
                            "LSTM has the fast fused CPU kernel here.")),
    "hidden": (N_("Hidden size"), N_("Memory of the recurrent layer. Bigger learns more per step but each step "
                                     "is slower (256 costs 3-4x of 128).")),
    "lr": (N_("Learning rate"), N_("Size of each optimiser step. Too high and training blows up (the run stops "
                                   "and says so); too low and nothing seems to happen.")),
    "batch_size": (N_("Batch size"), N_("Examples per step: bigger batches give smoother curves but slower "
                                        "steps.")),
    "steps": (N_("Steps"), N_("How many training steps the run makes before it finishes on its own.")),
    "latent": (N_("Latent size"), N_("Size of z, the code the encoder compresses each example into (for a GAN: "
                                     "the size of its noise). With 2 you can see the whole latent map and "
                                     "explore it later.")),
    "kl_anneal_steps": (N_("KL annealing (steps)"), N_("The KL penalty ramps up from 0 over this many steps, so "
                                                       "the decoder learns to use z before being pulled towards "
                                                       "the prior. 0 = full penalty from the start.")),
    "free_bits": (N_("Free bits (nats per dim)"), N_("KL below this many nats per latent dimension costs "
                                                     "nothing, which stops the latent from collapsing to "
                                                     "'unused'.")),
    "word_dropout": (N_("Word dropout"), N_("Hide the previous letter/note from the decoder this often, so it "
                                            "has to rely on z instead of just continuing the sequence.")),
    "feature_matching": (N_("Feature matching"), N_("The generator also matches the discriminator's average "
                                                    "features of real data: a steadier target than only fooling "
                                                    "D (weight; 0 = off).")),
    "label_smoothing": (N_("Label smoothing"), N_("D is trained to say 0.9 (not 1) for real data, so it cannot "
                                                  "get overconfident and starve the generator of gradient.")),
    "d_steps": (N_("D steps"), N_("Discriminator updates per generator update.")),
    "grad_clip": (N_("Gradient clipping"), N_("The largest gradient norm a step may take; bigger gradients are "
                                              "scaled down to it, so one bad batch cannot throw training off.")),
}


def knob_text(knob) -> tuple[str, str]:
    """(label, one-line explanation) for a live knob: this page's copy, else its field metadata."""
    if knob.name in KNOB_COPY:
        label, help_text = KNOB_COPY[knob.name]
        return _(label), _(help_text)
    return knob.label, knob.help[:1].upper() + knob.help[1:] + "."


def family_title(family: str) -> str:
    return _(FAMILY_TITLES[family]) if family in FAMILY_TITLES else family.upper()


# settings a run can have besides its knobs, and their words (a model's name is shown as it is)
OTHER_SETTINGS = {"init_from": N_("Started from")}


def settings_line(knobs) -> str:
    """A run's settings in words of the session's language: "Learning rate 0.002, Hidden size 128, ..." (a
    setting the page has no words for keeps its name)."""
    def shown(k, v) -> str:
        if isinstance(v, float):
            return f"{v:g}"
        return _(str(v).upper()) if isinstance(v, str) and k not in OTHER_SETTINGS else str(v)
    return ", ".join(f"{knob_label(k)} {shown(k, v)}" for k, v in knobs.items())


def knob_label(name: str) -> str:
    """A knob's label in the session's language (its name when it is no live knob)."""
    from seqgen.training.live import KNOB_BY_NAME
    if name in OTHER_SETTINGS:
        return _(OTHER_SETTINGS[name])
    return knob_text(KNOB_BY_NAME[name])[0] if name in KNOB_BY_NAME else name


def change_sentence(change) -> str:
    """One knob change of the class run, (step, name, old, new), as a sentence for the students."""
    step, name, old, new = change
    return _("At step {step} the teacher changed {knob} from {old:g} to {new:g}.").format(
        step=step, knob=knob_label(name), old=old, new=new)
