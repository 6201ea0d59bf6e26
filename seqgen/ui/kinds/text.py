"""The text kind's view: words as text (never markup); a typed word encoded; a typed start finished by every
model of the domain, with the writer's hidden state."""
from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from .. import browser_values, compute, figures, resources
from ..i18n import _, domain_word
from ..widgets import classroom_safe, plain
from .base import KindView, show_encoding


def reading_note(domain, typed: str) -> None:
    """Say so when the models read a typed word otherwise than typed (李雷 read through its pinyin, Lilei)."""
    word = domain.reads_as(typed)
    if word:
        st.caption(_("{typed} is read through its pinyin: {word}").format(typed=plain(typed.strip(), 40),
                                                                          word=plain(word, 40)))


class TextView(KindView):
    kind = "text"
    pages = ("text",)
    renderer = "text.mjs"

    def one(self, domain, art, key: str, caption: str | None = None, **options) -> None:
        text = str(art)
        with st.container(key=f"data_{key}"):     # the decoded word is data, shown as it is
            st.markdown(f"<div style='font-size:2.6rem;font-weight:600;line-height:1.3'>{html.escape(text) or '∅'}"
                        "</div>", unsafe_allow_html=True)
        noun = domain_word(domain.item_noun)
        known = domain.is_known(text) if text else None
        if not text:
            st.caption(_("an empty {noun}: the decoder stopped straight away").format(noun=noun))
        elif known is not None:
            st.caption(_("in the training data") if known else _("a new {noun}, not in the data").format(noun=noun))
        if caption:
            st.caption(caption)

    def describe(self, domain, art) -> str:
        return _("the {noun} {word}").format(noun=domain_word(domain.item_noun), word=art) if art else \
            _("an empty {noun}").format(noun=domain_word(domain.item_noun))

    def grid(self, domain, grid: dict, caption: str, key: str) -> None:
        n, arts = grid["n"], grid["artifacts"]
        table = [[a or "∅" for a in arts[r * n:(r + 1) * n]] for r in range(n)]
        st.dataframe(pd.DataFrame(table, index=[f"z₂={y:.2f}" for y in grid["ys"]],
                                  columns=[f"z₁={x:.2f}" for x in grid["xs"]]), key=key)
        st.caption(caption)

    def strip(self, domain, arts, key: str) -> None:
        with st.container(key=f"data_{key}"):
            st.text("  →  ".join(a or "∅" for a in arts))

    def gallery(self, domain, arts, cols: int, labels, key: str | None) -> None:
        arts = classroom_safe(arts)
        cells = [(a or "∅") + (f" ({labels[i]})" if labels else "") for i, a in enumerate(arts)]
        with st.container(key=f"data_{key}") if key else st.container():
            st.text(" · ".join(cells))

    def downloads(self, domain, arts, stem: str, **options) -> list[tuple[str, bytes, str, str]]:
        text = "\n".join(arts) + "\n"
        return [(_("Download the list (.txt)"), text.encode("utf-8"), f"{stem}.txt", "text/plain")]

    # ---------------------------------------------------------------- your own word
    def own_input(self, ref, ckpt, domain, label, marks, n_items, plane, go_to) -> None:
        text = st.text_input(_("Type a {noun}").format(noun=domain_word(domain.item_noun)), key="le_text",
                             persist_state="session", max_chars=64)
        enc = None
        if text.strip():
            reading_note(domain, text)
            try:
                enc = compute.encode_artifact(ref, text.strip(), label)
            except ValueError as e:
                st.error(str(e), icon=":material/edit:")
        show_encoding(self, ref, domain, enc, marks, plane, go_to)

    def plane_examples(self, ref, domain):
        c1, c2 = st.columns(2)
        a = c1.text_input(_("Example A"), "Oliver", key="le_plane_a", max_chars=40)
        b = c2.text_input(_("Example B"), "Michael", key="le_plane_b", max_chars=40)
        try:
            return (compute.encode_artifact(ref, a.strip() or "Oliver"),
                    compute.encode_artifact(ref, b.strip() or "Michael"))
        except ValueError as e:       # already plain text (compute.encode_artifact)
            st.error(_("{error} The PCA plane is shown meanwhile.").format(error=e), icon=":material/edit:")
            return None

    def start_section(self, domain, key: str = "own_name", **options) -> None:
        """Type the start of a word; every model of the domain (and its language model) writes the rest."""
        noun = domain_word(domain.item_noun)
        st.header(_("Type the start of a {noun}").format(noun=noun))
        c1, c2, c3 = st.columns([1.2, 1, 1])
        start = c1.text_input(_("Start"), "Mar", key=f"{key}_text", max_chars=40,
                              help=_("A few letters; every names model writes the rest."))
        temp = float(c2.slider(_("Temperature"), 0.0, 2.0, 1.0, step=0.1, key=f"{key}_temp"))
        n = int(c3.slider(_("Completions per model"), 1, 12, 6, key=f"{key}_n"))
        if not start.strip():
            st.info(_("Type a few letters, like {a} or {b}.").format(a="Mar", b="Jo"), icon=":material/edit:")
            return
        reading_note(domain, start)
        models = resources.model_names(("vae", "gan"), domain=domain.name)
        if domain.reference_model:
            models.append(domain.reference_model)
        rows, hidden = [], {}
        for name in models:
            try:
                res = compute.complete(resources.ref(name), start.strip(), n, temp, 0, None, None)
            except ValueError as e:
                st.error(plain(e, 300), icon=":material/edit:")
                return
            hidden[name] = res
            rows += [{_("model"): name, noun: a or _("(empty)"),
                      _("status"): _("in the data") if domain.is_known(a) else _("new ✨")} for a in res["artifacts"]]
        st.dataframe(pd.DataFrame(rows), key=f"{key}_table", hide_index=True)
        st.caption(_("Every name starts with your letters exactly; the VAE and GAN first pick a latent / noise that "
                     "makes your start likely, the char-LM simply reads it."))
        browser_values.choice(f"{key}_hid_model", hidden, options_change=True)
        pick = st.selectbox(_("Hidden state of"), list(hidden), key=f"{key}_hid_model")
        res = hidden[pick]
        with st.container(key=f"data_{key}_hid_name"):     # the completion is data: it stays out of the chart's title
            st.markdown(f"**{plain(res['artifacts'][0], 40) or '∅'}**")
        fig = figures.hidden_heatmap(res["hidden"][0], title=pick)
        fig.add_hline(y=res["prefix_len"] + 0.5, line=dict(color="#e31a1c", width=3))
        fig.update_yaxes(title_text=_("letter (time step)"))
        st.plotly_chart(fig, key=f"{key}_heat")
        st.caption(_("The red line is where your letters end and the model takes over."))

    def pad_text(self, domain) -> dict:
        return {"empty": _("an empty {noun}: the decoder stopped straight away").format(
            noun=domain_word(domain.item_noun))}


VIEW = TextView()
