"""What a class clicks most reruns only its own section of the page (an st.fragment), so the server does not
redraw the rest: a new melody (Music), a new batch and a typed name (Text), a point the latent pad sends
back. Checked over Streamlit's own protocol (benchmarks/st_client.py) against `streamlit run app.py`:
each widget arrives inside a fragment, the rerun it asks for is that fragment's, and it draws what it should.
benchmarks/load.py measures what this saves (benchmarks/README.md)."""
from __future__ import annotations

import asyncio

import pytest
from st_helpers import REPO, script_module

st_client = script_module("st_client", REPO / "benchmarks" / "st_client.py")
e2e_helpers = script_module("e2e_helpers", REPO / "tests" / "e2e" / "e2e_helpers.py")


@pytest.fixture(scope="module")
def server():
    with e2e_helpers.streamlit_server() as url:
        yield url


async def _click(base: str, page: str, query: str, key: str, **value):
    """Open the page, then set one widget -> (the widget's fragment id, the run it caused)."""
    session = st_client.Session(base, page, query)
    try:
        first = await session.open(timeout=120)
        assert not first.errors and first.finished is not None, first.errors
        fragment = session.fragment_of[session.by_key[key]]
        run = await session.set_widget(key, **value)
        assert not run.errors and run.finished is not None, run.errors
        return fragment, run
    finally:
        await session.close()


@pytest.mark.parametrize("page, query, key, value, makes", [
    ("music", "", "mu_new", {"trigger_value": True}, "audio"),
    ("text", "", "tx_new", {"trigger_value": True}, "finished"),
    ("text", "", "tx_name", {"string_value": "Maria"}, "finished"),
    ("latent", "model=digits-vae&z=0.00,0.00", "le_pad", {"json_value": {"z": [0.5, -0.5]}}, "url"),
])
def test_a_new_melody_a_new_batch_a_typed_name_and_the_pads_point_rerun_only_their_section(server, page, query, key, value, makes):
    fragment, run = asyncio.run(_click(server, page, query, key, **value))
    assert fragment, f"{key} is drawn outside any fragment: every click would redraw the whole page"
    assert run.fragment == fragment                  # the rerun was that fragment's alone
    if makes == "audio":
        assert run.audio and run.first_media is not None     # the new melody's sound, fetched
    if makes == "url":
        assert run.url is not None                           # the point went to the address bar


def test_the_tempo_is_page_wide_and_reruns_the_whole_page(server):
    """The start section's players play at the page's tempo too, so a tempo change redraws them."""
    fragment, run = asyncio.run(_click(server, "music", "", "mu_tempo", double_array_value=[120.0]))
    assert fragment == "" and run.fragment == ""
    assert len(run.audio) >= 2            # the melody's player and the start section's players, at 120 BPM
