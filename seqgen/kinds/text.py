"""The text kind: short words (first names) as letter tokens, then EOS, then PAD.

`TextDomain` holds everything word domains share: the letter vocabulary, typed words and starts turned
into tokens (with a message for anything that is not a word), the judge of "looks like one" (the domain's
character language model), the novelty check against the data, and the figures of generated words.
A concrete text domain (names) says where its words come from and how long they may be.
"""
from __future__ import annotations

import copy
import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from .. import metrics
from ..locale import N_, Sentence
from .base import SPLITS, Domain, Entry

PAD, BOS, EOS = 0, 1, 2
FIRST_LETTER = 3               # 'a' -> 3 ... 'z' -> 28
VOCAB = FIRST_LETTER + 26      # 29
LETTERS = "abcdefghijklmnopqrstuvwxyz"    # what the bundled names are written in
JUDGE_WORDS = 200              # real words the char-LM's limit of "looks like one" is set from, at least


def romanised(text: str) -> str:
    """Chinese characters read through their pinyin, without tones (李雷 -> "lilei", 吕 -> "lv"); the rest of the
    text as it is. A class that types its own names in Chinese gets the letters the models know."""
    if not any("\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" for c in text):
        return text
    from pypinyin import Style, lazy_pinyin
    return "".join(part.strip() for part in lazy_pinyin(text, style=Style.NORMAL))


def letters_only(text, if_empty: str) -> str:
    """Typed text, stripped, checked to be letters a-z only. ValueError says what to fix."""
    if not isinstance(text, str):
        raise ValueError(Sentence("Expected a word as text, got {type}.", type=type(text).__name__))
    s = text.strip()
    if not s:
        raise ValueError(if_empty)
    bad = [c for c in s if not ("a" <= c.lower() <= "z")]
    if bad:
        raise ValueError(Sentence("Names may only contain the letters a–z (got {char} in {text}).", char=repr(bad[0]),
                                  text=repr(s)))
    return s


