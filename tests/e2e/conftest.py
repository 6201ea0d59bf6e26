"""The browser tests' shared fixtures: one app server and one Chromium per test module (a module that needs
another server, the live-training one, defines its own `server`)."""
from __future__ import annotations

import pytest
from e2e_helpers import launch, streamlit_server


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
