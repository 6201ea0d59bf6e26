"""What a class clicks most reruns only its own section of the page (an st.fragment), so the server does not
redraw the rest: a new melody, its tempo and instrument (Music), a new batch and a typed name (Text), a point
the latent pad sends back. Checked over Streamlit's own protocol (benchmarks/st_client.py) against `streamlit
run app.py`: each widget arrives inside a fragment, the rerun it asks for is that fragment's, and it draws what
it should.
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
    ("music", "", "mu_tempo", {"double_array_value": [120.0]}, "one sound"),
    ("music", "", "mu_instrument", {"string_value": "organ"}, "one sound"),
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
    if makes == "one sound":
        assert len(run.audio) == 1 and run.first_media is not None   # the melody's, not the start section's
    if makes == "url":
        assert run.url is not None                           # the point went to the address bar


def test_the_start_sections_tempo_is_its_own(server):
    """The start section's players have a tempo of their own: changing it replays them, and the melody above
    keeps the sound it had."""
    async def change():
        session = st_client.Session(server, "music", "")
        try:
            first = await session.open(timeout=120)
            assert not first.errors and len(first.audio) >= 2, first.errors
            run = await session.set_widget("own_mel_tempo", double_array_value=[150.0])
            assert not run.errors and run.finished is not None, run.errors
            return first.audio, run.audio
        finally:
            await session.close()

    before, after = asyncio.run(change())
    assert after[0] == before[0]                  # the melody's sound: the same file
    assert set(after[1:]).isdisjoint(before[1:])  # every start player's sound: new, at 150 BPM
