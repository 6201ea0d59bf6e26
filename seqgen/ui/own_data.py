"""The Live training page's "Your data": upload or paste a data set, see what was kept and dropped and why,
then train on it like any domain (the reading itself is seqgen.domains.own, no Streamlit there).

The data set read last lives in this browser session (HELD_KEY) and is offered only here; it is gone when the
session ends (and its training run with it). A model saved from it stores the data set in the user folder, so
the model opens on every page.
"""
from __future__ import annotations

import functools

import streamlit as st

from seqgen.checkpoints import SHIPPED_DIR
from seqgen.domains import get_domain, register
from seqgen.domains.own import MAX_UPLOAD_BYTES, DataError, own_domain, read_data, templates
from seqgen.presets import FINE_TUNE_LR, started_from

from . import browser_values, show
from .i18n import _, domain_word, ngettext
from .widgets import cell, plain

CHOICE = "own"                  # the "What to learn" option of the learner's own data
SHADOW_KEY = "lt_widget_values" # Live training's copy of its widgets' values, put back after a page switch
OWN_KEY = "lt_own_domain"       # the domain name of the data set this session read
HELD_KEY = "lt_own_held"        # the data set's domain itself: registered only while this session holds it
REPORT_KEY = "lt_own_report"    # ("ok" | "error", what to show, the domain it was read as) of the last reading
KIND_KEY = "lt_own_template"
TITLE_KEY = "lt_own_title"
PREVIEW = 12                    # kept items shown before training
MAX_PASTED_CHARS = 400_000      # 10,000 names of up to 40 characters
MAX_RECORDINGS = 200            # clips one session may record into a data set


def remember(keys) -> None:
    """Keep these widgets' values for Live training's next visit (a page not shown loses its widgets')."""
    shadow = st.session_state.setdefault(SHADOW_KEY, {})
    for k in keys:
        if k in st.session_state:
            shadow[k] = st.session_state[k]


def forget(key: str) -> object:
    """Drop a widget's value and its kept copy (so the widget's default holds again). -> the value, or None."""
    st.session_state.get(SHADOW_KEY, {}).pop(key, None)
    return st.session_state.pop(key, None)


def current() -> str | None:
    """The domain name of the data set this session read, while it is still registered and is of the kind
    now chosen under "What your data is"."""
    name = st.session_state.get(OWN_KEY)
    if not isinstance(name, str):
        return None
    try:
        domain = get_domain(name)
    except ValueError:
        return None
    return name if domain.presets_from == template_name() else None


def template_name() -> str:
    """The bundled domain the learner's data is read as (one per kind)."""
    options = list(templates().values())
    browser_values.choice(KIND_KEY, options)
    st.session_state.setdefault(KIND_KEY, options[0])
    return st.session_state[KIND_KEY]


def _files_key(template: str) -> str:
    return f"lt_own_files_{template}"


def _pasted_key(template: str) -> str:
    return f"lt_own_text_{template}"


def _characters_key(template: str) -> str:
    return f"lt_own_chars_{template}"


def _recordings_key(template: str) -> str:
    return f"lt_own_recordings_{template}"


def _add_recording(template: str) -> None:
    """The clip just recorded joins this session's recordings (read with the files on Read)."""
    clip = st.session_state.get(f"lt_own_rec_{template}")
    kept = st.session_state.setdefault(_recordings_key(template), [])
    if clip is None or not hasattr(clip, "getvalue") or len(kept) >= MAX_RECORDINGS:
        return
    data = clip.getvalue()
    if sum(map(len, kept)) + len(data) <= MAX_UPLOAD_BYTES:     # what a session holds stays within one upload
        kept.append(data)


def _clear_recordings(template: str) -> None:
    st.session_state.pop(_recordings_key(template), None)


def _start_key(template: str, family: str) -> str:
    return f"lt_own_start_{template}_{family}"


def shipped_start(template: str, family: str) -> str | None:
    """The shipped model a run on this data can start from (the template's own model of the family, where
    its architecture fits the data set read, or the kind's data before one is read), else None."""
    name = f"{template}-{family}"
    return name if _fits(name, current() or template, family) else None


@functools.lru_cache(maxsize=64)
def _fits(name: str, domain: str, family: str) -> bool:
    """Whether shipped model `name` can start a run on `domain` (read once per pair, not on every rerun; a data
    set's name is a digest of its items, so one name is one shape)."""
    if not (SHIPPED_DIR / name / "config.json").is_file():
        return False
    try:
        started_from(name, get_domain(domain), family)
    except ValueError:
        return False
    return True


