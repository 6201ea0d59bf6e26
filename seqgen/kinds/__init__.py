"""Kinds of artifact: image, text, melody, sound. One module each.

A kind owns how its artifacts look and are typed in: the artifact type, pictures and files of a batch, how
a user's drawing, word, melody or recording becomes model steps, what its reference model recognises, and
the spec its in-browser renderer (seqgen/ui/kinds/<kind>.js) reads. Each kind's module holds the base class
its domains subclass; `seqgen.kinds.base.Domain` is the contract they all fulfil.

    image   ImageDomain    rows of pixels          (digits, fashion)
    text    TextDomain     letters                 (names)
    melody  MelodyDomain   notes on a 16th grid    (melodies)
    sound   SoundDomain    spectrogram frames      (spoken)
"""
from __future__ import annotations

import importlib

from .base import KINDS, SPLITS, Domain

# kind -> (module, base class); a new kind is one module here plus one line
BASES = {
    "image": ("image", "ImageDomain"),
    "text": ("text", "TextDomain"),
    "melody": ("melody", "MelodyDomain"),
    "sound": ("sound", "SoundDomain"),
}


def kind_bases() -> list[type[Domain]]:
    """The base class of every kind, in the order above (the CLI builds its per-kind options from them)."""
    return [getattr(importlib.import_module(f".{module}", __name__), cls) for module, cls in BASES.values()]


__all__ = ["BASES", "KINDS", "SPLITS", "Domain", "kind_bases"]
