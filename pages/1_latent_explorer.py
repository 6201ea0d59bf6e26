"""Latent explorer: walk the 2-D latent plane of a VAE and see (or hear) what each point decodes to."""
import time

import streamlit as st

import seqgen
from seqgen import ui
from seqgen.ui import browser_values, compute, figures, latent_pad, resources, show, urlstate, widgets
from seqgen.ui.i18n import _, domain_word, label_names, ngettext

LIM, STEP = 4.0, 0.05
PAD_KEY = "le_pad"
# The browser redraws the map's ~2,000 points after the decoded output arrives; a short pause before the
# map is sent lets the output paint first instead of waiting behind that redraw.
PAINT_GAP_S = 0.06
ui.configure_torch()


def _set_z(sent) -> None:
    """Move the current point to `sent`, a point from the browser (checked: it may be forged)."""
    point = browser_values.point(sent, LIM, STEP)
    if point is not None:
        st.session_state.le_z0, st.session_state.le_z1 = point


def _on_map_click() -> None:
    try:
        sent = figures.selection_point(st.session_state.get(figures.MAP_KEY))
    except ValueError:
        browser_values.notice(_("Your browser sent a map click this page cannot read, so it was ignored."))
        return
    if sent is not None:
        _set_z(sent)


def _set_end(which: str) -> None:
    st.session_state[which] = (st.session_state.le_z0, st.session_state.le_z1)


def choose_model(names):
    """Model picker (and label for conditional VAEs) -> (name, checkpoint, ref, domain, label)."""
    model_name = widgets.choose_model(_("Model"), "le_model", names, resources.model_label,
                                      help=_("Any VAE: the shipped ones and the ones you trained and saved."))
    ckpt = ui.load(model_name)
    cfg = ckpt.config
    domain = seqgen.get_domain(cfg.domain)
    label = None
    if cfg.conditional:
        names_shown = dict(enumerate(label_names(domain)))
        browser_values.choice("le_label", range(cfg.n_labels), options_change=True)
        label = st.selectbox(_("Label"), list(range(cfg.n_labels)), key="le_label", persist_state="session",
                             format_func=names_shown.get)
    what_it_does(model_name)
    ref = resources.ref(model_name)
    plane = choose_plane(ref, cfg, domain) if cfg.latent > 2 else None
    return model_name, ckpt, ref, domain, label, plane


def what_it_does(model_name) -> None:
    """The model card's description, how faithfully it rebuilds what it encodes, and its limitations: what
    this model can and cannot do."""
    ckpt = ui.load(model_name)
    cfg, info = ckpt.config, ckpt.info
    domain = seqgen.get_domain(cfg.domain)
    if info.get("description"):   # the card's words: a shipped model's come translated (seqgen/presets.py)
        with st.container(key="data_le_card"):
            st.caption(widgets.plain(_(str(info["description"])), 300))
    exact = info.get("metrics", {}).get("reconstruction_exact_fraction")
    if exact is not None:
        st.caption(_("Encoding a held-out {noun} and decoding it gives it back exactly {share} of the time.").format(
            noun=domain_word(domain.item_noun), share=f"{exact:.0%}"))
    if cfg.discrete and cfg.latent == 2:
        bigger = [n for n in resources.model_names("vae", domain=cfg.domain)
                  if resources.model_info(n).get("latent", 2) > 2]
        text = _("Two numbers cannot hold a whole {noun}: encoding yours gives back a similar one, rarely the "
                 "same.").format(noun=domain_word(domain.item_noun))
        if bigger:
            text += " " + _("To get yours back, pick {model}.").format(model=widgets.plain(bigger[0], 60))
        st.caption(text)
    lines = info.get("limitations", [])
    if lines:
        with st.expander(_("What this model cannot do")), st.container(key="data_le_limits"):
            for line in lines:
                st.caption(widgets.plain(_(str(line)), 400))


