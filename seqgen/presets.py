"""Named training configurations (Magenta-style config registry).

`python -m seqgen train --preset names-vae` reproduces a shipped model; `--domain X --family Y`
picks the preset named "X-Y"; any flag on the command line overrides a preset's value.
Every shipped checkpoint's card records the exact command that made it.

A preset can also be another preset plus overrides (`derive`). The Live training page starts from the
presets named "X-Y-live": a domain with such presets is offered there.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from .locale import N_

LIVE_SUFFIX = "-live"
# A learner's own data set is small: its runs stop once the held-out figure has not improved for this many
# validation passes, rather than learn the items by heart
SMALL_DATA_PATIENCE = 4
# A run that starts from a trained model (init_from) learns at this rate, about a tenth of the live presets':
# it adapts what the model knows rather than overwrite it (benchmarks/README.md, "Your own data set")
FINE_TUNE_LR = 2e-4


@dataclass(frozen=True)
class Preset:
    domain: str
    family: str
    model: dict = field(default_factory=dict)   # ModelConfig overrides
    train: dict = field(default_factory=dict)   # TrainConfig overrides
    description: str = ""
    limitations: tuple[str, ...] = ()
    tried: tuple[str, ...] = ()                 # what was tried on the way to the shipped settings (the card says)


def derive(base: Preset, *layers: dict, description: str = "", limitations: tuple[str, ...] = (),
           **overrides) -> Preset:
    """`base` with some settings changed: the dicts in `layers`, then `overrides`, later ones winning.
    Each key names a ModelConfig or TrainConfig setting."""
    from .configurator import target_of

    model, train = dict(base.model), dict(base.train)
    for name, value in {k: v for layer in (*layers, overrides) for k, v in layer.items()}.items():
        target = target_of(name)
        if target is None:
            raise ValueError(f"derive: {name!r} is not a ModelConfig or TrainConfig setting")
        (model if target == "model" else train)[name] = value
    return replace(base, model=model, train=train, description=description or base.description,
                   limitations=tuple(limitations), tried=())


PRESETS: dict[str, Preset] = {
    "digits-vae": Preset(
        "digits", "vae",
        model=dict(cell="lstm", hidden=128, latent=2, autoregressive=False),
        train=dict(steps=8000, batch_size=64, lr=2e-3, eval_every=250),
        description=N_("Digits drawn row by row from a 2-D latent: every point of the plane decodes to a digit."),
        limitations=(N_("Non-autoregressive decoder: strokes are slightly blurry (the price of a latent that "
                     "carries the digit)."), N_("Trained on 4,000 MNIST digits only."))),
    "digits-gan": Preset(
        "digits", "gan",
        model=dict(cell="lstm", hidden=128, latent=32, step_noise=8, conditional=True, aux_classifier=1.0,
                   feature_matching=1.0, label_smoothing=0.1, instance_noise=0.3, mode_seeking=0.3,
                   minibatch_std=True),
        train=dict(steps=8000, batch_size=64, lr=5e-4, lr_d=2e-4, eval_every=500),
        description=N_("Conditional RNN-GAN: noise + a digit label -> that digit, drawn one row per step."),
        limitations=(
            N_("TSTR (a classifier trained on 5,000 generated digits, tested on real ones) clears its 85 % bar by "
            "little; the same procedure on the 4,000 real training digits reaches 97.0 %."),
            N_("Trained on 4,000 MNIST digits only.")),
        tried=(
            "Requested digit / spread / TSTR, 1,000 samples each: instance noise + feature matching + AC loss "
            "alone 98.8 % / 0.63 / 65 %; + mode-seeking 1.0, 5,000 steps: 81.2 % / 1.00 / 75.6 %; + mode-seeking "
            "1.0 and the minibatch-spread feature: 88.4 % / 0.99 / 77.4 %; the same with AC weight 2, 6,000 "
            "steps: 90.0 % / 0.98 / 77.0 %; mode-seeking 0.3 + minibatch spread: 96.1 % / 0.91 / 84.0 % at 6,000 "
            "steps, this model at 8,000; mode-seeking 0.5 at 8,000 steps: 93.8 % / 0.96 / 80.8 %.",)),
    "fashion-vae": Preset(
        "fashion", "vae",
        model=dict(cell="lstm", hidden=128, latent=2, autoregressive=False),
        train=dict(steps=8000, batch_size=64, lr=2e-3, eval_every=250),
        description=N_("Clothes drawn row by row from a 2-D latent: trousers, bags and shoes each get a region."),
        limitations=(N_("Non-autoregressive decoder: textures and prints come out as smooth shading."),
                     N_("Shirts, pullovers and coats share one region of the plane: two numbers cannot keep "
                     "every look apart."), N_("Trained on the bundled 12,000 images (add --data full for all 60,000)."))),
    "fashion-gan": Preset(
        "fashion", "gan",
        model=dict(cell="lstm", hidden=128, latent=32, step_noise=8, conditional=True, aux_classifier=1.0,
                   feature_matching=1.0, label_smoothing=0.1, instance_noise=0.3, mode_seeking=0.3,
                   minibatch_std=True),
        train=dict(steps=8000, batch_size=64, lr=5e-4, lr_d=2e-4, eval_every=500),
        description=N_("Conditional RNN-GAN: noise + a clothing class -> that piece of clothing, one row per step."),
        limitations=(N_("The digits GAN's settings, unchanged; trained on the bundled 12,000 images."),
                     N_("Shirts are the weak class: the reference classifier recognises 39 % of the requested shirts "
                     "(it confuses real shirts with T-shirts, pullovers and coats too)."),
                     N_("TSTR (a classifier trained on 5,000 generated images, tested on real ones) reaches 74 %; the "
                     "same procedure on 5,000 real training images reaches 80 %."))),
    "names-vae": Preset(
        "names", "vae",
        model=dict(cell="lstm", hidden=256, latent=2, autoregressive=True, word_dropout=0.2, embed=32),
        train=dict(steps=5000, batch_size=64, lr=2e-3, kl_anneal_steps=2000, eval_every=250,
                   weight_precision="float16"),
        description=N_("Names VAE with a 2-D latent: sliding through the plane morphs one name into another.")),
    "names-vae-32": Preset(
        "names", "vae",
        model=dict(cell="lstm", hidden=256, latent=32, autoregressive=True, word_dropout=0.5, embed=32, beta=0.3),
        train=dict(steps=4000, max_minutes=38, batch_size=64, lr=2e-3, kl_anneal_steps=1000, eval_every=250),
        description=N_("Names VAE with a 32-D latent: encoding a name gives it back (two numbers cannot hold a name)."),
        limitations=(N_("Shown on the explorer through a 2-D plane (the PCA plane of the encoded names, or the plane "
                     "through two chosen names): points off that plane are not shown."),
                     N_("Trained with a light KL weight (beta 0.3) so the latent keeps the letters: samples from the "
                     "prior are less name-like than the 2-D model's; use it to encode, rebuild and morph names."))),
    "names-gan": Preset(
        "names", "gan",
        model=dict(cell="lstm", hidden=256, latent=16, step_noise=4, embed=32, feature_matching=1.0,
                   gumbel_tau=0.5, mle_weight=1.0, mode_seeking=0.1),
        train=dict(steps=2300, mle_steps=2000, batch_size=64, lr=1e-3, lr_d=1e-3, eval_every=100),
        description=N_("Names GAN (Gumbel-softmax generator, MLE-pretrained as in SeqGAN, mode-seeking term)."),
        limitations=(N_("About one sample in ten repeats another: 'distinct' is below the data's own figure."),),
        tried=(
            "How the novelty bar (>= 60 %) was reached, 1,000 samples each: without the mode-seeking term "
            "(mle_weight 1.0 alone) 59.4 % novel, realism 0.95, 94 % distinct; mode-seeking 0.1 (this preset) "
            "lifts novelty well above the bar (see the metrics); mode-seeking 0.3 gave 85.9 % novel but realism "
            "1.18 and 83 % distinct, close to those bars. Earlier: no likelihood term after pretraining gave "
            "90.7 % novel at realism 1.30 (bar 1.25), or collapse (64 % distinct); mle_weight 0.5 collapsed "
            "(31 % distinct).",)),
    "melodies-vae": Preset(
        "melodies", "vae",
        model=dict(cell="lstm", hidden=128, latent=2, autoregressive=True, word_dropout=0.4, embed=32),
        train=dict(steps=4000, batch_size=64, lr=2e-3, kl_anneal_steps=1500, eval_every=250),
        description=N_("Four-bar chorale melodies from a 2-D latent.")),
    "melodies-gan": Preset(
        "melodies", "gan",
        model=dict(cell="lstm", hidden=128, latent=16, step_noise=4, embed=32, feature_matching=1.0, mle_weight=1.0),
        train=dict(steps=3500, mle_steps=3000, batch_size=64, lr=1e-3, lr_d=1e-3, eval_every=250),
        description=N_("Chorale-melody GAN (Gumbel-softmax generator, MLE-pretrained).")),
    "spoken-vae": Preset(
        "spoken", "vae",
        model=dict(cell="lstm", hidden=128, latent=2, autoregressive=False, reconstruction_target="soft"),
        train=dict(steps=16000, batch_size=64, lr=2e-3, lr_cooldown=16000, eval_every=250),
        description=N_("Spoken digits, English and Mandarin, from a 2-D latent: every point of the plane decodes to a "
                       "spectrogram you can listen to."),
        limitations=(N_("Reconstructions are smooth in time: the reference classifier recognises the digit in "
                        "about 92 % of the test reconstructions, while it reads every real test clip."),
                     N_("Non-autoregressive decoder: Griffin-Lim makes its smooth spectrograms sound buzzy and "
                        "robotic."),
                     N_("Trained on 2,160 clips of one synthetic speech engine (espeak-ng); real voices sit off its "
                        "map.")),
        tried=(
            "Test reconstructions recognised as the right digit (best validation -ELBO kept; every run put 9-10 "
            "digits on the 10x10 grid), all at a constant learning rate: 8,000 steps 73.1 %; 16,000 steps "
            "86.1 %; lr 1e-3 78.9 %; batch 32, lr 1e-3, 32,000 steps 80.8 %; hidden 192, batch 32, lr 1e-3, "
            "20,000 steps 72.2 % (22 min); beta 2, batch 32, lr 1e-3, 24,000 steps 74.7 %; grad clip 1.0 79.2 %; "
            "beta 0.5 followed beta 1's curve over the first 4,000 steps. The figure swung by 5-10 points "
            "between evaluations 250 steps apart in every one of those runs, while the latent already separated "
            "the labels (5-NN accuracy 0.92): the weights kept were a noisy draw. Letting the learning rate fall "
            "linearly to a tenth settles them: over the last 8,000 of 16,000 steps 88.1 %, over all 16,000 "
            "steps (this preset) 91.7 %.",)),
    "spoken-gan": Preset(
        "spoken", "gan",
        model=dict(cell="lstm", hidden=128, latent=32, step_noise=8, conditional=True, aux_classifier=1.0,
                   feature_matching=1.0, label_smoothing=0.1, instance_noise=0.3, mode_seeking=0.3,
                   minibatch_std=True),
        train=dict(steps=5000, batch_size=64, lr=5e-4, lr_d=2e-4, eval_every=500),
        description=N_("Conditional RNN-GAN: noise + a digit and its language -> that spoken digit, one spectrogram "
                       "frame per step."),
        limitations=(N_("Trained on 2,160 clips of one synthetic speech engine (espeak-ng)."),)),
    "digits-classifier": Preset(
        "digits", "classifier", model=dict(cell="lstm", hidden=128),
        train=dict(steps=4000, batch_size=128, lr=3e-3, eval_every=250),
        description=N_("Reference digit classifier: the judge of the digits GAN (requested-digit accuracy).")),
    "fashion-classifier": Preset(
        "fashion", "classifier", model=dict(cell="lstm", hidden=128),
        train=dict(steps=4000, batch_size=128, lr=3e-3, eval_every=250),
        description=N_("Reference clothing classifier: the judge of the fashion GAN (requested-class accuracy).")),
    "spoken-classifier": Preset(
        "spoken", "classifier", model=dict(cell="lstm", hidden=128),
        train=dict(steps=3000, batch_size=128, lr=3e-3, eval_every=250),
        description=N_("Reference spoken-digit classifier (20 labels: the digit and its language): the judge of the "
                       "spoken-digits GAN and VAE."),
        limitations=(N_("Trained and tested on espeak-ng's voices only: the test clips come from the same voices, "
                        "variants, speeds and pitches as the training clips, so its figure says nothing about real "
                        "speakers."),)),
    "names-lm": Preset(
        "names", "lm", model=dict(cell="lstm", hidden=256, embed=32),
        train=dict(steps=5000, batch_size=64, lr=2e-3, eval_every=250),
        description=N_("Reference char-LSTM language model: the names VAE's baseline and the realism judge.")),
    "melodies-lm": Preset(
        "melodies", "lm", model=dict(cell="lstm", hidden=256, embed=32),
        train=dict(steps=6000, batch_size=64, lr=2e-3, eval_every=250),
        description=N_("Reference melody language model.")),
}


# Live training runs for minutes on a laptop's CPU while a student watches: hidden 128 instead of 256,
# validation every 100 steps, 3,000 steps unless the student asks for more. The GANs keep feature matching
# and label smoothing (they stabilise from the first steps) but drop the diversity terms, which pay off only
# over thousands of steps; the token GANs keep a short teacher-forced warm-up.
# float32 even where `--bf16 auto` would take bf16 (an app served from a GPU): the live runs and their lessons
# were tuned and are tested in float32, and bf16 changes their course (the mode-collapse lesson stops collapsing).
_LIVE = dict(cell="lstm", hidden=128, batch_size=64, steps=3000, eval_every=100, bf16="off")
_LIVE_VAE = dict(_LIVE, latent=2, free_bits=0.0, kl_anneal_steps=500)
_LIVE_GAN = dict(_LIVE, feature_matching=1.0, label_smoothing=0.1, d_steps=1, mode_seeking=0.0,
                 minibatch_std=False)
PRESETS.update({
    # the non-autoregressive decoder at hidden 96 and a higher learning rate: recognisable digits soonest
    "digits-vae-live": derive(PRESETS["digits-vae"], _LIVE_VAE, hidden=96, lr=3e-3, kl_anneal_steps=0,
                              autoregressive=False, description=N_("Live training: a small digits VAE.")),
    # hidden 64 at 2e-3 (the clothes GAN too): about three times the steps of hidden 128 in the same minute, and
    # the samples read as the label asked for sooner (benchmarks/README.md, "A live GAN that draws digits in a
    # minute")
    "digits-gan-live": derive(PRESETS["digits-gan"], _LIVE_GAN, hidden=64, lr=2e-3,
                              description=N_("Live training: a small conditional digits GAN.")),
    "fashion-vae-live": derive(PRESETS["fashion-vae"], _LIVE_VAE, hidden=96, lr=3e-3, kl_anneal_steps=0,
                               autoregressive=False, description=N_("Live training: a small clothes VAE.")),
    "fashion-gan-live": derive(PRESETS["fashion-gan"], _LIVE_GAN, hidden=64, lr=2e-3,
                               description=N_("Live training: a small conditional clothes GAN.")),
    # float32: the Live page saves the very weights its curves were measured on, and hidden 128 is small anyway
    "names-vae-live": derive(PRESETS["names-vae"], _LIVE_VAE, lr=2e-3, word_dropout=0.3, weight_precision="float32",
                             description=N_("Live training: a small names VAE.")),
    "names-gan-live": derive(PRESETS["names-gan"], _LIVE_GAN, lr=2e-3, mle_steps=300,
                             description=N_("Live training: a small names GAN.")),
    "melodies-vae-live": derive(PRESETS["melodies-vae"], _LIVE_VAE, lr=2e-3, word_dropout=0.4,
                                description=N_("Live training: a small melodies VAE.")),
    "melodies-gan-live": derive(PRESETS["melodies-gan"], _LIVE_GAN, lr=2e-3, mle_steps=300,
                                description=N_("Live training: a small melodies GAN.")),
    "spoken-vae-live": derive(PRESETS["spoken-vae"], _LIVE_VAE, hidden=96, lr=3e-3, kl_anneal_steps=0,
                              autoregressive=False, description=N_("Live training: a small spoken-digits VAE.")),
    "spoken-gan-live": derive(PRESETS["spoken-gan"], _LIVE_GAN, lr=1e-3,
                              description=N_("Live training: a small conditional spoken-digits GAN.")),
})
# The Lessons page's failure on purpose: the live digits GAN with its stabilisers off, the generator's learning
# rate at 0.1 (fifty times the live preset's; the discriminator's stays) and hidden 128, so G outruns D and most
# samples, whatever their label, come out as one or two digits within a few hundred steps; the diagnostics name
# it mode collapse. At 3e-2 only 1 of 5 seeds collapsed within 90 s; at 0.1, 5 of 5. Hidden 128 rather than the
# live preset's 64: at 64 the collapsed generator spreads over 3-4 digits at the 90 s mark (benchmarks/README.md,
# "The mode-collapse lesson"). Only Live training knobs differ from digits-gan-live, so the lesson can set them
# on the page (tests/test_lessons.py checks both).
PRESETS["digits-gan-collapse"] = derive(PRESETS["digits-gan-live"], hidden=128, lr=0.1, feature_matching=0.0,
                                        label_smoothing=0.0,
                                        description=N_("Live training, on purpose: a digits GAN that collapses."))


def _presets_domain(domain: str) -> str:
    """The domain whose presets `domain` trains with: its own, or for a learner's data set its template's."""
    from .domains import get_domain
    try:
        return get_domain(domain).presets_from or domain
    except ValueError:
        return domain


def live_preset(domain: str, family: str) -> str | None:
    """The name of the Live training preset for domain/family, or None when there is none."""
    name = f"{_presets_domain(domain)}-{family}{LIVE_SUFFIX}"
    return name if name in PRESETS else None


def live_choices() -> dict[str, tuple[str, ...]]:
    """domain -> families with a Live training preset, for every bundled domain that has one (app order). A
    learner's data set is left out: it is offered only to the browser that read it."""
    from .domains import domain_names, get_domain
    from .models import FAMILIES

    return {d: fams for d in domain_names() if get_domain(d).presets_from is None
            and (fams := tuple(f for f in FAMILIES if live_preset(d, f)))}


