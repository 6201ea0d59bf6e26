"""The app's Streamlit side: the only part of seqgen that imports streamlit.

    resources  cached model loading and the model lists (shipped + the user's saved models)
    decoding   the one function every VAE decode goes through (tests count its calls)
    compute    cached maps, grids, interpolations, samples
    figures    plotly figures and small bitmaps
    music      melody -> WAV / MIDI bytes, cached by tokens
    widgets    intro box, error guard, widget-state helpers
    urlstate   the latent explorer's view (model, z) <-> st.query_params
    show       draw one decoded digit / name / melody
    home       the home page's pictures (scripts/home_pictures.py writes them to assets/home/)
"""
from . import compute, decoding, figures, home, music, resources, show, urlstate, widgets
from .resources import configure_torch, load, model_label, model_names
from .widgets import guard, intro

__all__ = ["compute", "configure_torch", "home", "decoding", "figures", "guard", "intro", "load",
           "model_label", "model_names", "music", "resources", "show", "urlstate", "widgets"]
