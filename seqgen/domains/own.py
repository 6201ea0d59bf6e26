"""A learner's own data set: files (or pasted lines) read by a kind, checked, and made a domain.

    reading = read_data(get_domain("names"), [("cities.txt", data)])   # what was kept, what was dropped, why
    domain = register(own_domain(reading.data("Our city's names")))    # trains and opens like any domain

The learner picks a bundled domain to build on (its *template*): the kind of that domain reads each file
(`Domain.read_file`: a drawing made MNIST style, a MIDI file cut into 4-bar melodies, a list of names), and
the new domain keeps the template's sequence shape, presets and reference model. Nothing else in seqgen
knows that a data set is a learner's: it is a Domain like the bundled ones.

A data set a saved model needs is kept in the user folder as one .npz of arrays (read with
allow_pickle=False, so nothing in it is ever executed); `get_domain` opens it by name when a model of it is
opened. Its name ends in a digest of its items, so the same data gives the same name and two sessions that
keep it write the same bytes.

Every limit is checked before the work it guards: the upload's size before a byte is read, an archive's
member count, sizes and compression ratio (a zip bomb) from its directory before a member is inflated, a
member's path (absolute, `..`, a link) before its name is used.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import stat
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath

import numpy as np
import torch

from ..kinds.base import SPLITS, Domain, Entry, check_split
from ..locale import Sentence
from ..storage import atomic_write_bytes, user_dir
from . import OWN_PREFIX as PREFIX
from .base import SPLIT_SEED, split_indices

NAME_PATTERN = re.compile(r"own-[a-z0-9-]{1,80}")
MAX_UPLOAD_BYTES = 20_000_000      # all the files of one data set together, as uploaded
MAX_UNPACKED_BYTES = 60_000_000    # what an archive's members may inflate to, together
MAX_MEMBER_RATIO = 100             # inflated / compressed size of one member; text compresses about 4:1
MAX_FILES = 10_000                 # files, archive members included
MAX_ITEMS = 10_000
MIN_ITEMS = 20                     # fewer leaves nothing to hold out and nothing to learn
MAX_LABELS = 20                    # folders in an archive name the labels; more than this is not a label set
HELD_OUT = 0.1                     # of the items, for each of the validation and test splits
MAX_SAVED_BYTES = 200_000_000      # a kept data set file larger than this is not one seqgen wrote
EXAMPLES = 3                       # dropped items shown per reason


class DataError(ValueError):
    """The whole upload is refused (too large, an unsafe archive); the message is a Sentence."""


# ------------------------------------------------------------------------------------------------ archives
def _unpack(name: str, data: bytes) -> list[tuple[str, bytes]]:
    """A .zip's regular files as (path inside it, bytes). DataError for a bomb, an archive of too many files,
    a member outside the archive (an absolute path, `..`) or a link; before any member is inflated."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise DataError(Sentence("{name} could not be read as a zip archive.", name=name)) from None
    files = [i for i in infos if not i.is_dir()]
    if len(files) > MAX_FILES:
        raise DataError(Sentence("{name} holds {n} files; the most a data set takes is {most}.", name=name,
                                 n=len(files), most=MAX_FILES))
    total = sum(i.file_size for i in files)
    if total > MAX_UNPACKED_BYTES:
        raise DataError(Sentence("{name} unpacks to {mb} MB; the most a data set takes is {most} MB.", name=name,
                                 mb=f"{total / 1e6:.0f}", most=f"{MAX_UNPACKED_BYTES / 1e6:.0f}"))
    for i in files:
        path = PurePosixPath(i.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", i.filename):
            raise DataError(Sentence("{name} has a file that points outside the archive ({member}); it is refused "
                                     "whole.", name=name, member=i.filename[:80]))
        if stat.S_ISLNK(i.external_attr >> 16):
            raise DataError(Sentence("{name} holds a link ({member}); links are refused, put the files themselves "
                                     "in the archive.", name=name, member=i.filename[:80]))
        if i.file_size > MAX_MEMBER_RATIO * max(i.compress_size, 1) and i.file_size > 1_000_000:
            raise DataError(Sentence("{name} looks like a zip bomb: {member} inflates {ratio} times. It is refused "
                                     "whole.", name=name, member=i.filename[:80],
                                     ratio=i.file_size // max(i.compress_size, 1)))
    out, inflated = [], 0
    for i in files:
        if i.filename.startswith("__MACOSX/") or PurePosixPath(i.filename).name.startswith("."):
            continue                      # what a Mac or an editor adds beside the files, not data
        try:
            with archive.open(i) as f:
                member = f.read(i.file_size + 1)      # the directory's size, not the stream's word, bounds it
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError, ValueError):
            raise DataError(Sentence("{name}: {member} could not be unpacked (damaged, or encrypted).", name=name,
                                     member=i.filename[:80])) from None
        inflated += len(member)
        if len(member) > i.file_size or inflated > MAX_UNPACKED_BYTES:
            raise DataError(Sentence("{name} unpacks to more than its directory says; it is refused whole.",
                                     name=name))
        out.append((f"{name}/{i.filename}", member))
    return out


def files_at(path: Path) -> list[tuple[str, bytes]]:
    """The files of a data set on disk (the CLI's --data): one file, or every regular file under a folder,
    named by their path from the folder's parent ("digits/7/a.png": the folder is the label). DataError
    before anything is read when they are too large or too many; links are not followed."""
    path = Path(path)
    if path.is_symlink() or not path.exists():
        raise DataError(Sentence("{name} is not a file or a folder.", name=path.name))
    if path.is_file():
        found = [path]
    else:
        found = []
        for p in sorted(path.rglob("*")):
            if p.is_symlink():
                raise DataError(Sentence("{name} holds a link ({member}); links are refused, put the files "
                                         "themselves there.", name=path.name, member=str(p.relative_to(path))[:80]))
            if p.is_file() and not p.name.startswith("."):
                found.append(p)
            if len(found) > MAX_FILES:
                raise DataError(Sentence("The upload holds more than {most} files; the most a data set takes is "
                                         "{most}.", most=MAX_FILES))
    total = sum(p.stat().st_size for p in found)
    if total > MAX_UPLOAD_BYTES:
        raise DataError(Sentence("The files come to {mb} MB; the most a data set takes is {most} MB.",
                                 mb=f"{total / 1e6:.1f}", most=f"{MAX_UPLOAD_BYTES / 1e6:.0f}"))
    base = path.parent
    return [(str(p.relative_to(base)), p.read_bytes()) for p in found]


def _member_name(name: str) -> str:
    """A file's name as the report shows it: its relative path, without any way up or out."""
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("/", "..", ".")]
    return "/".join(parts)[-160:] or "file"


def _suffix(name: str) -> str:
    return PurePosixPath(name).suffix.lower().lstrip(".")


# ------------------------------------------------------------------------------------------------ reading
@dataclass
class DataReading:
    """What came of a learner's files: the items kept, those dropped with why, and the labels found."""
    template: Domain
    kept: list[Entry]
    dropped: list[Entry]
    files: int
    labels: list[str] | None = None          # one per kept item: its folder in the archive
    label_source: str = "none"               # "folders" | "guessed" | "none"
    label_names: tuple[str, ...] = ()
    label_ids: list[int] | None = None
    alphabet: str | None = None              # the items' own characters, when kept as written

    @property
    def reader(self) -> Domain:
        """The template, or with the items' own alphabet the template writing in it."""
        return self.template if self.alphabet is None else self.template.with_alphabet(self.alphabet)

    @property
    def ready(self) -> bool:
        return len(self.kept) >= MIN_ITEMS

    def problem(self) -> Sentence | None:
        """Why this cannot be trained on yet; None when it can."""
        if self.ready:
            return None
        return Sentence("Only {n} usable items; a data set needs at least {least}.", n=len(self.kept),
                        least=MIN_ITEMS)

    def reasons(self) -> list[tuple[str, int, list[str]]]:
        """(reason, how many, a few of the items it dropped), most common first."""
        by = Counter(str(e.why) for e in self.dropped)
        first = {str(e.why): e.why for e in reversed(self.dropped)}
        examples: dict[str, list[str]] = {}
        for e in self.dropped:
            examples.setdefault(str(e.why), [])
            if len(examples[str(e.why)]) < EXAMPLES:
                examples[str(e.why)].append(e.shown_as)
        return [(first[r], n, examples[r]) for r, n in by.most_common()]

    def data(self, title: str) -> OwnData:
        """The kept items as a data set called `title`. ValueError when there are too few."""
        if not self.ready:
            raise ValueError(self.problem())
        reader = self.reader
        seqs = torch.stack([reader.from_artifact(e.artifact) for e in self.kept])
        x = (seqs.clamp(0, 1) * 255).round().to(torch.uint8) if seqs.is_floating_point() else seqs.to(torch.int16)
        y = np.asarray(self.label_ids, np.int64) if self.label_ids is not None else None
        report = {"files": self.files, "kept": len(self.kept), "dropped": len(self.dropped),
                  "labels": self.label_source,
                  "reasons": {str(r): n for r, n, _ in self.reasons()}}
        return OwnData(title=title.strip()[:80] or "my data", template=self.template.name, x=x.numpy(), y=y,
                       label_names=self.label_names, texts=tuple(e.shown_as[:160] for e in self.kept), report=report,
                       alphabet=self.alphabet)


def read_data(template: Domain, files: Sequence[tuple[str, bytes]] = (), pasted: str = "",
              label_by_folder: bool = True, characters: bool = False) -> DataReading:
    """A learner's files (and pasted lines, where the template's kind takes them) read by `template`'s kind;
    with `characters`, words are kept in the characters they are written in, which become the data set's
    alphabet (Chinese names as characters rather than pinyin). Zip archives are unpacked safely; a file of
    another type, an unreadable item, a duplicate and any item past MAX_ITEMS are dropped with their reason.
    DataError when the upload as a whole is refused."""
    total = sum(len(d) for _, d in files) + len(pasted.encode("utf-8", "replace"))
    if total > MAX_UPLOAD_BYTES:
        raise DataError(Sentence("The files come to {mb} MB; the most a data set takes is {most} MB.",
                                 mb=f"{total / 1e6:.1f}", most=f"{MAX_UPLOAD_BYTES / 1e6:.0f}"))
    if pasted.strip() and not template.pastes or characters and not template.own_alphabet:
        raise DataError(Sentence("Models of {title} cannot learn from typed text.", title=template.title))
    options = {"characters": True} if characters else {}
    members: list[tuple[str, bytes]] = []
    for name, data in files:
        name = _member_name(str(name))
        members += _unpack(name, bytes(data)) if _suffix(name) == "zip" else [(name, bytes(data))]
        if len(members) > MAX_FILES:
            raise DataError(Sentence("The upload holds more than {most} files; the most a data set takes is "
                                     "{most}.", most=MAX_FILES))
    entries: list[Entry] = template.read_lines(pasted.splitlines(), "pasted", **options) if pasted.strip() else []
    types = ", ".join("." + t for t in template.upload_types)
    for name, data in members:
        if _suffix(name) not in template.upload_types:
            entries.append(Entry(name, why=Sentence("not a file this data takes ({types})", types=types)))
            continue
        try:
            entries += template.read_file(name, data, **options)
        except ValueError as e:
            entries.append(Entry(name, why=e.args[0] if e.args else Sentence("could not be read")))
    return settle(template, entries, files=len(members) + bool(pasted.strip()), label_by_folder=label_by_folder,
                  characters=characters)


def read_items(template: Domain, items: Sequence[tuple[str, object]]) -> DataReading:
    """Items that are already the kind's artifacts (the drawings a class sent), each with where it came
    from: checked (an item the kind cannot take is dropped with why), de-duplicated and labelled as files
    are."""
    entries = []
    for where, artifact in items[:MAX_FILES]:
        try:
            template.from_artifact(artifact)
            entries.append(Entry(str(where)[:120], artifact))
        except ValueError as e:
            entries.append(Entry(str(where)[:120], why=e.args[0] if e.args else Sentence("could not be read")))
    return settle(template, entries, files=0)


def settle(template: Domain, entries: list[Entry], files: int, label_by_folder: bool = True,
           characters: bool = False) -> DataReading:
    """The entries read: duplicates and any past MAX_ITEMS dropped with why, the rest kept and labelled."""
    alphabet = "".join(sorted({c for e in entries if e.why is None for c in e.artifact})) if characters else None
    reader = template.with_alphabet(alphabet) if characters else template
    kept, dropped, seen = [], [], set()
    for e in entries:
        if e.why is not None:
            dropped.append(e)
            continue
        key = reader.from_artifact(e.artifact).numpy().tobytes()
        if key in seen:
            dropped.append(Entry(e.where, why=Sentence("a duplicate of an item kept before it"), shown=e.shown))
        elif len(kept) >= MAX_ITEMS:
            dropped.append(Entry(e.where, why=Sentence("over the limit of {most} items", most=MAX_ITEMS)))
        else:
            seen.add(key)
            kept.append(e)
    reading = DataReading(template, kept, dropped, files=files, alphabet=alphabet)
    _label(reading, label_by_folder)
    return reading


def _folder(where: str) -> str | None:
    """The folder an archive member sits in ("digits.zip/7/a.png" -> "7"), None for a loose file."""
    parts = PurePosixPath(where.split(" @")[0].split(":")[0]).parts
    return parts[-2] if len(parts) >= 3 else None


def _label(reading: DataReading, by_folder: bool) -> None:
    """Labels from the archive's folders when every item sits in one of 2..MAX_LABELS of them; else the
    template's reference classifier's guesses, where it has one; else none."""
    if not reading.kept:
        return
    folders = [_folder(e.where) for e in reading.kept]
    names = sorted({f for f in folders if f is not None})
    if by_folder and None not in folders and 2 <= len(names) <= MAX_LABELS:
        reading.label_source, reading.label_names = "folders", tuple(names)
        reading.label_ids = [names.index(f) for f in folders]
        return
    guesses = reading.template.recognise([e.artifact for e in reading.kept])
    if guesses is not None and reading.template.label_names:
        reading.label_source, reading.label_names = "guessed", tuple(reading.template.label_names)
        reading.label_ids = [g for g, _ in guesses]


# ------------------------------------------------------------------------------------------------ the data set
@dataclass(frozen=True)
class OwnData:
    """A learner's items as model sequences, with where each came from and the report of its reading."""
    title: str
    template: str                      # the bundled domain it was read by and trains like
    x: np.ndarray                      # uint8 [N, T, F] (continuous, 0-255) or int16 [N, T] tokens
    y: np.ndarray | None               # int64 [N] label ids, or None
    label_names: tuple[str, ...]
    texts: tuple[str, ...]             # each item in words and where it came from ("Lilei (cities.txt:12)")
    report: dict = field(default_factory=dict)
    alphabet: str | None = None        # words kept as written: their characters, one token each

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for part in (self.template, self.x.tobytes(), b"" if self.y is None else self.y.tobytes(),
                     "\n".join(self.label_names), self.alphabet or ""):
            h.update(part.encode() if isinstance(part, str) else part)
        return h.hexdigest()

    @property
    def slug(self) -> str:
        """The title in file-name letters: "Our names" -> "our-names"."""
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")[:32].strip("-") or "data"

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.slug}-{self.digest[:10]}"

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        meta = json.dumps({"title": self.title, "template": self.template, "report": self.report,
                           "alphabet": self.alphabet})
        np.savez_compressed(buf, x=self.x, y=self.y if self.y is not None else np.zeros(0, np.int64),
                            labelled=np.array(self.y is not None), label_names=np.array(self.label_names, dtype=str),
                            texts=np.array(self.texts, dtype=str), meta=np.array(meta))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> OwnData:
        """ValueError for a file that is not a data set seqgen wrote (nothing in it is unpickled)."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as f:
                meta = json.loads(str(f["meta"]))
                x, y = f["x"], f["y"] if bool(f["labelled"]) else None
                label_names, texts = tuple(str(s) for s in f["label_names"]), tuple(str(s) for s in f["texts"])
        except (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as e:
            raise ValueError(f"not a seqgen data set ({type(e).__name__})") from None
        if x.dtype not in (np.uint8, np.int16) or len(texts) != len(x) or (y is not None and len(y) != len(x)):
            raise ValueError("not a seqgen data set (its arrays do not agree)")
        if y is not None and len(x) and not (0 <= y.min() and y.max() < len(label_names)):
            raise ValueError("not a seqgen data set (a label is out of range)")
        alphabet = meta.get("alphabet")
        return cls(title=str(meta.get("title", "my data")), template=str(meta.get("template", "")), x=x, y=y,
                   label_names=label_names, texts=texts, report=dict(meta.get("report", {})),
                   alphabet=str(alphabet) if alphabet is not None else None)


def data_dir() -> Path:
    return user_dir() / "datasets"


def keep_data(data: OwnData) -> Path:
    """Write the data set to the user folder (once: the same name is the same bytes)."""
    path = data_dir() / f"{data.name}.npz"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data.to_bytes())
    return path


def open_kept(name: str) -> Domain:
    """The domain of a data set kept in the user folder. ValueError when there is none of that name."""
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"{name!r} is not the name of a data set")
    path = data_dir() / f"{name}.npz"
    if not path.is_file() or path.stat().st_size > MAX_SAVED_BYTES:
        raise ValueError(f"the data set {name!r} is not in this seqgen's user folder")
    data = OwnData.from_bytes(path.read_bytes())
    if data.name != name:
        raise ValueError(f"the data set file {name!r} holds other data than its name says")
    return own_domain(data)


# ------------------------------------------------------------------------------------------------ the domain
class OwnDomain:
    """Mixed in before a bundled domain's class: that domain's kind, shape and presets, with the learner's
    items as its data."""

    def __init__(self, data: OwnData):
        self.own = data
        self.name, self.title, self.picker_title = data.name, data.title, data.title
        self.label_names = tuple(data.label_names)
        self.presets_from = data.template
        if data.alphabet is not None:
            self.alphabet = data.alphabet
        self.data_sources = ("bundled",)
        self.licence = f"The learner's own data: {data.report.get('kept', len(data.x))} items, as uploaded."
        x = torch.from_numpy(data.x.astype(np.float32) / 255.0) if data.x.dtype == np.uint8 else \
            torch.from_numpy(data.x.astype(np.int64))
        y = torch.from_numpy(data.y) if data.y is not None else None
        n = len(x)
        n_hold = max(1, round(HELD_OUT * n))
        self._splits = {s: idx for s, idx in split_indices(n, n_hold, n_hold, SPLIT_SEED).items()}
        self._x, self._y = x, y

    def dataset(self, split: str, source: str = "bundled") -> tuple[torch.Tensor, torch.Tensor | None]:
        idx = torch.from_numpy(self._splits[check_split(split)])
        return self._x[idx], (self._y[idx] if self._y is not None else None)

    def item_texts(self, split: str) -> list[str]:
        """Each item as the learner gave it, where it came from, and its label."""
        texts = [self.own.texts[i] for i in self._splits[check_split(split)]]
        _, y = self.dataset(split)
        if y is None:
            return texts
        return [f"{t}: {self.label_names[int(c)]}" for t, c in zip(texts, y.tolist())]

    def known_words(self) -> frozenset[str]:
        return frozenset(str(self.to_artifact(s)).lower() for s in self._x)

    def reference(self):
        """The template's judge, where it judges what these labels mean (a language model always does; a
        classifier only when the labels are its own guesses)."""
        from . import get_domain
        template = get_domain(self.presets_from)
        if self.label_names and self.label_names != tuple(template.label_names):
            return None
        judge = template.reference()
        if judge is None or (judge.cfg.seq_len, judge.cfg.n_features) != (self.seq_len, self.n_features):
            return None                   # a judge of other words (a–z) cannot read an alphabet of their own
        return judge

    def data_note(self) -> str:
        r = self.own.report
        reasons = "; ".join(f"{n} {why}" for why, n in r.get("reasons", {}).items()) or "none"
        return (f"the learner's own data ({r.get('files', '?')} file(s); kept {r.get('kept', len(self.own.x))} "
                f"items, dropped {r.get('dropped', 0)}: {reasons}; labels: {r.get('labels', 'none')}), read as "
                f"{self.presets_from} data; split seeded {1 - 2 * HELD_OUT:.0%}/{HELD_OUT:.0%}/{HELD_OUT:.0%}")

    def keep(self) -> None:
        keep_data(self.own)

    @property
    def stem(self) -> str:
        return self.own.slug


@cache
def _own_class(template_class: type) -> type:
    return type(f"Own{template_class.__name__}", (OwnDomain, template_class), {})


def own_domain(data: OwnData) -> Domain:
    """The domain of a data set: the template's class with the learner's items."""
    from . import get_domain
    template = get_domain(data.template)
    if template.presets_from is not None:
        raise ValueError("a data set is built on a bundled domain")
    domain = _own_class(type(template))(data)
    shape = (domain.seq_len, domain.n_features) if not domain.discrete else (domain.seq_len,)
    if tuple(data.x.shape[1:]) != shape:
        raise ValueError(f"the data set's items have shape {data.x.shape[1:]}, not {shape}")
    return domain


def templates() -> dict[str, str]:
    """kind -> the bundled domain a learner's data of that kind is read by and trains like: the first of each
    kind, in the app's order."""
    from . import BUILTIN, get_domain
    out: dict[str, str] = {}
    for name in BUILTIN:
        out.setdefault(get_domain(name).kind, name)
    return out


__all__ = ["MAX_ITEMS", "MAX_UPLOAD_BYTES", "MIN_ITEMS", "SPLITS", "DataError", "DataReading", "OwnData",
           "files_at", "keep_data", "open_kept", "own_domain", "read_data", "read_items", "settle", "templates"]
