"""The app's two languages: Simplified Chinese and English, one per browser session.

    from seqgen.ui.i18n import _, ngettext, N_
    st.button(_("Start"))
    st.caption(ngettext("{n} sample", "{n} samples", n).format(n=n))

Strings are gettext messages: `pybabel extract` (babel.cfg, scripts/update_translations.sh) finds every
`_()`, `ngettext()` and `N_()` call, and seqgen/locale/ holds the catalogues (see there). `N_` only marks a
module-level constant for extraction; translate it where it is shown, with `_(CONSTANT)`.

The session's language is, in this order: `?lang=zh|en` in the address bar, the language switch in the
sidebar, the browser's language (`st.context.locale`, navigator.language), English. app.py calls `setup()`
on every run, which also writes `?lang=` back, so the language survives page switches and reloads.

Messages with placeholders use `str.format` names (`{n}`, `{step}`), never %-formatting or f-strings,
so a translation may move them around the sentence.
"""
from __future__ import annotations

import streamlit as st

from seqgen.locale import DEFAULT, LANGUAGES, N_, in_language, normalise, translations  # noqa: F401 - N_ for the pages

LANG_KEY = "i18n_lang"           # the session's language
SWITCH_KEY = "i18n_switch"       # the sidebar widget
NAMES = {"en": "English", "zh": "中文"}


def current() -> str:
    """The session's language ('en' or 'zh'); English outside a script run (a bare import, a thread)."""
    try:
        lang = st.session_state.get(LANG_KEY)
    except Exception:  # noqa: BLE001 - no session (a test calling a helper directly, a worker thread)
        return DEFAULT
    return lang if lang in LANGUAGES else DEFAULT


def _(message: str) -> str:
    return translations(current()).gettext(message) if message else message


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current()).ngettext(singular, plural, int(n))


def say(message) -> str:
    """A message the library raised or reported (a Sentence, or an exception raised with one) in the session's
    language; anything else as its text."""
    return in_language(message, translations(current()))


def browser_language() -> str | None:
    try:
        return normalise(st.context.locale)
    except Exception:  # noqa: BLE001 - no browser context (a bare script run)
        return None


def setup() -> str:
    """Decide this run's language and keep `?lang=` in the address bar (app.py, before anything is drawn)."""
    asked = normalise(st.query_params.get("lang"))
    lang = asked or st.session_state.get(LANG_KEY) or browser_language() or DEFAULT
    if lang not in LANGUAGES:
        lang = DEFAULT
    st.session_state[LANG_KEY] = lang
    if st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang
    return lang


def _switched() -> None:
    lang = st.session_state.get(SWITCH_KEY)
    if lang in LANGUAGES:
        st.session_state[LANG_KEY] = lang
        st.query_params["lang"] = lang


def language_switch() -> None:
    """The sidebar's language switch (its two options are written in their own language)."""
    st.session_state[SWITCH_KEY] = current()
    st.sidebar.segmented_control("Language / 语言", LANGUAGES, key=SWITCH_KEY, format_func=NAMES.get,
                                 on_change=_switched, label_visibility="collapsed")


# The words the domains and kinds declare (titles, nouns, class names) are marked with N_ where they are
# declared (seqgen/domains, seqgen/kinds) and translated where shown with domain_word(); the data itself
# (digits, names, notes) is never translated.
def domain_word(text) -> str:
    """A domain's title, noun or class name in the session's language (unknown words stay as they are)."""
    return _(str(text))


def label_names(domain) -> list[str]:
    return [domain_word(n) for n in domain.label_names]