def choose_plane(ref, cfg, domain) -> dict:
    """A model with more than 2 latent dimensions is shown through a plane: its data's main directions,
    or the plane through two examples (so a morph from A to B starts at A and ends at B)."""
    st.info(_("This model has a {n}-D latent: the sliders, the map and the grid show a plane through it, chosen "
              "here. Points off that plane are not shown.").format(n=cfg.latent), icon=":material/layers:")
    planes = {"the plane the data spreads most along (PCA)": _("the plane the data spreads most along (PCA)"),
              "the plane through two examples": _("the plane through two examples")}
    browser_values.choice("le_plane", planes)
    how = st.radio(_("Show it through"), list(planes), key="le_plane", persist_state="session",
                   format_func=planes.get)
    examples = None if how.startswith("the plane the data") else show.view(domain).plane_examples(ref, domain)
    if examples is None:
        st.caption(_("One unit on each axis is one standard deviation of the encoded held-out set."))
        return compute.plane(ref, "pca")
    ea, eb = examples
    st.caption(_("A sits at (-1.50, 0) and B at (1.50, 0): the interpolation between the points A and B below "
                 "morphs one into the other."))
    return compute.plane(ref, "through", tuple(map(float, ea["mu"])), tuple(map(float, eb["mu"])))


def _on_pad_z() -> None:
    state = st.session_state.get(PAD_KEY) or {}
    z = state.get("z") if hasattr(state, "get") else getattr(state, "z", None)
    if z is not None:
        _set_z(z)


def _on_pad_failed() -> None:
    state = st.session_state.get(PAD_KEY) or {}
    failed = state.get("failed") if hasattr(state, "get") else getattr(state, "failed", None)
    if failed:
        st.session_state.le_pad_failed = str(failed)


def pad_or_why(ref, plane=None) -> tuple[str, str]:
    """(model URL, "") when the pad is shown; ("", why not) when the classic sliders are (why: "" if chosen)."""
    url, why = latent_pad.availability(ref)
    if plane is not None:
        url, why = "", _("it decodes the plane through the first two latent dimensions, not the one chosen above")
    why = why or st.session_state.get("le_pad_failed", "")
    classic = st.toggle(_("Classic sliders (decoded on the server)"), key="le_classic", persist_state="session",
                        disabled=bool(why), help=_("The pad decodes in your browser while you drag; the classic "
                                                   "sliders ask the server for every point."))
    if why:
        st.info(_("The drag pad is not available here: {why}. The sliders decode on the server instead.").format(
            why=widgets.plain(why, 300)), icon=":material/swipe:")
    return ("", why) if (why or classic) else (url, "")


@st.fragment
def point_and_map(point_slot, map_slot, model_name, ckpt, ref, domain, label, marks, view, plane=None) -> None:
    """The point z, its decoded output and the map: moving z reruns only this, not the grid, interpolation
    and encoder below (they do not depend on z). The pad decodes in the browser; the sliders on the server."""
    with ui.guard(_("the latent explorer")):  # a fragment rerun runs outside the page-level guard
        with point_slot:
            browser_values.show_notice()        # a refused drag or click reruns only this fragment, not the frame
            url, _why = pad_or_why(ref, plane)
        if url:
            pad_point(point_slot, map_slot, model_name, ckpt, ref, domain, label, marks, url)
        else:
            slider_point(point_slot, map_slot, model_name, ref, domain, label, marks, view, plane)


def pad_point(point_slot, map_slot, model_name, ckpt, ref, domain, label, marks, url) -> None:
    z = (float(st.session_state.le_z0), float(st.session_state.le_z1))
    urlstate.write_view(model_name, z)
    with point_slot:
        st.markdown(f"**z = ({z[0]:.2f}, {z[1]:.2f})**")
        st.caption(_("Drag the ⊕ (or press and sweep) and the decoder redraws on every frame, in your browser. "
                     "Arrow keys nudge it (Shift: 5×). On release the point goes to the address bar and the "
                     "sections below."))
    with map_slot:
        st.subheader(_("The map: drag the point"))
        latent_pad.pad(PAD_KEY, ref=ref, model_url=url, domain=domain, latent=ckpt.config.latent,
                       label_names=domain.label_names, z=z, lim=LIM, step=STEP, marks=marks, label=label,
                       on_z_change=_on_pad_z, on_failed_change=_on_pad_failed)


