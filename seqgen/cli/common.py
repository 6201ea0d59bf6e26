"""What the commands share: messages in the terminal's language, one-line printing, common arguments."""
from __future__ import annotations

from ..locale import cli_translations


def _(message: str) -> str:
    """A user-facing message in the terminal's language ($SEQGEN_LANG, else $LANGUAGE / $LC_ALL / $LANG)."""
    return cli_translations().gettext(message)


def printable(text, limit: int = 300) -> str:
    """One terminal line: control characters (escape sequences in a folder name) shown as '?'."""
    text = "".join(c if c.isprintable() else "?" for c in str(text))
    return text if len(text) <= limit else text[:limit] + "…"


def add_device_argument(s) -> None:
    from ..models.config import DEVICE_CHOICES
    s.add_argument("--device", choices=DEVICE_CHOICES, default="auto",
                   help="where the model runs: auto (the GPU when torch sees one), cpu or cuda")


def add_output_arguments(s) -> None:
    """The seed, the device and the files: what `sample` and `complete` share."""
    add_device_argument(s)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", default="samples", help="output folder")
    s.add_argument("--tempo", type=float, default=90.0, help="melodies: beats per minute")
    s.add_argument("--instrument", default="piano", help="melodies: piano, organ, strings, flute")


def label_index(domain, label: str) -> int:
    """A label given by name (any case, or any one word of it: "七" or "qī" for "qī 七") or by its number in the
    list -> its index. ValueError lists the domain's labels."""
    names = [n.lower() for n in domain.label_names]
    if label.lower() in names:
        return names.index(label.lower())
    words = [i for i, n in enumerate(names) if label.lower() in n.split()]
    if len(words) == 1:
        return words[0]
    if label.isdigit() and int(label) < len(names):
        return int(label)
    raise ValueError(_("--label must be one of {labels}").format(labels=", ".join(domain.label_names)))
