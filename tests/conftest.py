"""Fixtures shared by the test modules."""
from __future__ import annotations

import os

import pytest
from toy_domains import ToyRows, ToyTokens

import seqgen.domains


@pytest.fixture
def user_models(tmp_path, monkeypatch):
    """An empty user-model folder (SEQGEN_USER_MODELS) for the test; -> its path."""
    folder = tmp_path / "user_models"
    monkeypatch.setenv("SEQGEN_USER_MODELS", str(folder))
    return folder


@pytest.fixture
def toy_domains():
    """The tiny synthetic domains registered by name, so code that looks domains up by name finds them."""
    rows, tokens = seqgen.domains.register(ToyRows()), seqgen.domains.register(ToyTokens())
    yield {"rows": rows, "tokens": tokens}
    seqgen.domains.unregister(rows.name)
    seqgen.domains.unregister(tokens.name)


def pytest_configure(config):
    """Each pytest-xdist worker trains with one thread: two workers with two threads each on a 2-core machine
    spend their time waiting for each other's threads. Tests start runs from many sessions on one address (a
    real class has many addresses, or seats): the new-browser limit is raised, except where a test sets it. The
    AppTest sessions, live runs and import threads of a test process parse Python source at once, as the app's
    do: ast.parse takes one lock here as app.py makes it take in the app (seqgen/ui/threadsafe_ast.py)."""
    from seqgen.ui import threadsafe_ast

    threadsafe_ast.install()
    os.environ.setdefault("SEQGEN_NEW_BROWSERS_PER_ADDRESS", "1000")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Under pytest-xdist's `--dist loadgroup` (the README's test line) each browser test module runs whole on one
    worker, its tests one after another: its Chromium and any server it starts are made once, and the two class
    flows (four browsers each) never run at the same time. The library tests fill whichever worker is free.
    tryfirst: xdist's worker reads the groups in its own hook of this name, so the marks must be on the items
    before it runs (without it, no group was applied)."""
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.xdist_group(f"browser-{item.module.__name__}"))