def slider_point(point_slot, map_slot, model_name, ref, domain, label, marks, view, plane=None) -> None:
    with point_slot:
        z0 = st.slider(_("z₁ (first latent coordinate)"), -LIM, LIM, step=STEP, key="le_z0",
                       persist_state="session")
        z1 = st.slider(_("z₂ (second latent coordinate)"), -LIM, LIM, step=STEP, key="le_z1",
                       persist_state="session")
        z = (float(z0), float(z1))
        urlstate.write_view(model_name, z)
        with st.container(key="le_output"):
            st.subheader(_("Decoded at z = ({x}, {y})").format(x=f"{z[0]:.2f}", y=f"{z[1]:.2f}"))
            out = compute.decode_point(ref, z, label) if plane is None else compute.decode_point_on(ref, z, label, plane)
            show.artifact(domain, out, key="le_out")
    time.sleep(PAINT_GAP_S)
    with map_slot:
        st.subheader(_("The map of held-out examples"))
        if plane is None:   # the points are validated once per model; a move adds only the marker
            fig = compute.latent_map_chart(ref, LIM, z, marks=marks, box=view)
        else:
            fig = figures.latent_map_figure(compute.latent_map_base_on(ref, LIM, plane), z, marks=marks, box=view)
        st.plotly_chart(fig, key=figures.MAP_KEY, on_select=_on_map_click, selection_mode=("points",),
                        theme=None, config={"displaylogo": False})
        st.caption(_("Each dot is a held-out example placed by the encoder (hover for what it is). "
                     "⊕ marks the current z; click anywhere to move it there."))


def whole_plane(ref, domain, label, view, plane=None) -> None:
    st.header(_("The whole plane at once"))
    lo, hi, default = domain.explorer_grid
    key = f"le_grid_{domain.name}"
    widgets.defaults(**{key: default})
    n = st.slider(_("Grid size (n × n decodes)"), lo, hi, key=key, persist_state="session")
    caption = _("{n}×{n} decodes, z₁ from {left} (left) to {right} (right), z₂ from {top} (top) to {bottom} "
                "(bottom): the dotted box on the map.").format(n=n, left=f"{view[0]:.2f}", right=f"{view[1]:.2f}",
                                                              top=f"{view[3]:.2f}", bottom=f"{view[2]:.2f}")
    grid = compute.manifold(ref, n, view, label) if plane is None else compute.manifold_on(ref, n, view, label, plane)
    show.grid(domain, grid, caption, key="le_grid")


