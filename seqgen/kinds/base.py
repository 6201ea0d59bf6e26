"""The Domain contract: raw data <-> model sequences, and everything pages and the CLI ask of a domain.

Every domain is a sequence. A model only sees tensors:
  continuous domains: float32 [N, T, F] in [0, 1]  (images: T=28 rows of F=28 pixels; sound: mel frames)
  discrete domains:   int64   [N, T] token ids     (names: letters; melodies: note events)
A Domain turns raw data into those tensors and model output back into an artifact a person sees or hears.

Two layers share the work. A *kind* (image, text, melody, sound: one module each in this package) owns how
its artifacts look and are typed in: the artifact type, pictures of a batch, the files the CLI writes, how a
start is cut for a completion, what a reference model recognises, and the spec of its in-browser renderer.
A *domain* (seqgen.domains) subclasses its kind and owns its data: where it comes from, its splits, labels,
licence and reference model. Pages, the UI and the CLI call what this class declares and never test which
domain or kind they hold.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..checkpoints import CheckpointError, load, resolve
from ..locale import Sentence

SPLITS = ("train", "val", "test")
KINDS = ("image", "text", "melody", "sound")
# What a model must share with the domain it was trained on (checked whenever a checkpoint is opened).
SHAPE_FIELDS = ("discrete", "seq_len", "n_features", "n_labels", "pad_id")


@dataclass(frozen=True)
class Entry:
    """One item of a learner's file, as the kind read it: kept (`artifact`) or dropped (`why`)."""
    where: str                     # the file, and the line for a list: "cities.txt:12"
    artifact: Any = None           # the item as the kind's artifact; None when dropped
    why: str | None = None         # a Sentence: why it was dropped
    shown: str = ""                # the item in words, where a kind has them (the word as typed)

    @property
    def shown_as(self) -> str:
        """The item for a report or a map's hover: "Lilei (cities.txt:12)", or where it came from."""
        return f"{self.shown} ({self.where})" if self.shown else self.where


