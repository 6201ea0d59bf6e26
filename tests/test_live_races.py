"""Run slots under racing buttons: however fast Start, Step once, Pause, Resume and Stop arrive, from one tab
or several tabs of one browser, no run is left training without the tab that owns it, and no browser holds
more runs than its cap. The presses go through RunManager.press, the same call the Live training page's
buttons make; the runs are real TrainingRuns of the tiny toy domain.
"""
from __future__ import annotations

import random
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqgen.training.live import RunManager, TrainingRun
from seqgen.training.live.manager import BUTTONS, TooManyRuns

SEQUENCES = 1000
TABS = {"tab-a1": "browser:a", "tab-a2": "browser:a", "tab-b": "browser:b"}   # two tabs of one browser, one other
TINY = dict(hidden=8, embed=4, batch_size=8, lr=5e-3, steps=10**6)

presses = st.lists(st.tuples(st.sampled_from(sorted(TABS)), st.sampled_from(BUTTONS)), min_size=1, max_size=12)


@pytest.fixture(autouse=True)
def _toys(toy_domains):
    return toy_domains


def press_all(manager: RunManager, sequence, threads: int, seed: int) -> list[BaseException]:
    """Fire the presses from `threads` threads released together, with no gap between presses: each press goes
    to a random thread, so one tab's presses race each other too (a stronger race than one Streamlit tab makes)."""
    lanes = [[] for _ in range(threads)]
    rng = random.Random(seed)
    for item in sequence:
        lanes[rng.randrange(threads)].append(item)
    gate, errors = threading.Barrier(threads), []

    def lane(items):
        gate.wait()
        for tab, button in items:
            try:
                manager.press(tab, button, lambda tab=tab: TrainingRun(
                    "toy_rows", "vae", TINY, manager=manager, client=TABS[tab], preview_every=10**6))
            except TooManyRuns:
                pass                          # the page shows "you already have a run going"
            except BaseException as e:        # noqa: BLE001 - reported by the test
                errors.append(e)

    workers = [threading.Thread(target=lane, args=(items,)) for items in lanes]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    return errors


def held(manager: RunManager) -> list:
    runs = manager.runs()
    return [r for r in [*runs["active"], *runs["queued"]] if not r.stopping]


@pytest.mark.slow  # 1,000 sequences: about 20 s
def test_racing_presses_leave_no_run_without_its_tab():
    examples = 0

    @settings(max_examples=SEQUENCES, deadline=None, database=None, derandomize=True)
    @given(sequence=presses, threads=st.integers(1, 3), seed=st.integers(0, 2**16), per_client=st.integers(1, 2))
    def one_sequence(sequence, threads, seed, per_client):
        nonlocal examples
        # two runs per browser: then only the manager's one-run-per-tab rule keeps a second Start from a tab
        # from replacing (and so orphaning) its first run
        manager = RunManager(max_runs=2, idle_timeout=600, max_per_client=per_client)
        try:
            errors = press_all(manager, sequence, threads, seed)
            assert not errors, errors
            runs = held(manager)
            owned = {tab: manager.run_of(tab) for tab in TABS}
            orphans = [r for r in runs if r not in owned.values()]
            assert not orphans, (sequence, [r.run_id for r in orphans])
            for client in set(TABS.values()):
                assert sum(r.client == client for r in runs) <= manager.max_per_client, sequence
        finally:
            manager.shutdown()
        examples += 1

    one_sequence()
    assert examples >= SEQUENCES


def test_start_twice_with_no_gap_makes_one_run():
    manager = RunManager(max_runs=4, idle_timeout=600, max_per_client=4)
    try:
        assert not press_all(manager, [("tab-a1", "start")] * 8, threads=8, seed=0)
        assert len(held(manager)) == 1 and held(manager) == [manager.run_of("tab-a1")]
        assert not press_all(manager, [("tab-a1", "start"), ("tab-a1", "stop"), ("tab-a1", "start")], 1, 0)
        assert held(manager) == [manager.run_of("tab-a1")]          # Start-Stop-Start: one run, the newest
    finally:
        manager.shutdown()