def preset_for(domain: str, family: str) -> str:
    name = f"{_presets_domain(domain)}-{family}"
    if name not in PRESETS:
        raise ValueError(f"no preset for domain {domain!r} and family {family!r}; known: {', '.join(PRESETS)}")
    return name


def configure(preset: str | None = None, domain: str | None = None, family: str | None = None,
              model_overrides: dict | None = None, train_overrides: dict | None = None):
    """-> (ModelConfig, TrainConfig, Preset) for a preset name or a domain/family pair, with overrides."""
    from .domains import get_domain
    from .models import ModelConfig, TrainConfig

    if preset is None:
        if not (domain and family):
            raise ValueError("give a preset, or both a domain and a family")
        preset = preset_for(domain, family)
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    p = PRESETS[preset]
    if domain and _presets_domain(domain) != p.domain or family and family != p.family:
        raise ValueError(f"preset {preset!r} is for {p.domain}/{p.family}, not {domain}/{family}")
    data = get_domain(domain or p.domain)
    model = {**p.model, **(model_overrides or {})}
    if not data.n_labels and "conditional" not in (model_overrides or {}):
        model["conditional"] = False      # a learner's data set without labels trains its template's preset
    model_cfg = ModelConfig.for_domain(data, p.family, **model)
    given = {k: v for k, v in (train_overrides or {}).items() if v is not None}
    train = {**p.train, **({"patience": SMALL_DATA_PATIENCE} if data.presets_from else {})}
    if given.get("init_from"):
        train["lr"] = FINE_TUNE_LR              # unless given: a model started from adapts at the fine-tuning rate
    train_cfg = TrainConfig(**{**train, **given})
    train_cfg.validate()
    if train_cfg.init_from:
        model_cfg = started_from(train_cfg.init_from, data, p.family)
    return model_cfg, train_cfg, p


def started_from(name: str, data, family: str):
    """The ModelConfig of a run that starts from checkpoint `name`'s weights on `data`: its architecture, made
    for `data`. ValueError (a sentence) when it is another family or does not fit the data's sequences."""
    from dataclasses import replace as with_changes

    from .checkpoints import CheckpointError
    from .zoo import read_info

    try:
        cfg = read_info(name)[1]
    except (CheckpointError, OSError, ValueError) as e:
        raise ValueError(f"cannot start from {name!r}: {e}") from None
    if cfg.family != family:
        raise ValueError(f"cannot start from {name!r}: it is a {cfg.family.upper()}, this run trains a "
                         f"{family.upper()}")
    fitted = with_changes(cfg, domain=data.name, n_labels=data.n_labels)
    if cfg.conditional and cfg.n_labels != data.n_labels:
        raise ValueError(f"cannot start from {name!r}: it is conditioned on {cfg.n_labels} labels, the data has "
                         f"{data.n_labels}")
    try:
        data.check_model(fitted)
    except CheckpointError as e:
        raise ValueError(f"cannot start from {name!r}: {e}") from None
    return fitted
