"""The app's Streamlit side: the only part of seqgen that imports streamlit.

    resources  cached model loading and the model lists (shipped + the user's saved models)
    compute    cached wrappers over seqgen.explore: maps, grids, interpolations, encodings, samples
    figures    plotly figures (latent map, piano roll, hidden-state heat map)
    show       draw decoded artifacts by their kind: image, text, melody
    music      melody -> WAV / MIDI bytes, cached by notes
    widgets    intro box, error guard, widget-state helpers
    urlstate   the latent explorer's view (model, z) <-> st.query_params
    i18n       the session's language (Chinese / English) and its gettext messages
    lessons    guided lessons across the pages
    live       the Live training page
"""
from . import compute, figures, i18n, music, resources, show, urlstate, widgets
from .resources import configure_torch, load, model_label, model_names
from .widgets import guard, intro

__all__ = ["compute", "configure_torch", "figures", "guard", "intro", "load", "model_label", "model_names",
           "i18n", "music", "resources", "show", "urlstate", "widgets"]
