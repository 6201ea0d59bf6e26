"""The browser tests' shared fixtures: one app server for the whole run (started when the first browser test
needs it; each cold start costs its first page the torch import and every cached map again) and one Chromium
per test module. A module that needs a server of its own (the live-training one, the class, a fresh server
no one has visited) starts it itself."""
from __future__ import annotations

import pytest
from e2e_helpers import launch, streamlit_server


@pytest.fixture(scope="session")
def app_server():
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def server(app_server):
    return app_server


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
