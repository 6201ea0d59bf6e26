"""Fixtures shared by the test modules."""
from __future__ import annotations

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
