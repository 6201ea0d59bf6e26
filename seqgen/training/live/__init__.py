"""Live mini-training: a run in a background thread that a UI (the Streamlit Live training page, a notebook,
a benchmark) watches through immutable snapshots. No Streamlit here.

    knobs.py     the knobs (config settings with live metadata) and the configs of a run
    manager.py   RunManager: training slots, the queue, stopping abandoned runs
    run.py       TrainingRun: the thread, pause / step / stop, snapshots, saving
    snapshot.py  Snapshot and the downsampled loss series
"""
from ..publish import check_save_name, reserved_names
from .knobs import FAMILIES, KNOB_BY_NAME, KNOBS, Knob, build_configs, describe_knobs, knobs_for, live_defaults
from .manager import RunManager, get_manager
from .run import LATENT_BATCH, TrainingRun
from .snapshot import ACTIVE, FINISHED, Snapshot

__all__ = ["ACTIVE", "FAMILIES", "FINISHED", "KNOBS", "KNOB_BY_NAME", "LATENT_BATCH", "Knob", "RunManager",
           "Snapshot", "TrainingRun", "build_configs", "check_save_name", "describe_knobs", "get_manager",
           "knobs_for", "live_defaults", "reserved_names"]