def interpolation(ref, domain, label, data, marks, plane=None) -> None:
    st.header(_("Interpolation"))
    modes = {"two points I pick": _("two points I pick"), "two held-out examples": _("two held-out examples")}
    browser_values.choice("le_interp_mode", modes)
    mode = st.radio(_("Between"), list(modes), key="le_interp_mode", persist_state="session", horizontal=True,
                    format_func=modes.get)
    n_items = len(data["points"])
    if mode == "two points I pick":
        c1, c2, c3 = st.columns(3)
        c1.button(_("Set A to the current point"), key="le_set_a", on_click=_set_end, args=("le_a",))
        c2.button(_("Set B to the current point"), key="le_set_b", on_click=_set_end, args=("le_b",))
        c3.caption(_("Move to a point (slider or map click), press *Set A*; move again, press *Set B*."))
        a, b = tuple(st.session_state.le_a), tuple(st.session_state.le_b)
    else:
        c1, c2 = st.columns(2)
        ia = c1.number_input(_("Example A (held-out #)"), 0, n_items - 1, key="le_ia", persist_state="session")
        ib = c2.number_input(_("Example B (held-out #)"), 0, n_items - 1, key="le_ib", persist_state="session")
        with c1.container(key="data_le_text_a"):
            st.caption(data["texts"][ia])
        with c2.container(key="data_le_text_b"):
            st.caption(data["texts"][ib])
        a = tuple(round(float(v), 3) for v in data["points"][ia])
        b = tuple(round(float(v), 3) for v in data["points"][ib])
    steps = st.slider(_("Steps"), 3, 12, key="le_steps", persist_state="session")
    marks["A"] = (a[0], a[1], "diamond", "#ff7f0e")
    marks["B"] = (b[0], b[1], "diamond", "#9467bd")
    st.caption(ngettext("From A = ({ax}, {ay}) to B = ({bx}, {by}) in {n} step.",
                        "From A = ({ax}, {ay}) to B = ({bx}, {by}) in {n} steps.", steps).format(
        ax=f"{a[0]:.2f}", ay=f"{a[1]:.2f}", bx=f"{b[0]:.2f}", by=f"{b[1]:.2f}", n=steps))
    res = compute.interpolate(ref, a, b, steps, label) if plane is None else \
        compute.interpolate_on(ref, a, b, steps, label, plane)
    show.strip(domain, res["artifacts"], key="le_strip")


def your_own(ref, ckpt, domain, label, n_items, marks, plane=None) -> None:
    st.header(_("Encode your own"))
    show.view(domain).own_input(ref, ckpt, domain, label, marks, n_items, plane, go_to=_set_z)


def damaged_models_note() -> None:
    bad = resources.damaged_models()
    if bad:
        with st.expander(ngettext("{n} saved model could not be read and is not listed",
                                  "{n} saved models could not be read and are not listed", len(bad)).format(n=len(bad))):
            for r in bad:
                st.text(f"{r['name']}: {r['error']}")


st.title(_("Latent explorer"))
ui.intro(
    _("A **variational autoencoder (VAE)** squeezes every example (a digit, a name, a melody) into just two "
    "numbers, a point *z* on a flat map, and learns to rebuild the example from that point alone. The "
    "**encoder** places each example on the map; the **decoder** turns any point back into an example. "
    "Because the model is punished for scattering points (the *KL term*), similar examples end up close "
    "together and the whole map is filled with sensible outputs."),
    _("Drag the point across the map (or move the sliders), and the decoder shows what lives at that point. "
    "Coloured dots are real examples the model never trained on, placed by the encoder. The grid below decodes "
    "the whole plane at once; the interpolation walks in a straight line between two points. The address bar "
    "keeps the current point: copy it to share exactly what you see."))

with ui.guard(_("the latent explorer")):
    names = resources.model_names("vae")
    if not names:
        st.warning(_("No VAE checkpoints were found in checkpoints/ or your saved models."))
        st.stop()
    for msg in urlstate.read_view(names, LIM, STEP):
        st.warning(msg, icon=":material/link_off:")
    widgets.defaults(le_z0=0.0, le_z1=0.0, le_a=(-1.5, 0.0), le_b=(1.5, 0.0), le_item=0, le_ia=0, le_ib=1,
                     le_steps=8)
    left, right = st.columns([1, 1.7], gap="large")
    with left:
        model_name, ckpt, ref, domain, label, plane = choose_model(names)
        latent_pad.preload(ref)
        point_slot = st.container()
    map_slot = right.container()
    data = compute.latent_map(ref) if plane is None else compute.latent_map_on(ref, plane)
    view = tuple(round(v, 2) for v in data["view"])
    marks: dict = {}
    whole_plane(ref, domain, label, view, plane)
    interpolation(ref, domain, label, data, marks, plane)
    your_own(ref, ckpt, domain, label, len(data["points"]), marks, plane)
    point_and_map(point_slot, map_slot, model_name, ckpt, ref, domain, label, marks, view, plane)  # drawn last, shown on top
    damaged_models_note()
