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
    real class has many addresses, or seats): the new-browser limit is raised, except where a test sets it."""
    os.environ.setdefault("SEQGEN_NEW_BROWSERS_PER_ADDRESS", "1000")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)


def pytest_collection_modifyitems(items):
    """Under pytest-xdist's `--dist loadgroup` (the README's test line) the browser tests that share one app server
    run on one worker, one after another; each module that starts servers of its own (the class, the doors, live
    training) runs whole on one worker, its tests after one another; the library tests fill whichever worker is
    free. So at most two browser modules run at once, and the modules spread over both workers."""
    for item in items:
        if item.get_closest_marker("e2e"):
            shared = "app_server" in getattr(item, "fixturenames", ())
            item.add_marker(pytest.mark.xdist_group("browser" if shared else f"browser-own-server-{item.module.__name__}"))
