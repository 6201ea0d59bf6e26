"""seqgen explorer: a Streamlit app over the pretrained RNN-GAN / RNN-VAE checkpoints.

    streamlit run app.py

The app itself is frame/main.py, the frame around every page (navigation over the files in pages/, the
session's language, presenter mode, lessons). It lives in a folder of its own so that Streamlit never sees a
pages/ folder beside its main script: next to one, Streamlit starts every session of a fresh server in its
older pages-folder mode, and a deep link such as /training first shows "Page not found"
(https://github.com/streamlit/streamlit/issues/8860). st.App is Streamlit's supported way to name the
script `streamlit run` serves. frame/static links to static/, the files Streamlit serves at /app/static/;
the latent pad's runtime and decoders among them are served by seqgen.ui.assets instead, compressed once and
cached by browsers for good. seqgen.classroom adds /class/events, the stream that tells a class's browsers the
teacher moved on (docs/CLASSROOM.md). seqgen.ui.uploads frees the uploaded files of sessions that have
ended, which Streamlit itself keeps. seqgen.ui.import_ahead imports, in the background, what the first page of
a fresh process would otherwise wait for. seqgen.ui.browser_values checks what browsers send: a forged widget
value gets a sentence, not Streamlit's error box.
"""
import os

# Torch's OpenMP threads sleep between jobs in the app: spinning ones would slow every training run and page
# beside them. libgomp reads this once, when torch loads, and the imports below load torch (seqgen.checkpoints,
# through the browser-value checks): so the first visitor's page does not wait for it either.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import streamlit as st  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from seqgen import classroom  # noqa: E402
from seqgen.ui import assets, browser_values, import_ahead, threadsafe_ast, uploads  # noqa: E402

BASE_URL = st.get_option("server.baseUrlPath") or ""
threadsafe_ast.install()     # before the first thread of ours starts (seqgen/ui/threadsafe_ast.py says why)
uploads.start()
import_ahead.start()
app = st.App("frame/main.py", routes=[*assets.routes(BASE_URL), *classroom.routes(BASE_URL)],
             middleware=[Middleware(browser_values.StateShield)], on_script_error=browser_values.script_error)