class Domain(ABC):
    name: str                     # registry key, e.g. "digits"
    title: str                    # human title: "MNIST digits"
    kind: str                     # set by the kind's base class: "image" | "text" | "melody" | "sound"
    discrete: bool                # True: int64 tokens [T]; False: float rows [T, F]
    seq_len: int                  # T
    n_features: int               # F (continuous) or vocabulary size (discrete)
    label_names: tuple[str, ...] = ()   # names of the label classes; () when unlabelled
    pad_id: int | None = None     # discrete only: padding token ignored by losses
    bos_id: int | None = None     # discrete only: start token fed to decoders at step 0
    item_noun: str = "example"    # one item in words: "digit", "name", "melody"
    item_noun_plural: str = "examples"
    picker_title: str = ""        # the Live training page's choice: "Digits (28 rows of pixels)"
    licence: str = ""             # data source and licence, for model cards
    reference_model: str | None = None   # checkpoint that judges samples (classifier / language model)
    explorer_grid: tuple[int, int, int] = (3, 12, 6)   # latent explorer n x n grid: min, max, default
    data_sources: tuple[str, ...] = ("bundled",)       # "full": a larger training set installed on the machine
    step_noun: str = "step"       # one time step of the sequence in words: "row", "letter", "frame"
    step_noun_plural: str = "steps"
    default_prefix_length: int | None = None           # how much of an item a completion keeps unless told
    # How `python -m seqgen complete` takes a start for this kind: --<start_flag> VALUE (a file's path when
    # start_is_file), and --<keep_flag> N for how much of it to keep.
    start_flag: str = ""
    start_help: str = ""
    start_is_file: bool = True
    keep_flag: str = ""
    keep_help: str = ""
    # A learner's own data set (seqgen.domains.own): the file types one item, or a list of items, comes in,
    # and whether items can be typed or pasted one per line.
    upload_types: tuple[str, ...] = ()
    pastes: bool = False
    own_alphabet: bool = False         # whether items can be kept in the characters they are written in
    records: bool = False              # whether an item can be recorded in the browser (one file each)
    presets_from: str | None = None    # a domain whose presets this one trains with (a learner's data)

    @property
    def n_labels(self) -> int:
        return len(self.label_names)

    @property
    def stem(self) -> str:
        """How a model of this data is named by default: "my-<stem>-vae"."""
        return self.name

    # ---------------------------------------------------------------- data (the domain's part)
    @abstractmethod
    def dataset(self, split: str) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Fixed, seeded split ("train" | "val" | "test") as (x, y); y is int64 [N] or None."""

    def training_data(self, source: str = "bundled") -> tuple[torch.Tensor, torch.Tensor | None]:
        """The training split, from the bundled data or (where the domain has one) a larger installed set."""
        if source not in self.data_sources:
            raise ValueError(f"{self.title} has no {source!r} data; it offers: {', '.join(self.data_sources)}")
        return self.dataset("train") if source == "bundled" else self.dataset("train", source=source)

    def item_texts(self, split: str) -> list[str]:
        """One line per item of dataset(split): what a map's hover shows."""
        x, y = self.dataset(split)
        if y is not None and self.label_names:
            return [f"#{i}: {self.label_names[int(c)]}" for i, c in enumerate(y.tolist())]
        return [f"#{i}" for i in range(len(x))]

    # ---------------------------------------------------------------- artifacts (the kind's part)
    @abstractmethod
    def to_artifact(self, seq: torch.Tensor) -> Any:
        """One model sequence ([T, F] float or [T] int) -> the kind's artifact."""

    @abstractmethod
    def from_artifact(self, artifact: Any) -> torch.Tensor:
        """Inverse of to_artifact, also for what a user typed, drew or recorded. ValueError with a message a
        user can act on."""

    def artifacts(self, seqs) -> list:
        """A batch of model sequences (on any device) -> one artifact each."""
        if isinstance(seqs, torch.Tensor):
            seqs = seqs.cpu()
        return [self.to_artifact(s) for s in seqs]

    def describe(self, artifact: Any) -> str:
        """Short text for captions, text alternatives and the CLI."""
        return str(artifact)

    def picture(self, artifacts: Sequence, cols: int, scale: int = 1) -> np.ndarray | None:
        """A uint8 mosaic of artifacts (images, piano rolls, spectrograms), or None where text reads better."""
        return None

    def write_samples(self, artifacts: Sequence, folder: Path, stem: str, **options) -> list[str]:
        """Write artifacts as files a person can open (the CLI's `sample`); -> lines to print."""
        path = Path(folder) / f"{stem}.txt"
        path.write_text("\n".join(self.describe(a) for a in artifacts) + "\n", encoding="utf-8")
        return [f"wrote {path}"]

    def prefix(self, item: Any, length: int | None = None) -> torch.Tensor:
        """The start of an item that a completion keeps exactly, as model steps. ValueError says what to fix."""
        raise ValueError(f"Models of {self.title} cannot finish a start.")

    def read_start(self, value: str) -> tuple[Any, list[str]]:
        """The `complete` command's start (typed text, or the path of a file) -> (the start as an artifact,
        one sentence for each change made to fit it). ValueError says what is wrong with it."""
        raise ValueError(f"Models of {self.title} cannot finish a start.")

    def read_file(self, name: str, data: bytes) -> list[Entry]:
        """One uploaded file (of `upload_types`) -> its items. ValueError (a Sentence) when the whole file is
        unreadable; an item that is not, is an Entry with its reason."""
        raise ValueError(Sentence("Models of {title} cannot learn from files.", title=self.title))

    def read_lines(self, lines: Sequence[str], where: str, characters: bool = False) -> list[Entry]:
        """Items typed or pasted one per line (where `pastes`); with `characters` (where `own_alphabet`), kept in
        the characters they are written in."""
        raise ValueError(Sentence("Models of {title} cannot learn from typed text.", title=self.title))

    def with_alphabet(self, alphabet: str) -> Domain:
        """This domain writing its items in `alphabet`'s characters (where `own_alphabet`)."""
        raise ValueError(Sentence("Models of {title} cannot learn from typed text.", title=self.title))

    def data_note(self) -> str:
        """Where the training data came from and how it was split, for a model card."""
        return "bundled data, fixed seeded split (see seqgen/domains/data/NOTICE)"

    def keep(self) -> None:
        """Store what a saved model needs to open this domain again (a learner's data set); bundled data is
        always there."""
        return None

    def reads_as(self, typed: Any) -> str | None:
        """What the models read for something a user typed, when it is not what was typed (a name in Chinese
        characters read through its pinyin); None when it is taken as it is."""
        return None

    def recognise(self, artifacts: Sequence) -> list[tuple[int, float]] | None:
        """The reference model's label guess and its confidence for each artifact; None without one."""
        return None

    def looks_like(self, artifacts: Sequence) -> list[bool] | None:
        """Whether each artifact passes for real data by the domain's own judge; None where none exists."""
        return None

    def is_known(self, artifact: Any) -> bool | None:
        """Whether an artifact is in the domain's data (a generated name that is a real one); None where the
        question means nothing."""
        return None

    def pad_spec(self) -> dict:
        """What the in-browser latent pad needs to draw this domain's artifacts (JSON-ready). Each kind
        fills it; its renderer in seqgen/ui/kinds/<kind>.js reads it."""
        raise NotImplementedError(f"the latent pad cannot draw {self.kind} artifacts")

    # ---------------------------------------------------------------- judging models
    def sample_metrics(self, model, n: int, seed: int, temperature: float, slow: bool) -> dict:
        """The domain's own quality figures of a generator (VAE or GAN), on the test split."""
        return {}

    def quick_metrics(self, model, n: int, seed: int) -> dict:
        """Cheap sample-quality figures to watch during training and to guard shipped models."""
        return {}

    def check_model(self, cfg) -> None:
        """Raise CheckpointError when a model config does not fit this domain's sequences."""
        for k in SHAPE_FIELDS:
            if getattr(cfg, k) != getattr(self, k):
                raise CheckpointError(f"{k} is {getattr(cfg, k)!r}, but the {self.name} data has "
                                      f"{getattr(self, k)!r}")

    def reference(self):
        """The domain's reference model (classifier / language model), or None when it is not available.

        Loaded once per version of its files and shared: a page judges every batch it draws with it, so it
        must not be read from disk each time. Callers only run it (eval mode, no grad) and never change it."""
        if not self.reference_model:
            return None
        try:
            folder = resolve(self.reference_model)
            ckpt = _reference_checkpoint(str(folder), tuple((folder / f).stat().st_mtime_ns for f in STAMPED))
            self.check_model(ckpt.config)
        except (CheckpointError, OSError):
            return None
        return ckpt.model


STAMPED = ("config.json", "model.safetensors")      # a reference model's version: these files' times


@lru_cache(maxsize=16)
def _reference_checkpoint(folder: str, stamp: tuple):
    """`stamp` keys the cache only: a re-saved reference model is loaded again. Building the model draws its
    first weights from torch's global random stream; the judge is read outside that stream, so a training run
    that reads it (a live GAN's diagnostics) runs the same whether the judge was cached or not."""
    with torch.random.fork_rng(devices=[]):
        return load(folder)


def classifier_guesses(domain: Domain, artifacts: Sequence) -> list[tuple[int, float]] | None:
    """The domain's reference classifier's label guess and its confidence for each artifact; None without one."""
    clf = domain.reference()
    if clf is None:
        return None
    x = torch.stack([domain.from_artifact(a) for a in artifacts])
    with torch.inference_mode():
        p = torch.softmax(clf(x).float(), -1)
    conf, guess = p.max(-1)
    return [(int(g), float(c)) for g, c in zip(guess, conf)]


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return split