class TextDomain(Domain):
    kind = "text"
    discrete = True
    pad_id = PAD
    bos_id = BOS
    eos_id = EOS
    step_noun, step_noun_plural = N_("letter"), N_("letters")
    explorer_grid = (3, 10, 6)
    start_flag, start_help, start_is_file = "prefix", "the first letters, e.g. Mar", False
    upload_types = ("txt", "csv")
    pastes = True
    own_alphabet = True
    # The characters words are written in: None for the letters a–z (what the bundled names use, and what
    # Chinese is read into through its pinyin); a learner's data set kept as characters has its own
    alphabet: str | None = None

    @property
    def n_features(self) -> int:
        return VOCAB if self.alphabet is None else FIRST_LETTER + len(self.alphabet)

    def with_alphabet(self, alphabet: str) -> TextDomain:
        """This domain writing words in `alphabet`'s characters (each its own token) instead of a–z."""
        other = copy.copy(self)
        other.alphabet = alphabet
        other.__dict__.pop("_ids", None)
        return other

    @property
    def _chars(self) -> str:
        return self.alphabet if self.alphabet is not None else LETTERS

    @property
    def _ids(self) -> dict[str, int]:
        if "_ids" not in self.__dict__:
            self.__dict__["_ids"] = {c: FIRST_LETTER + i for i, c in enumerate(self._chars)}
        return self.__dict__["_ids"]

    @property
    def max_letters(self) -> int:
        """The longest word the models write: one step of the sequence is EOS."""
        return self.seq_len - 1

    def known_words(self) -> frozenset[str]:
        """Every word of the data (all splits), lower case: what "new" is measured against."""
        raise NotImplementedError

    def encode(self, word: str) -> np.ndarray:
        """Lowercase letters (or the alphabet's characters) -> int64 [T]: letters, EOS, PAD...  (no
        validation)."""
        out = np.full(self.seq_len, PAD, np.int64)
        ids = self._ids
        out[: len(word)] = [ids[c] for c in word]
        out[len(word)] = EOS
        return out

    def to_artifact(self, seq) -> str:
        """Tokens [T] -> "Mary": letters up to the first EOS or PAD; BOS and unknown ids are skipped."""
        letters, chars = [], self._chars
        for t in torch.as_tensor(seq).reshape(-1).tolist():
            if t in (EOS, PAD):
                break
            if FIRST_LETTER <= t < FIRST_LETTER + len(chars):
                letters.append(chars[t - FIRST_LETTER])
        word = "".join(letters)
        return word.capitalize() if self.alphabet is None else word

    def _in_alphabet(self, text, if_empty: str) -> str:
        """Typed text, stripped, checked to be written in the alphabet. ValueError says what to fix."""
        if not isinstance(text, str):
            raise ValueError(Sentence("Expected a word as text, got {type}.", type=type(text).__name__))
        s = text.strip()
        if not s:
            raise ValueError(if_empty)
        bad = [c for c in s if c not in self._ids]
        if bad:
            raise ValueError(Sentence("{char} is not one of the characters these models write (in {text}).",
                                      char=repr(bad[0]), text=repr(s)))
        return s

    def _word(self, text, if_empty: str) -> str:
        """What the models read for typed text: letters (Chinese through its pinyin), lower case; or the
        alphabet's characters as typed."""
        if self.alphabet is not None:
            return self._in_alphabet(text, if_empty)
        return letters_only(romanised(text) if isinstance(text, str) else text, if_empty).lower()

    def reads_as(self, typed: str) -> str | None:
        """The word the models read for what was typed, when that differs from it (Chinese characters, read
        through their pinyin: 李雷 -> "Lilei"); None when it is taken as typed."""
        if not isinstance(typed, str) or self.alphabet is not None:
            return None
        word = romanised(typed.strip())
        return word.capitalize() if word != typed.strip() else None

    def from_artifact(self, text: str) -> torch.Tensor:
        """A word typed by a user -> int64 [T]; Chinese characters are read through their pinyin. ValueError
        says what to fix."""
        s = self._word(text, Sentence("Please type a {noun} (letters a–z).", noun=Sentence(self.item_noun))
                       if self.alphabet is None else Sentence("Please type a {noun}.", noun=Sentence(self.item_noun)))
        if len(s) > self.max_letters:
            raise ValueError(Sentence("Names may have at most {most} letters ({text} has {n}).", most=self.max_letters,
                                      text=repr(s), n=len(s)))
        return torch.from_numpy(self.encode(s))

    def prefix(self, text: str, length: int | None = None) -> torch.Tensor:
        """The start of a word ("Mar", or "李" read as "Li") -> its letter tokens int64 [k]. ValueError says
        what to fix."""
        s = self._word(text, Sentence("Type the first letters of a {noun} (a–z), like Mar or Jo.",
                                      noun=Sentence(self.item_noun)) if self.alphabet is None else
                       Sentence("Type the first letters of a {noun}.", noun=Sentence(self.item_noun)))
        if len(s) >= self.max_letters:
            raise ValueError(Sentence("The models write names of up to {most} letters, so a start may have at most "
                                      "{start} (this one has {n}).", most=self.max_letters, start=self.max_letters - 1,
                                      n=len(s)))
        return torch.from_numpy(self.encode(s)[: len(s)])

    def read_start(self, value: str) -> tuple[str, list[str]]:
        self.prefix(value)            # refuses what is not a start of a word, with its sentence
        return value, []

    # ---------------------------------------------------------------- a learner's list of words
    def read_file(self, name: str, data: bytes, characters: bool = False) -> list[Entry]:
        """A UTF-8 list, one word per line (.txt), or the first column of a .csv."""
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ValueError(Sentence("{name} is not UTF-8 text (byte {at} is not); save it as UTF-8 and upload it "
                                      "again.", name=name, at=e.start)) from None
        lines = text.splitlines()
        if name.lower().endswith(".csv"):
            lines = [row[0] if row else "" for row in csv.reader(lines)]
        return self.read_lines(lines, name, characters)

    def read_lines(self, lines: Sequence[str], where: str, characters: bool = False) -> list[Entry]:
        """Each line a word: Chinese characters read through their pinyin, capitalised like the models
        write; with `characters`, the line as it is written (its characters become the data set's
        alphabet). A line that is not a word of up to `max_letters` letters is dropped with its reason."""
        out = []
        for i, line in enumerate(lines, 1):
            at, word = f"{where}:{i}", line.strip()
            if not word:
                out.append(Entry(at, why=Sentence("an empty line")))
                continue
            try:
                out.append(Entry(at, self._as_written(word) if characters else self.to_artifact(self.from_artifact(word)),
                                 shown=word[:40]))
            except ValueError as e:
                out.append(Entry(at, why=e.args[0], shown=word[:40]))
        return out

    def _as_written(self, word: str) -> str:
        """A word kept in its own characters: any but spaces and control characters, up to `max_letters`."""
        odd = [c for c in word if c.isspace() or not c.isprintable()]
        if odd:
            raise ValueError(Sentence("A word may not hold spaces or control characters (got {char} in {text}).",
                                      char=repr(odd[0]), text=repr(word)))
        if len(word) > self.max_letters:
            raise ValueError(Sentence("Names may have at most {most} letters ({text} has {n}).", most=self.max_letters,
                                      text=repr(word), n=len(word)))
        return word

    # ---------------------------------------------------------------- judging words
    def word_nll(self, strings: list[str]) -> list[float | None]:
        """The char-LM's (the reference model's) negative log-likelihood per letter of each word; None for
        a string that is not letters, or when the LM is missing."""
        lm = self.reference()
        ok = [i for i, s in enumerate(strings) if self.well_formed(s)]
        out: list[float | None] = [None] * len(strings)
        if lm is None or not ok:
            return out
        x = torch.stack([torch.from_numpy(self.encode(strings[i] if self.alphabet else strings[i].lower())) for i in ok])
        with torch.inference_mode():
            nll, n = lm.nll(x)
        for i, v in zip(ok, (nll / n).tolist()):
            out[i] = float(v)
        return out

    def real_nll_limit(self) -> float | None:
        """The char-LM's NLL per letter that 95 % of real (test) words stay under: the bar for looking
        like one."""
        if not hasattr(self, "_real_nll_limit"):
            lm = self.reference()
            if lm is None:
                return None
            words = self.dataset("test")[0]
            if len(words) < JUDGE_WORDS:          # a small data set's test split is too few to set a limit by
                words = torch.cat([self.dataset(s)[0] for s in SPLITS])
            with torch.inference_mode():
                nll, n = lm.nll(words)
            self._real_nll_limit = float(torch.quantile(nll / n, 0.95))
        return self._real_nll_limit

    def looks_like(self, strings: Sequence[str]) -> list[bool]:
        """Well formed and no less likely under the char-LM than 95 % of real words (letters and length
        only when the LM is missing)."""
        strings = list(strings)
        limit = self.real_nll_limit()
        nll = self.word_nll(strings)
        return [self.well_formed(s) and (limit is None or (v is not None and v <= limit))
                for s, v in zip(strings, nll)]

    def is_known(self, word: str) -> bool:
        """Is this word (any case) in the data (all splits)?"""
        return str(word).strip().lower() in self.known_words()

    def well_formed(self, text: str) -> bool:
        """Looks like a word: 2 up to max_letters ASCII letters, nothing else (in an alphabet of its own: 1 up
        to max_letters of its characters)."""
        if self.alphabet is not None:
            return 1 <= len(text) <= self.max_letters and all(c in self._ids for c in text)
        return text.isascii() and text.isalpha() and 2 <= len(text) <= self.max_letters

    def describe(self, artifact: str) -> str:
        return f"{artifact} ({'known' if self.is_known(artifact) else 'new'} {self.item_noun})"

    def item_texts(self, split: str) -> list[str]:
        return self.artifacts(self.dataset(split)[0])

    def write_samples(self, artifacts, folder: Path, stem: str, **options) -> list[str]:
        path = Path(folder) / f"{stem}.txt"
        lines = [f"{a}\t{'known' if self.is_known(a) else 'new'}" for a in artifacts]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return lines + [f"wrote {path}"]

    def pad_spec(self) -> dict:
        """The letter of every token id ("" for the others) and the ids that end a word."""
        letters = ["" for _ in range(FIRST_LETTER)] + list(self._chars)
        return {"kind": "text", "letters": letters, "stop": [EOS, PAD], "capitalize": self.alphabet is None,
                "grid": int(self.explorer_grid[2]), "item_noun": self.item_noun}

    # ---------------------------------------------------------------- quality figures
    def word_figures(self, strings: list[str]) -> dict:
        """Novel (not in the data), well formed, distinct: fractions of a batch of generated words."""
        known = self.known_words()
        return {"novel_fraction": float(np.mean([s.lower() not in known for s in strings])),
                "well_formed_fraction": sum(map(self.well_formed, strings)) / max(len(strings), 1),
                "distinct_fraction": len(set(strings)) / max(len(strings), 1)}

    def sample_metrics(self, model, n: int, seed: int, temperature: float, slow: bool) -> dict:
        seqs, _ = metrics.sample_with_labels(model, n, seed, temperature)
        strings = self.artifacts(seqs)
        out = self.word_figures(strings)
        out["examples"] = strings[:12]
        if model.cfg.family == "vae":
            out.update(self._reconstruction(model))
        lm = self.reference()
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
        """Share of test words that encoding (the mean) and decoding (likeliest letters) gives back exactly."""
        test_x, _ = self.dataset("test")
        with torch.inference_mode():
            back = torch.cat([model.reconstruct(test_x[i:i + 500]) for i in range(0, len(test_x), 500)])
        same = [a == b for a, b in zip(self.artifacts(back), self.artifacts(test_x))]
        return {"reconstruction_exact_fraction": float(np.mean(same))}

    def quick_metrics(self, model, n: int, seed: int) -> dict:
        seqs, _ = metrics.sample_with_labels(model, n, seed, 1.0)
        return self.word_figures(self.artifacts(seqs))
