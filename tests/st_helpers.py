"""Helpers for the AppTest-based app tests (importable as `st_helpers`; pytest.ini puts tests/ on sys.path)."""
from __future__ import annotations

import importlib.util
import json
import logging
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

from seqgen.ui.pages import PAGES as APP_PAGES

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "frame" / "main.py")          # the script `streamlit run app.py` serves (see app.py)
PAGES = {page_id: page.file for page_id, page in APP_PAGES.items()}   # as st.switch_page takes them

# AppTest logs a harmless "missing ScriptRunContext" warning per instance; cached functions called from
# test code (outside a script run) log another.
for name in ("streamlit.runtime.scriptrunner_utils.script_run_context",
             "streamlit.runtime.caching.cache_data_api", "streamlit.runtime.caching.cache_resource_api"):
    logging.getLogger(name).setLevel(logging.ERROR)


def app(timeout: float = 60) -> AppTest:
    return AppTest.from_file(APP, default_timeout=timeout)


def page_app(page: str, timeout: float = 60) -> AppTest:
    """A page file run on its own (no navigation frame): lets a test set query params for that page."""
    path = REPO / "frame" / PAGES[page] if page in PAGES else REPO / page
    return AppTest.from_file(str(path.resolve()), default_timeout=timeout)


def open_page(page: str) -> AppTest:
    at = app().run()
    assert not at.exception, at.exception
    return at.switch_page(PAGES[page]).run()


def run_with_plotly_selection(at: AppTest, key: str, selection: dict) -> AppTest:
    """AppTest has no API for chart selections: inject the widget value the browser sends
    ({"selection": {...}}) for the plotly chart with `key`. Uses AppTest internals (_tree, _run):
    streamlit is pinned in requirements.txt."""
    chart = next(c for c in at.get("plotly_chart") if c.key == key)
    states = at._tree.get_widget_states()
    ws = states.widgets.add()
    ws.id = chart.proto.id
    ws.string_value = json.dumps({"selection": selection})
    return at._run(states)


def click_point(x: float, y: float, curve: int = 0, index: int = 0) -> dict:
    return {"points": [{"curve_number": curve, "point_number": index, "point_index": index, "x": x, "y": y}],
            "point_indices": [index], "box": [], "lasso": []}


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def image_urls(at: AppTest) -> list[str]:
    return [u for im in at.image for u in im.value]


def script_module(name: str, path: Path):
    """A repository script outside the packages (benchmarks/st_client.py, scripts/serve.py...) as a module, loaded
    once per process."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module          # dataclasses look their module up while the class is made
        spec.loader.exec_module(module)
    return sys.modules[name]
