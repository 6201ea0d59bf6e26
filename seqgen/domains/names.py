"""US first names as token sequences: letters, then EOS, then PAD."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .. import metrics
from .base import DATA_DIR, Domain, check_split, split_indices

PAD, BOS, EOS = 0, 1, 2
FIRST_LETTER = 3               # 'a' -> 3 ... 'z' -> 28
VOCAB = FIRST_LETTER + 26      # 29
SEQ_LEN = 12                   # longest name in the 1990 census lists has 11 letters, + EOS
MAX_LETTERS = SEQ_LEN - 1


@lru_cache(maxsize=None)
def _raw() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(names lowercase str [N], sex uint8 [N] 0=female 1=male, frequency % [N])."""
    with np.load(DATA_DIR / "names.npz") as f:
        return f["names"], f["sex"], f["freq"]


def encode(name: str) -> np.ndarray:
    """Lowercase letters -> int64 [SEQ_LEN]: letters, EOS, PAD...  (no validation)."""
    out = np.full(SEQ_LEN, PAD, np.int64)
    out[: len(name)] = [ord(c) - ord("a") + FIRST_LETTER for c in name]
    out[len(name)] = EOS
    return out


@lru_cache(maxsize=None)
def _split(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    names, sex, _ = _raw()
    n_hold = round(0.05 * len(names))
    idx = split_indices(len(names), n_hold, n_hold)[split]
    x = torch.from_numpy(np.stack([encode(names[i]) for i in idx]))
    y = torch.from_numpy(sex[idx].astype(np.int64))
    return x, y


@lru_cache(maxsize=None)
def _known() -> frozenset[str]:
    return frozenset(str(n) for n in _raw()[0])


def _letters(text, if_empty: str) -> str:
    """Typed text, stripped, checked to be letters a-z only. ValueError says what to fix."""
    if not isinstance(text, str):
        raise ValueError(f"Expected a name as text, got {type(text).__name__}.")
    s = text.strip()
    if not s:
        raise ValueError(if_empty)
    bad = [c for c in s if not ("a" <= c.lower() <= "z")]
    if bad:
        raise ValueError(f"Names may only contain the letters a–z (got {bad[0]!r} in {s!r}).")
    return s


class NamesDomain(Domain):
    name = "names"
    title = "US first names"
    kind = "text"
    item_noun = "name"
    picker_title = "Names (letters)"
    reference_model = "names-lm"
    licence = "US Census 1990 first-name lists, via the `names` package; public domain."
    explorer_grid = (3, 10, 6)
    discrete = True
    seq_len = SEQ_LEN
    n_features = VOCAB
    label_names = ("female", "male")
    pad_id = PAD
    bos_id = BOS
    eos_id = EOS

    def dataset(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        return _split(check_split(split))

    def to_artifact(self, seq) -> str:
        """Tokens [T] -> "Mary": letters up to the first EOS or PAD; BOS and unknown ids are skipped."""
        letters = []
        for t in torch.as_tensor(seq).reshape(-1).tolist():
            if t in (EOS, PAD):
                break
            if FIRST_LETTER <= t < VOCAB:
                letters.append(chr(ord("a") + t - FIRST_LETTER))
        return "".join(letters).capitalize()

    def from_artifact(self, text: str) -> torch.Tensor:
        """A name typed by a user -> int64 [T]. ValueError says what to fix."""
        s = _letters(text, "Please type a name (letters a–z).")
        if len(s) > MAX_LETTERS:
            raise ValueError(f"Names may have at most {MAX_LETTERS} letters ({s!r} has {len(s)}).")
        return torch.from_numpy(encode(s.lower()))

    def prefix(self, text: str, length: int | None = None) -> torch.Tensor:
        """The start of a name ("Mar") -> its letter tokens int64 [k]. ValueError says what to fix."""
        s = _letters(text, "Type the first letters of a name (a–z), like Mar or Jo.")
        if len(s) >= MAX_LETTERS:
            raise ValueError(f"The models write names of up to {MAX_LETTERS} letters, so a start may have at most "
                             f"{MAX_LETTERS - 1} (this one has {len(s)}).")
        return torch.from_numpy(encode(s.lower())[: len(s)])

    def name_nll(self, strings: list[str]) -> list[float | None]:
        """The char-LM's (the reference model's) negative log-likelihood per letter of each name; None for
        a string that is not letters, or when the LM is missing."""
        lm = metrics.reference(self)
        ok = [i for i, s in enumerate(strings) if self.well_formed(s)]
        out: list[float | None] = [None] * len(strings)
        if lm is None or not ok:
            return out
        x = torch.stack([torch.from_numpy(encode(strings[i].lower())) for i in ok])
        with torch.inference_mode():
            nll, n = lm.nll(x)
        for i, v in zip(ok, (nll / n).tolist()):
            out[i] = float(v)
        return out

    def real_nll_limit(self) -> float | None:
        """The char-LM's NLL per letter that 95 % of real (test) names stay under: the bar for looking
        like a name."""
        if not hasattr(self, "_real_nll_limit"):
            lm = metrics.reference(self)
            if lm is None:
                return None
            with torch.inference_mode():
                nll, n = lm.nll(self.dataset("test")[0])
            self._real_nll_limit = float(torch.quantile(nll / n, 0.95))
        return self._real_nll_limit

    def looks_like_names(self, strings: list[str]) -> list[bool]:
        """Well formed and no less likely under the char-LM than 95 % of real names (letters and length
        only when the LM is missing)."""
        limit = self.real_nll_limit()
        nll = self.name_nll(strings)
        return [self.well_formed(s) and (limit is None or (v is not None and v <= limit))
                for s, v in zip(strings, nll)]

    def is_known(self, name: str) -> bool:
        """Is this name (any case) in the bundled census list (all splits)?"""
        return name.strip().lower() in _known()

    def known_names(self) -> frozenset[str]:
        return _known()

    def well_formed(self, text: str) -> bool:
        """Looks like a name: 2..11 ASCII letters, nothing else."""
        return text.isascii() and text.isalpha() and 2 <= len(text) <= MAX_LETTERS

    def describe(self, artifact: str) -> str:
        return f"{artifact} ({'known' if self.is_known(artifact) else 'new'} name)"

    def item_texts(self, split: str) -> list[str]:
        return self.artifacts(self.dataset(split)[0])

    def write_samples(self, artifacts, folder: Path, stem: str, **options) -> list[str]:
        path = Path(folder) / f"{stem}.txt"
        lines = [f"{a}\t{'known' if self.is_known(a) else 'new'}" for a in artifacts]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return lines + [f"wrote {path}"]

    # ---------------------------------------------------------------- quality figures
    def name_figures(self, strings: list[str]) -> dict:
        """Novel (not in the data), well formed, distinct: fractions of a batch of generated names."""
        known = self.known_names()
        return {"novel_fraction": float(np.mean([s.lower() not in known for s in strings])),
                "well_formed_fraction": sum(map(self.well_formed, strings)) / max(len(strings), 1),
                "distinct_fraction": len(set(strings)) / max(len(strings), 1)}

    def sample_metrics(self, model, n: int, seed: int, temperature: float, slow: bool) -> dict:
        seqs, _ = metrics.sample_with_labels(model, n, seed, temperature)
        strings = self.artifacts(seqs)
        out = self.name_figures(strings)
        out["examples"] = strings[:12]
        if model.cfg.family == "vae":
            out.update(self._reconstruction(model))
        lm = metrics.reference(self)
        if lm is None:
            return out
        test_x, _ = self.dataset("test")
        real = metrics.lm_nll_per_token(lm, test_x)
        valid = [self.from_artifact(s) for s in strings if self.well_formed(s)]
        if valid:
            fake = metrics.lm_nll_per_token(lm, torch.stack(valid))
            out["lm_nll_samples"], out["lm_nll_real"] = fake, real
            out["realism_ratio"] = fake / real
        if model.cfg.family == "vae":
            out["lm_nll_per_token_test"] = lm.evaluate(test_x, None)["nll_per_token"]
        return out

    def _reconstruction(self, model) -> dict:
        """Share of test names that encoding (the mean) and decoding (likeliest letters) gives back exactly."""
        test_x, _ = self.dataset("test")
        with torch.inference_mode():
            back = torch.cat([model.reconstruct(test_x[i:i + 500]) for i in range(0, len(test_x), 500)])
        same = [a == b for a, b in zip(self.artifacts(back), self.artifacts(test_x))]
        return {"reconstruction_exact_fraction": float(np.mean(same))}

    def quick_metrics(self, model, n: int, seed: int) -> dict:
        seqs, _ = metrics.sample_with_labels(model, n, seed, 1.0)
        return self.name_figures(self.artifacts(seqs))