def start_from(template: str, family: str) -> str | None:
    """The shipped model this session's next run starts from: chosen, and still fitting."""
    if not st.session_state.get(_start_key(template, family)):
        return None
    return shipped_start(template, family)


def _fine_tune_rate(template: str, family: str, lr_key: str) -> None:
    """Starting from a trained model, learn at a tenth of the usual rate: adapt what it knows, do not
    overwrite it (benchmarks/README.md, "Your own data set"). From scratch, the preset's rate again (the
    knob's default, set when its key is missing)."""
    if st.session_state.get(_start_key(template, family)):
        st.session_state[lr_key] = FINE_TUNE_LR
    else:
        forget(lr_key)


def _default_start(start: str | None, template: str, family: str, lr_key: str) -> None:
    """Start from the shipped model unless the learner turned it off: a small data set trained from scratch
    learns little in a lesson's minutes. When the data read does not fit the shipped model, the choice and
    its learning rate are undone, and come back on with the next data that fits."""
    key = _start_key(template, family)
    if start and key not in st.session_state:
        st.session_state[key] = True
        _fine_tune_rate(template, family, lr_key)
    elif not start and key in st.session_state:
        if forget(key):
            forget(lr_key)


def _read() -> None:
    """Read the uploaded files and pasted lines as the chosen kind: the report, and the domain when enough
    items are kept."""
    template = get_domain(template_name())
    files = st.session_state.get(_files_key(template.name)) or []
    recordings = st.session_state.get(_recordings_key(template.name)) or []
    pasted = st.session_state.get(_pasted_key(template.name)) or ""
    pasted = pasted if isinstance(pasted, str) else ""
    st.session_state.pop(OWN_KEY, None)
    st.session_state.pop(HELD_KEY, None)
    try:
        if sum(int(getattr(f, "size", 0)) for f in files) + sum(map(len, recordings)) > MAX_UPLOAD_BYTES:
            raise DataError(_("The files come to more than {most} MB; the most a data set takes is {most} MB.")
                            .format(most=f"{MAX_UPLOAD_BYTES / 1e6:.0f}"))
        characters = template.own_alphabet and bool(st.session_state.get(_characters_key(template.name)))
        clips = [(f"recording-{i + 1}.wav", clip) for i, clip in enumerate(recordings)]
        reading = read_data(template, [(f.name, f.getvalue()) for f in files] + clips, pasted, characters=characters)
    except DataError as e:
        st.session_state[REPORT_KEY] = ("error", plain(e.args[0], 400), None)
        return
    if not reading.kept and not reading.dropped:
        st.session_state[REPORT_KEY] = ("error", _("Nothing to read: upload files or paste items first."), None)
        return
    title = st.session_state.get(TITLE_KEY) or ""
    adopt(reading, title if isinstance(title, str) else "")


def adopt(reading, title: str) -> str | None:
    """A reading as this session's data set (its report, and its domain when enough items were kept), chosen
    on Live training. -> the domain name, or None when there are too few items."""
    template = reading.template
    st.session_state.pop(OWN_KEY, None)
    st.session_state.pop(HELD_KEY, None)
    summary = {
        "kept": len(reading.kept), "files": reading.files, "labels": reading.label_source,
        "label_names": list(reading.label_names),
        "reasons": [(cell(why, 200), n, ", ".join(cell(x, 60) for x in examples))
                    for why, n, examples in reading.reasons()],
        "problem": plain(reading.problem(), 200) if reading.problem() else None,
    }
    name = None
    if reading.ready:
        domain = register(own_domain(reading.data(title)), while_held=True)
        name = st.session_state[OWN_KEY] = domain.name
        st.session_state[HELD_KEY] = domain
        summary["preview"] = [e.artifact for e in reading.kept[:PREVIEW]]
    st.session_state[REPORT_KEY] = ("ok", summary, template.name)
    st.session_state[KIND_KEY] = template.name
    st.session_state["lt_domain"] = CHOICE           # Live training shows it as "What to learn"
    remember((KIND_KEY, "lt_domain"))
    return name


