"""One config object per model (nanoGPT style): architecture, its domain, and how it was trained.

`ModelConfig` is everything needed to rebuild a network from a checkpoint; it round-trips through JSON.
`TrainConfig` holds the optimisation knobs; it is stored beside the model in the checkpoint for the card.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field, fields

FAMILIES = ("vae", "gan", "lm", "classifier")
CELLS = ("lstm", "gru")


def _from_dict(cls, data: dict):
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown field(s) {', '.join(unknown)}")
    obj = cls(**data)
    obj.validate()
    return obj


@dataclass
class ModelConfig:
    family: str                 # "vae" | "gan" | "lm" (reference char model) | "classifier" (reference judge)
    domain: str                 # "digits" | "names" | "melodies"
    discrete: bool              # tokens (True) or real-valued rows (False)
    seq_len: int                # T
    n_features: int             # F per row, or vocabulary size
    n_labels: int = 0           # label classes the domain offers
    pad_id: int | None = None   # discrete: token that ends a sequence's padding (ignored by VAE/LM losses)
    cell: str = "lstm"          # "lstm" | "gru"
    hidden: int = 256
    layers: int = 1
    embed: int = 64             # token / label / row embedding width
    latent: int = 2             # VAE: size of z.  GAN: size of the global noise vector
    conditional: bool = False   # feed the label to generator/decoder (and discriminator)
    # VAE
    autoregressive: bool = False  # decoder also reads its previous output (stronger decoder, weaker latent)
    beta: float = 1.0
    free_bits: float = 0.0        # nats per latent dimension below which KL is not penalised
    word_dropout: float = 0.0     # AR decoders: chance of hiding the previous token (forces use of z)
    # GAN
    step_noise: int = 8           # per-step noise channels fed to the generator
    feature_matching: float = 0.0 # weight of the feature-matching term in the generator loss
    label_smoothing: float = 0.0  # real targets = 1 - label_smoothing
    aux_classifier: float = 1.0   # weight of the auxiliary label loss (AC-GAN) when conditional
    gumbel_tau: float = 0.5       # temperature of the straight-through Gumbel-softmax (discrete GANs)
    instance_noise: float = 0.0   # std of Gaussian noise on D's inputs (rows), fading to 0 over training
    mle_weight: float = 0.0       # discrete GANs: keep a teacher-forced likelihood term in the G loss after
                                  # pretraining, so the adversarial phase cannot drift into collapse
    mode_seeking: float = 0.0     # weight of the mode-seeking term (MSGAN): two noises, same label, must differ
    minibatch_std: bool = False   # D also sees the batch's feature spread, so a collapsed G is easy to spot

    def validate(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {self.family!r}")
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {self.cell!r}")
        for name in ("seq_len", "n_features", "hidden", "layers", "embed", "latent"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.conditional and self.n_labels < 1:
            raise ValueError(f"domain {self.domain!r} has no labels, so the model cannot be conditional")
        if not 0.0 <= self.word_dropout < 1.0:
            raise ValueError("word_dropout must be in [0, 1)")
        if not 0.0 <= self.label_smoothing < 0.5:
            raise ValueError("label_smoothing must be in [0, 0.5)")

    @classmethod
    def for_domain(cls, domain, family: str, **overrides) -> "ModelConfig":
        """Config with the domain's shape filled in; `domain` is a Domain object."""
        base = dict(family=family, domain=domain.name, discrete=domain.discrete, seq_len=domain.seq_len,
                    n_features=domain.n_features, n_labels=domain.n_labels, pad_id=domain.pad_id)
        base.update({k: v for k, v in overrides.items() if v is not None})
        cfg = cls(**base)
        cfg.validate()
        return cfg

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        return _from_dict(cls, data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "ModelConfig":
        return cls.from_dict(json.loads(text))


@dataclass
class TrainConfig:
    steps: int = 2000
    max_minutes: float | None = None  # wall-clock budget; training stops at whichever comes first
    batch_size: int = 64
    lr: float = 2e-3
    lr_d: float | None = None        # GAN discriminator learning rate (defaults to lr)
    d_steps: int = 1                 # GAN: discriminator updates per generator update
    mle_steps: int = 0               # discrete GAN: teacher-forced pretraining steps of the generator
    kl_anneal_steps: int = 0         # VAE: beta ramps linearly from 0 over this many steps
    grad_clip: float = 5.0
    seed: int = 0
    eval_every: int = 200            # steps between validation passes (and sample events)
    bf16: str = "auto"               # "auto" (only where the CPU has AMX), "on", "off"
    threads: int | None = None       # torch intra-op threads; None leaves torch's default
    extra: dict = field(default_factory=dict)

    def validate(self) -> None:
        if self.steps < 1:
            raise ValueError("steps must be >= 1")
        if self.batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if not self.lr > 0:
            raise ValueError("lr must be > 0")
        if self.bf16 not in ("auto", "on", "off"):
            raise ValueError("bf16 must be auto, on or off")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        return _from_dict(cls, data)
