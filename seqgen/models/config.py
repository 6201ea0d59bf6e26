"""One config object per model (nanoGPT style): architecture, its domain, and how it was trained.

`ModelConfig` is everything needed to rebuild a network from a checkpoint; it round-trips through JSON.
`TrainConfig` holds the optimisation knobs; it is stored beside the model in the checkpoint for the card.

A field declared with `setting(...)` is a tunable hyperparameter: its metadata (help, range, choices, the
families it applies to, the live page's widget) is the one description the command line
(`python -m seqgen train --help`, seqgen.configurator) and the Live training page read.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field, fields

FAMILIES = ("vae", "gan", "lm", "classifier")
GENERATIVE = ("vae", "gan")
CELLS = ("lstm", "gru")
BF16_MODES = ("auto", "on", "off")
WEIGHT_PRECISIONS = ("float32", "float16")
RECONSTRUCTION_TARGETS = ("binary", "soft")
DEVICE_CHOICES = ("auto", "cpu", "cuda")
GRADIENT_EXCHANGES = ("auto", "shared-memory", "backend")


def setting(default, help: str, *, choices: tuple | None = None, min: float | None = None,
            max: float | None = None, above: float | None = None, below: float | None = None,
            families: tuple[str, ...] = FAMILIES, discrete_only: bool = False, continuous_only: bool = False,
            flags: tuple[str, ...] = (), live: dict | None = None):
    """A dataclass field that is a tunable setting.

    help: one line for --help (and the live page when it has no copy of its own).
    choices / min, max (inclusive) / above, below (exclusive): allowed values, checked by validate().
    families, discrete_only, continuous_only: the models and data the setting means something for.
    flags: extra command-line spellings besides --field-name (e.g. "--minutes").
    live: makes it a Live training knob; widget hints `options=(...)` or `min=, max=, step=`, and
    optionally `families=` (fewer than the field's), `label=`, `input="number"`.
    """
    meta = dict(help=help, choices=tuple(choices) if choices else None, min=min, max=max, above=above,
                below=below, families=tuple(families), discrete_only=discrete_only,
                continuous_only=continuous_only, flags=tuple(flags), live=dict(live) if live else None)
    return field(default=default, metadata=meta)


def settings_of(cls) -> list[dataclasses.Field]:
    """The tunable fields of a config dataclass, in declaration order."""
    return [f for f in fields(cls) if "help" in f.metadata]


def check_settings(obj) -> None:
    """Raise ValueError when a setting is outside the choices / range its metadata declares."""
    for f in settings_of(type(obj)):
        v, m = getattr(obj, f.name), f.metadata
        if v is None:
            continue
        if m["choices"] and v not in m["choices"]:
            raise ValueError(f"{f.name} must be one of {m['choices']}, got {v!r}")
        if m["min"] is not None and v < m["min"]:
            raise ValueError(f"{f.name} must be >= {m['min']}, got {v}")
        if m["max"] is not None and v > m["max"]:
            raise ValueError(f"{f.name} must be <= {m['max']}, got {v}")
        if m["above"] is not None and not v > m["above"]:
            raise ValueError(f"{f.name} must be > {m['above']}, got {v}")
        if m["below"] is not None and not v < m["below"]:
            raise ValueError(f"{f.name} must be < {m['below']}, got {v}")


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
    domain: str                 # registry name of the data (seqgen.domains)
    discrete: bool              # tokens (True) or real-valued rows (False)
    seq_len: int                # T
    n_features: int             # F per row, or vocabulary size
    n_labels: int = 0           # label classes the domain offers
    pad_id: int | None = None   # discrete: token that ends a sequence's padding (ignored by VAE/LM losses)
    cell: str = setting("lstm", "recurrent unit", choices=CELLS, live=dict(options=CELLS))
    hidden: int = setting(256, "recurrent units per layer", min=1, max=4096, live=dict(options=(16, 32, 64, 96, 128, 256)))
    layers: int = setting(1, "stacked recurrent layers", min=1, max=8)
    embed: int = setting(64, "embedding width for tokens and labels", min=1, max=1024)
    latent: int = setting(2, "VAE: size of z; GAN: size of the global noise", min=1, max=512, families=GENERATIVE,
                          live=dict(min=1, max=32, step=1, families=("vae",)))
    conditional: bool = setting(False, "condition on the label (generator/decoder and discriminator)",
                                families=GENERATIVE)
    # VAE
    autoregressive: bool = setting(False, "decoder also reads its previous output (stronger decoder, weaker "
                                   "latent)", families=("vae",))
    beta: float = setting(1.0, "weight of the KL term", min=0.0, families=("vae",))
    free_bits: float = setting(0.0, "KL floor per latent dimension (nats) below which KL is not penalised",
                               min=0.0, families=("vae",), live=dict(min=0.0, max=3.0, step=0.25))
    reconstruction_target: str = setting("binary", "what a continuous VAE's reconstruction is scored against: "
                                         "binary (the data thresholded at 0.5, the MNIST benchmark) or soft (the "
                                         "values themselves, for graded data such as spectrograms)",
                                         choices=RECONSTRUCTION_TARGETS, families=("vae",), continuous_only=True)
    word_dropout: float = setting(0.0, "chance of hiding the previous token from an autoregressive decoder "
                                  "(forces use of z)", min=0.0, below=1.0, families=("vae",), discrete_only=True,
                                  live=dict(min=0.0, max=0.7, step=0.05))
    # GAN
    step_noise: int = setting(8, "noise channels fed to the generator at each step", min=0, max=512,
                            families=("gan",))
    feature_matching: float = setting(0.0, "weight of the feature-matching term in the generator loss", min=0.0,
                                      families=("gan",), live=dict(min=0.0, max=2.0, step=0.25))
    label_smoothing: float = setting(0.0, "one-sided label smoothing: real targets = 1 - this", min=0.0,
                                     below=0.5, families=("gan",), live=dict(min=0.0, max=0.3, step=0.05))
    aux_classifier: float = setting(1.0, "weight of the auxiliary label loss (AC-GAN) when conditional",
                                    min=0.0, families=("gan",))
    gumbel_tau: float = setting(0.5, "temperature of the straight-through Gumbel-softmax", above=0.0,
                                families=("gan",), discrete_only=True)
    instance_noise: float = setting(0.0, "std of Gaussian noise on D's inputs, fading to 0 over training",
                                    min=0.0, families=("gan",), continuous_only=True)
    mle_weight: float = setting(0.0, "likelihood term kept in G's loss after pretraining, so the adversarial "
                                "phase cannot drift into collapse", min=0.0, families=("gan",), discrete_only=True)
    mode_seeking: float = setting(0.0, "weight of the mode-seeking term (MSGAN): two noises, same label, must "
                                  "differ", min=0.0, families=("gan",))
    minibatch_std: bool = setting(False, "let D see the batch's feature spread, so a collapsed G is easy to "
                                  "spot", families=("gan",))

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
        for f in settings_of(ModelConfig):   # NaN passes every range comparison, so refuse it by name
            v = getattr(self, f.name)
            if isinstance(v, float) and not math.isfinite(v):
                raise ValueError(f"{f.name} must be a finite number, got {v}")
        check_settings(self)

    @classmethod
    def for_domain(cls, domain, family: str, **overrides) -> ModelConfig:
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
    def from_dict(cls, data: dict) -> ModelConfig:
        return _from_dict(cls, data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        return cls.from_dict(json.loads(text))


@dataclass
class TrainConfig:
    steps: int = setting(2000, "training steps", min=1, live=dict(min=10, max=50_000, step=10, input="number"))
    max_minutes: float | None = setting(None, "wall-clock budget in minutes (stops at steps or minutes)",
                                        above=0.0, flags=("--minutes",))
    batch_size: int = setting(64, "examples per step", min=1, max=4096, live=dict(options=(8, 16, 32, 64, 128)))
    lr: float = setting(2e-3, "learning rate", above=0.0,
                        live=dict(options=(1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 3e-2, 1e-1),
                                  while_running=True))
    lr_d: float | None = setting(None, "discriminator learning rate (default: lr)", above=0.0, families=("gan",))
    d_steps: int = setting(1, "discriminator updates per generator update", min=1, families=("gan",),
                           live=dict(min=1, max=5, step=1, while_running=True))
    mle_steps: int = setting(0, "teacher-forced pretraining steps of the generator", min=0, families=("gan",),
                             discrete_only=True)
    kl_anneal_steps: int = setting(0, "steps over which beta ramps linearly from 0", min=0, families=("vae",),
                                   flags=("--kl-anneal",), live=dict(min=0, max=5000, step=50))
    lr_cooldown: int = setting(0, "last steps over which every learning rate falls linearly to a tenth of its "
                               "value (0: constant); settles the weights the early stopping keeps", min=0)
    grad_clip: float = setting(5.0, "largest gradient norm a step may take; bigger gradients are scaled down to it",
                               above=0.0, live=dict(options=(0.5, 1.0, 2.0, 5.0, 10.0, 100.0), while_running=True))
    seed: int = setting(0, "random seed of the weights and the batches")
    eval_every: int = setting(200, "steps between validation passes (and sample events)", min=1)
    init_from: str | None = setting(None, "start from this checkpoint's weights and architecture (fine-tuning): a "
                                    "shipped or saved model of the same family and data of the same shape, such as "
                                    "digits-vae for your own drawings")
    patience: int = setting(0, "validation passes in a row without a better figure after which training stops "
                            "early (0: it never does; a learner's own small data set gets a few)", min=0)
    bf16: str = setting("auto", "bfloat16 autocast (auto: on GPUs with bfloat16; on: also on CPUs with "
                        "AVX512-BF16 or AMX)", choices=BF16_MODES)
    threads: int | None = setting(None, "torch intra-op threads (default: torch's own)", min=1)
    processes: int | None = setting(None, "processes training side by side on this machine when started as "
                                    "`python -m seqgen train` (default: one per core, each taking 32 or more "
                                    "examples of every batch; --threads alone means one process)", min=1)
    gradient_exchange: str = setting("auto", "how the processes of a torchrun launch average their gradients: "
                                     "shared-memory (CPU processes on one x86-64 machine), backend "
                                     "(torch.distributed's all_reduce: gloo on CPU, nccl on CUDA), or auto "
                                     "(shared memory where it can)", choices=GRADIENT_EXCHANGES)
    device: str = setting("auto", "where to train: auto (the GPU when torch sees one, else the CPU), cpu or cuda",
                          choices=DEVICE_CHOICES)
    data: str = setting("bundled", "training data: the subset bundled in the repository, or the domain's full "
                        "data set where it is installed (the validation and test splits stay the same)",
                        choices=("bundled", "full"))
    weight_precision: str = setting("float32", "precision the saved weights are rounded to; float16 halves the "
                                    "in-browser download", choices=WEIGHT_PRECISIONS)
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
        check_settings(self)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        return _from_dict(cls, data)
