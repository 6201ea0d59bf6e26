"""Text: invent new items (first names) with a text VAE or GAN; check which are new; find an item's neighbours
in latent space."""
import pandas as pd
import streamlit as st

import seqgen
from seqgen import ui
from seqgen.ui import compute, resources, show, widgets
from seqgen.ui.i18n import _, domain_word, ngettext
from seqgen.ui.kinds import kinds_on
from seqgen.ui.kinds.text import reading_note

ui.configure_torch()


def _new_batch() -> None:
    st.session_state.tx_seed = int(st.session_state.tx_seed) + 1


def choose_model(models) -> str:
    widgets.defaults(tx_temp=0.8, tx_n=20, tx_seed=0)
    c1, _c2 = st.columns([1.2, 2.8])
    with c1:
        return widgets.choose_model(_("Model"), "tx_model", models, resources.model_label,
                                    preferred=next(iter(resources.model_names("vae", kinds=kinds_on("text"))), None))


@st.fragment
def new_names(name, domain) -> None:
    """The temperature, the count, the seed and the batch they make: a new batch reruns only this, not the
    sections below (they depend only on the model)."""
    with ui.guard(_("the text page")):    # a fragment rerun runs outside the page-level guard
        c2, c3, c4, c5 = st.columns([1, 1, 0.8, 1], vertical_alignment="bottom")
        temp = float(c2.slider(_("Temperature"), 0.0, 2.0, step=0.1, key="tx_temp", persist_state="session",
                               help=_("0 = always the likeliest letter; 1 = the model's own odds; >1 = daring.")))
        n = int(c3.slider(_("How many"), 1, 50, key="tx_n", persist_state="session"))
        seed = int(c4.number_input(_("Seed"), 0, 1_000_000, step=1, key="tx_seed", persist_state="session"))
        c5.button(_("New batch"), key="tx_new", on_click=_new_batch, icon=":material/refresh:")
        generated_table(name, domain, temp, n, seed)
        st.caption(_("*Looks like a {noun}*: letters only, and the reference language model finds it no less "
                     "likely than 95 % of real ones.").format(noun=domain_word(domain.item_noun)))


def generated_table(name, domain, temp, n, seed) -> None:
    items = widgets.classroom_safe(compute.samples(resources.ref(name), seed, n, temp))
    known = [bool(s) and bool(domain.is_known(s)) for s in items]
    noun = domain_word(domain.item_noun)
    in_data, new, yes, no = _("in the training data"), _("new ✨"), _("yes"), _("no")
    table = pd.DataFrame({
        noun: [s or _("(empty)") for s in items],
        _("status"): [in_data if k else new for k in known],
        _("looks like a {noun}").format(noun=noun): [yes if ok else no for ok in domain.looks_like(items)],
    })
    n_new = sum(not k for k in known)
    st.markdown(ngettext("**{new} of {n}** is a new invention; {old} in the data.",
                         "**{new} of {n}** are new inventions; {old} in the data.", n_new).format(
        new=n_new, n=n, old=ngettext("{n} is", "{n} are", n - n_new).format(n=n - n_new)))
    st.dataframe(table, key="tx_table", hide_index=True)
    d1, d2 = st.columns([1, 3])
    with d1:
        show.download_buttons(domain, items, f"{name}-seed{seed}", key="tx_download")
    with d2.expander(_("Copy the list")):
        st.code("\n".join(items) + "\n", language=None)


@st.fragment
def where_it_lives(name, domain) -> None:
    """A typed name's point, its decoding and its neighbours: typing reruns only this section."""
    with ui.guard(_("the text page")):
        _where_it_lives(name, domain)


def _where_it_lives(name, domain) -> None:
    noun = domain_word(domain.item_noun)
    st.header(_("Where does a {noun} live?").format(noun=noun))
    vaes = resources.model_names("vae", domain=domain.name)
    if not vaes:
        st.info(_("No {data} VAE is available to encode with.").format(data=domain_word(domain.title)))
        return
    e1, e2 = st.columns([1, 2])
    with e1:
        enc_name = widgets.choose_model(_("Encoder (a VAE)"), "tx_enc_model", vaes, resources.model_label,
                                        preferred=name if name in vaes else None)
        typed = st.text_input(_("Type a {noun}").format(noun=noun), key="tx_name", persist_state="session", max_chars=64)
    if not typed.strip():
        return
    with e1:
        reading_note(domain, typed)
    ref = resources.ref(enc_name)
    try:
        enc = compute.encode_artifact(ref, typed.strip())
    except ValueError as e:
        st.error(str(e), icon=":material/edit:")
        return
    mu = enc["mu"]
    coords = ", ".join(f"{v:.2f}" for v in mu[:4]) + (", …" if len(mu) > 4 else "")
    shown = enc["original"]
    with e1, st.container(key="data_tx_where"):   # holds the typed and decoded names (data)
        st.markdown(_("**{name}** lands at **z = ({coords})**.").format(name=shown, coords=coords) + " "
                    + (_("It is in the data.") if domain.is_known(shown) else _("It is not in the data.")))
        st.markdown(_("Decoding that point gives back **{name}**.").format(
            name=enc["reconstruction"] or _("(empty)")))
    with e1:
        if enc["reconstruction"] != shown and len(mu) == 2:
            st.caption(_("Two numbers cannot hold a whole {noun}, so this encoder gives back a similar one. An "
                         "encoder with a larger latent (in the list above, marked with its size) gives yours "
                         "back.").format(noun=noun))
    near = compute.nearest_items(ref, mu, k=10, exclude=shown)
    with e2:
        st.markdown(_("**Its nearest neighbours on the map**"))
        st.dataframe(pd.DataFrame({noun: [a for a, _d in near], _("distance in latent space"):
                                   [round(d, 3) for _a, d in near]}), key="tx_near", hide_index=True)


st.title(_("Text: inventing names"))
ui.intro(
    _("These models write a first name **one letter at a time**, like predictive text: a recurrent network "
    "reads the letters so far and gives each possible next letter a probability. The **temperature** decides "
    "how daring the choice is: near 0 it always takes the likeliest letter (safe, repetitive names); around 1 "
    "it follows the learned odds; above 1 it takes long shots (stranger names, more typos)."),
    _("Each name is checked against the 5,000 real US first names the model learned from: **new** means the "
    "model made it up. The VAE starts each name from a random point of its 2-D map; the GAN starts from random "
    "noise and was trained against a critic that tries to spot fake names. Below, type any name: a VAE's "
    "encoder finds its point in its latent space. With **names-vae-32** (32 numbers per name) the names closest "
    "to that point look alike: most share its first letter, and about a third its last two letters. The 2-D "
    "map of **names-vae** is too small for that: its closest names often share the first letter, but little "
    "else."))

with ui.guard(_("the text page")):
    models = resources.model_names(("vae", "gan"), kinds=kinds_on("text"))
    if not models:
        st.warning(_("No text VAE or GAN checkpoint was found."))
        st.stop()
    name = choose_model(models)
    domain = seqgen.get_domain(ui.load(name).config.domain)
    new_names(name, domain)
    where_it_lives(name, domain)
    show.view(domain).start_section(domain)