def panel(disabled: bool, family: str, lr_key: str) -> str | None:
    """What the data is, the files or pasted lines, Read, the report, and whether to start from the shipped
    model of `family` (which sets the learning rate widget `lr_key` to a tenth). -> the data set's domain name
    once it is read, else None."""
    options = list(templates().values())
    template = template_name()
    words = {d: domain_word(get_domain(d).picker_title) for d in options}   # worded now, in this run's language
    st.radio(_("What your data is"), options, key=KIND_KEY, horizontal=True, disabled=disabled, format_func=words.get)
    domain = get_domain(template)
    types = ", ".join("." + t for t in domain.upload_types)
    st.file_uploader(_("Files ({types}), or a .zip of them; in a .zip, folders name the labels").format(types=types),
                     type=[*domain.upload_types, "zip"], accept_multiple_files=True, key=_files_key(template),
                     max_upload_size=int(MAX_UPLOAD_BYTES // 1_000_000), disabled=disabled)
    if domain.pastes:
        st.text_area(_("Or paste them, one per line"), key=_pasted_key(template), max_chars=MAX_PASTED_CHARS,
                     height=120, disabled=disabled)
    if domain.records:
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        c1.audio_input(_("Or record them, one at a time"), key=f"lt_own_rec_{template}", disabled=disabled)
        c2.button(_("Add this recording"), key=f"lt_own_add_{template}", on_click=_add_recording, args=(template,),
                  disabled=disabled, use_container_width=True, icon=":material/add:")
        n = len(st.session_state.get(_recordings_key(template)) or [])
        if n:
            st.caption(ngettext("{n} recording added; it is read with the files.",
                                "{n} recordings added; they are read with the files.", n).format(n=n))
            st.button(_("Clear the recordings"), key=f"lt_own_clear_{template}", on_click=_clear_recordings,
                      args=(template,), disabled=disabled)
    if domain.own_alphabet:
        st.toggle(_("Keep the characters as written"), key=_characters_key(template), disabled=disabled,
                  help=_("Off: Chinese names are read through their pinyin (李雷 → Lilei), in the letters a–z the "
                         "shipped models know. On: each character of your data becomes a token of its own, so the "
                         "model writes 李雷 as characters."))
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    c1.text_input(_("A name for your data set"), key=TITLE_KEY, max_chars=60, disabled=disabled,
                  placeholder=_("our class's names"))
    c2.button(_("Read"), key="lt_own_read", icon=":material/fact_check:", on_click=_read, disabled=disabled,
              use_container_width=True)
    remember((KIND_KEY, TITLE_KEY, _characters_key(template), _pasted_key(template)))
    _report(template)
    start = shipped_start(template, family)
    _default_start(start, template, family, lr_key)
    if start:
        key = _start_key(template, family)
        st.toggle(_("Start from the shipped model {name}").format(name=start), key=key, disabled=disabled,
                  on_change=_fine_tune_rate, args=(template, family, lr_key),
                  help=_("Fine-tuning: the run begins with what {name} learned from the bundled data and adapts it "
                         "to yours, at a tenth of the learning rate. A small data set then gets a map like the "
                         "shipped model's; its size (hidden, cell, latent) is that model's, so the size knobs "
                         "below are not used. Off: the model learns from your data alone.").format(name=start))
        remember((key,))
    return current()


def _report(template: str) -> None:
    report = st.session_state.get(REPORT_KEY)
    if not report or report[2] not in (None, template):
        st.caption(_("Nothing read yet: upload files or paste items, then press **Read**."))
        return
    status, body, _template = report
    if status == "error":
        st.error(body, icon=":material/block:")
        return
    kept_line = _("Kept {kept} items from {files} file(s).").format(kept=body["kept"], files=body["files"])
    labels = {"folders": _("Labels: the archive's folders ({names})."),
              "guessed": _("Labels: the reference model's guess ({names})."),
              "none": _("No labels.")}[body["labels"]].format(names=", ".join(
                  plain(domain_word(n), 30) for n in body["label_names"]))
    if body["problem"]:
        st.error(f"{kept_line} {body['problem']}", icon=":material/block:")
    else:
        st.success(f"{kept_line} {labels}", icon=":material/check_circle:")
    if body["reasons"]:
        st.caption(_("Dropped, and why:"))
        import pandas as pd
        st.dataframe(pd.DataFrame(body["reasons"], columns=[_("Why"), _("How many"), _("For example")]),
                     hide_index=True, key="lt_own_dropped")
    name = current()
    if name and body.get("preview"):
        st.caption(_("The first items, as the model will see them:"))
        show.gallery(get_domain(name), body["preview"], cols=min(PREVIEW, 6), key="lt_own_preview")
