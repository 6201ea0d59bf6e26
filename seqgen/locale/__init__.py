"""The message catalogues (gettext .po files, managed with Babel) and their loading. No Streamlit here.

    seqgen/locale/<lang>/LC_MESSAGES/seqgen.po     one catalogue per language (en, zh_Hans)
    scripts/update_translations.sh                 pybabel extract + update (see its header)

The .po files are the only copy: they are compiled in memory with babel.messages when a language is first
used in a process, so there is no compiled .mo that could go stale against its .po.

`translations(lang)` is the gettext object of one language; seqgen.ui.i18n picks the language per browser
session, the CLI per process (`cli_translations`, from $SEQGEN_LANG or $LANGUAGE / $LC_ALL / $LANG).
"""
from __future__ import annotations

import gettext
import io
import os
import threading
from pathlib import Path

HERE = Path(__file__).parent
DOMAIN = "seqgen"
LANGUAGES = ("en", "zh")                       # what the app offers, in the order of the language switch
FOLDERS = {"en": "en", "zh": "zh_Hans"}        # catalogue folder per language (Babel's locale names)
DEFAULT = "en"
_lock = threading.Lock()
_cache: dict[str, gettext.NullTranslations] = {}


def N_(message: str) -> str:
    """Mark `message` for extraction without translating it now: words the library declares (a domain's
    title, nouns and class names) and module-level constants, translated where they are shown."""
    return message


class Sentence(str):
    """A message for a person that the library raises or reports (a drawing it cannot read, a file it had to
    change): as a str it is the English sentence, and it keeps its gettext template and values, so an
    interface shows it in its reader's language (`in_language`; seqgen.ui.widgets.plain does for the app).
    A value that is itself a Sentence (a domain's noun: Sentence(domain.item_noun)) is translated too.

        raise ValueError(Sentence("Notes overlap at step {step}.", step=s))
    """

    template: str
    plural: str | None = None
    n: int | None = None
    values: dict

    def __new__(cls, template: str, **values):
        sentence = super().__new__(cls, template.format(**values))
        sentence.template, sentence.values = template, values
        return sentence

    def __reduce__(self):
        return _sentence, (self.template, self.plural, self.n, self.values)

    def in_language(self, translations) -> str:
        """The sentence in the language of `translations` (a gettext object)."""
        values = {k: v.in_language(translations) if isinstance(v, Sentence) else v for k, v in self.values.items()}
        if self.plural is None:
            return translations.gettext(self.template).format(**values)
        return translations.ngettext(self.template, self.plural, self.n).format(**values)


class Plural(Sentence):
    """A Sentence whose wording depends on a count: Plural("{n} bar", "{n} bars", count, n=count)."""

    def __new__(cls, singular: str, plural: str, count: int, **values):
        sentence = str.__new__(cls, (singular if count == 1 else plural).format(**values))
        sentence.template, sentence.plural, sentence.n, sentence.values = singular, plural, int(count), values
        return sentence


def _sentence(template: str, plural: str | None, n: int | None, values: dict) -> Sentence:
    return Sentence(template, **values) if plural is None else Plural(template, plural, n, **values)


def in_language(message, translations) -> str:
    """A message (a Sentence, an exception raised with one, anything else) as text in the language of
    `translations` (a gettext object)."""
    if isinstance(message, BaseException) and message.args and isinstance(message.args[0], Sentence):
        message = message.args[0]
    return message.in_language(translations) if isinstance(message, Sentence) else str(message)


def po_path(lang: str) -> Path:
    return HERE / FOLDERS[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


def normalise(tag: str | None) -> str | None:
    """A browser or environment language tag ('zh-CN', 'zh_Hans', 'en-GB', 'zh_CN.UTF-8') -> 'zh', 'en' or None."""
    if not tag:
        return None
    t = str(tag).strip().lower().replace("_", "-").split(".")[0]
    for lang in LANGUAGES:
        if t == lang or t.startswith(lang + "-"):
            return lang
    return None


def translations(lang: str) -> gettext.NullTranslations:
    """The gettext translations of `lang` (compiled once per process from its .po)."""
    lang = lang if lang in LANGUAGES else DEFAULT
    found = _cache.get(lang)
    if found is not None:
        return found
    with _lock:
        if lang not in _cache:
            _cache[lang] = _compile(po_path(lang))
        return _cache[lang]


def _compile(path: Path) -> gettext.NullTranslations:
    if not path.is_file():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        catalog = read_po(f)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def cli_language() -> str:
    for var in ("SEQGEN_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        for part in os.environ.get(var, "").split(":"):
            lang = normalise(part)
            if lang:
                return lang
    return DEFAULT


def cli_translations() -> gettext.NullTranslations:
    return translations(cli_language())
