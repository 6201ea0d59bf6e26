"""Performance regression guards that need no timing: they count calls instead.

(a) Sampling runs the recurrent cell maths once per time step on the trained weights, never nn.LSTM / nn.GRU
    once per step (several times slower): one torch.lstm_cell / torch.gru_cell call per step and
    layer, the constant part of the input folded into the first layer's bias (Recurrent.stepper); a
    non-autoregressive decode of a whole latent grid is ONE fused call.
(b) Teacher-forced training runs each recurrent layer over the whole sequence batch in one call; the expected
    number of calls per train_step is derived from the architecture below.
(c) The latent explorer decodes once per rerun after a slider move (the new point) and never re-decodes the
    cached grid or re-encodes the cached map.
(d) A `train` process keeps the memory its steps free (seqgen.training.memory): a steady step takes no fresh
    pages from the kernel, where glibc's defaults can cost thousands of page faults a step.
(e) Starting the app (app.py, once per server process) imports, in the background, the modules the first page
    would otherwise import while a class waits behind it (seqgen.ui.import_ahead).
The timings themselves live in benchmarks/run.py and benchmarks/train_throughput.py.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from toy_domains import ToyRows, ToyTokens

from seqgen.models import ModelConfig, TrainConfig, build_model
from seqgen.presets import PRESETS, configure

DOMAINS = {"rows": ToyRows(), "tokens": ToyTokens()}
SMALL = dict(hidden=16, embed=8)


class Calls:
    """Counts fused recurrent-layer calls (nn.LSTM / nn.GRU forward) and single-step cell calls."""

    def __init__(self, monkeypatch):
        self.rnn: list[tuple[int, int]] = []   # (batch, steps) of every nn.LSTM / nn.GRU call
        self.cells = 0
        for cls in (nn.LSTM, nn.GRU):
            orig = cls.forward

            def forward(mod, x, *args, _orig=orig, **kw):
                shape = x.shape if not isinstance(x, nn.utils.rnn.PackedSequence) else (-1, -1)
                self.rnn.append((shape[0], shape[1]) if mod.batch_first else (shape[1], shape[0]))
                return _orig(mod, x, *args, **kw)
            monkeypatch.setattr(cls, "forward", forward)
        for name in ("lstm_cell", "gru_cell"):
            orig = getattr(torch, name)

            def cell(*args, _orig=orig, **kw):
                self.cells += 1
                return _orig(*args, **kw)
            monkeypatch.setattr(torch, name, cell)

    def reset(self):
        self.rnn.clear()
        self.cells = 0


@pytest.fixture
def calls(monkeypatch):
    return Calls(monkeypatch)


def toy_model(domain, family, **kw):
    return build_model(ModelConfig.for_domain(DOMAINS[domain], family, **{**SMALL, **kw}))


def preset_model(name):
    """A shipped preset's architecture and training options, shrunk to hidden 16 so the test is instant."""
    mc, tc, p = configure(name, model_overrides=SMALL)
    from seqgen import get_domain
    x, y = get_domain(p.domain).dataset("val")
    return build_model(mc), mc, tc, x[:8], y[:8]


GENERATORS = [n for n, p in PRESETS.items() if p.family in ("vae", "gan")]
TRAINABLE = [n for n, p in PRESETS.items() if p.family in ("vae", "gan", "lm", "classifier")]


# ----------------------------------------------------------------------------------------- (a) sampling
@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("domain", ["rows", "tokens"])
def test_autoregressive_decode_uses_cells_not_rnn_calls(calls, cell, layers, domain):
    d = DOMAINS[domain]
    m = toy_model(domain, "vae", cell=cell, layers=layers, latent=2, autoregressive=True).eval()
    calls.reset()
    m.decode(torch.randn(5, 2))
    assert calls.rnn == [], "autoregressive decoding must not call nn.LSTM/nn.GRU (once per step is 3-10x slower)"
    assert calls.cells == d.seq_len * layers, "one batched cell call per time step and layer"


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_sampled_token_decode_uses_cells(calls, cell):
    """Non-AR token VAE with temperature > 0 samples step by step: still cells, never the fused layer per step."""
    d = DOMAINS["tokens"]
    m = toy_model("tokens", "vae", cell=cell, latent=2, autoregressive=False).eval()
    calls.reset()
    m.decode(torch.randn(3, 2), temperature=1.0, generator=torch.Generator().manual_seed(0))
    assert calls.rnn == [] and calls.cells == d.seq_len  # one fused cell call per step


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_latent_grid_is_one_batched_call(calls, cell):
    """A 20x20 manifold grid of a non-autoregressive decoder: one fused call with all 400 points."""
    d = DOMAINS["rows"]
    m = toy_model("rows", "vae", cell=cell, latent=2, autoregressive=False).eval()
    lin = torch.linspace(-2, 2, 20)
    z = torch.stack(torch.meshgrid(lin, lin, indexing="xy"), -1).reshape(-1, 2)
    calls.reset()
    out = m.decode(z)
    assert out.shape[0] == 400
    assert calls.rnn == [(400, d.seq_len)] and calls.cells == 0


@pytest.mark.parametrize("name", GENERATORS)
def test_shipped_architectures_sample_without_per_step_rnn_calls(calls, name):
    m, mc, tc, x, y = preset_model(name)
    m.eval()
    label = torch.zeros(4, dtype=torch.long) if mc.conditional else None
    g = torch.Generator().manual_seed(0)
    calls.reset()
    if mc.family == "vae":
        m.decode(torch.randn(4, mc.latent), label)
    else:
        m.sample(4, label, generator=g)
    step_by_step = mc.discrete or (mc.family == "vae" and mc.autoregressive)
    if step_by_step:
        assert calls.rnn == [] and calls.cells == mc.seq_len * mc.layers
    else:
        assert calls.rnn == [(4, mc.seq_len)] and calls.cells == 0


# ----------------------------------------------------------------------------------------- (b) training
def expected_train_calls(mc: ModelConfig, tc: TrainConfig, step: int) -> tuple[int, int]:
    """(fused recurrent-layer calls, single-step cell calls) that one train_step should make, from the design:

    vae         encoder + teacher-forced decoder                                     -> 2 fused
    lm / classifier                                                                  -> 1 fused
    gan, discrete, step < mle_steps: teacher-forced generator (MLE pretraining)      -> 1 fused
    gan, adversarial, per D step: G(noise) [no grad] + D(real) + D(fake); then G step: G(noise) + D(fake)
        [+ D(real) for feature matching]. A continuous G is one fused call; a discrete (Gumbel-softmax) G feeds
        each sampled token back, so it runs T steps of cells per layer instead [+ one teacher-forced G pass when
        the likelihood term is kept (mle_weight > 0)].
    """
    fam = mc.family
    if fam == "vae":
        return 2, 0
    if fam in ("lm", "classifier"):
        return 1, 0
    if mc.discrete and step < tc.mle_steps:
        return 1, 0
    g_runs = tc.d_steps + 1
    d_runs = 2 * tc.d_steps + 1 + (1 if mc.feature_matching > 0 else 0)
    if mc.discrete:
        return d_runs + (1 if mc.mle_weight > 0 else 0), g_runs * mc.seq_len * mc.layers
    return d_runs + g_runs, 0


def _train_case_ids():
    out = []
    for n in TRAINABLE:
        mc, tc, _ = configure(n, model_overrides=SMALL)
        out.append((n, 10 ** 9))
        if mc.family == "gan" and mc.discrete and tc.mle_steps > 0:
            out.append((n, 0))
    return out


@pytest.mark.parametrize("name,step", _train_case_ids())
def test_training_runs_each_recurrent_layer_once_per_batch(calls, name, step):
    m, mc, tc, x, y = preset_model(name)
    m.train()
    opt = m.configure_optimizers(tc)
    calls.reset()
    m.train_step(x, y, step, opt, tc)
    fused, cells = expected_train_calls(mc, tc, step)
    assert len(calls.rnn) == fused, f"{name}: {len(calls.rnn)} fused recurrent calls, expected {fused}"
    assert all(b == len(x) and t == mc.seq_len for b, t in calls.rnn), \
        f"{name}: every fused call covers the whole batch and sequence, got {calls.rnn}"
    assert calls.cells == cells, f"{name}: {calls.cells} cell calls, expected {cells}"


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("domain", ["rows", "tokens"])
@pytest.mark.parametrize("family", ["vae", "gan"])
def test_training_call_counts_toy(calls, cell, domain, family):
    """Same guard on both cell types and both kinds of domain, with extra D steps and feature matching."""
    kw = dict(cell=cell, layers=2)
    if family == "gan":
        kw.update(feature_matching=1.0)
    m = toy_model(domain, family, **kw).train()
    tc = TrainConfig(d_steps=2, mle_steps=0)
    x, y = DOMAINS[domain].dataset("train")
    opt = m.configure_optimizers(tc)
    calls.reset()
    m.train_step(x[:8], y[:8], 10 ** 9, opt, tc)
    fused, cells = expected_train_calls(m.cfg, tc, 10 ** 9)
    assert (len(calls.rnn), calls.cells) == (fused, cells)


@pytest.mark.parametrize("family, domain", [("vae", "rows"), ("gan", "rows"), ("lm", "tokens"),
                                            ("classifier", "rows")])
def test_every_optimizer_updates_all_its_parameters_in_one_fused_kernel(family, domain):
    """The optimizer step is a fixed cost that every process of a torchrun launch pays in full, so it is kept
    to one fused Adam kernel per optimizer, not a chain of small foreach ops."""
    optimizers = toy_model(domain, family).configure_optimizers(TrainConfig())
    assert optimizers and all(isinstance(o, torch.optim.Adam) and o.defaults["fused"] for o in optimizers.values())


# ------------------------------------------------------------------------------------ (d) a training process
STEP_FAULTS = """
import json, resource, sys
import seqgen, torch
from seqgen.domains import get_domain
from seqgen.models import build_model
from seqgen.presets import configure
from seqgen.training import Trainer
from seqgen.training.memory import keep_freed_memory
torch.set_num_threads(1)
kept = keep_freed_memory()
model_cfg, train_cfg, _ = configure("digits-vae")
train_cfg.eval_every = 10**9
trainer = Trainer(build_model(model_cfg), get_domain("digits"), train_cfg, device="cpu")
trainer.run_steps(10)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
trainer.run_steps(20)
print(json.dumps({"kept": kept, "faults_per_step": (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc settings")
def test_a_training_step_takes_no_fresh_pages_from_the_kernel():
    done = subprocess.run([sys.executable, "-c", STEP_FAULTS], cwd=Path(__file__).resolve().parent.parent,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["kept"]
    assert result["faults_per_step"] < 20, result  # thousands when every step maps its buffers afresh


def test_the_train_command_keeps_freed_memory(monkeypatch, tmp_path):
    from seqgen.cli import main
    from seqgen.training import memory
    kept = []
    monkeypatch.setattr(memory, "keep_freed_memory", lambda: kept.append(True) or True)
    assert main(["train", "--preset", "digits-vae", "--hidden", "16", "--steps", "2", "--threads", "1",
                 "--quiet", "--out", str(tmp_path)]) == 0
    assert kept == [True]


# ----------------------------------------------------------------------------------------- (c) the app
EXPLORER = "pages/1_latent_explorer.py"


def _explorer_models():
    try:
        import seqgen
        rows = seqgen.list_checkpoints()
    except Exception:  # noqa: BLE001 - no models to list: nothing to parametrize
        return []
    return [r["name"] for r in rows if r.get("shipped") and r.get("family") == "vae" and "error" not in r]


@pytest.fixture
def explorer_app():
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    if not (root / EXPLORER).exists():
        pytest.skip(f"{EXPLORER} does not exist")
    st = pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest
    st.cache_data.clear()
    st.cache_resource.clear()
    yield lambda: AppTest.from_file(str(root / EXPLORER), default_timeout=120)
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.mark.parametrize("model_name", _explorer_models() or ["digits-vae"])
def test_explorer_decodes_once_per_slider_move(explorer_app, monkeypatch, model_name):
    """After a slider move: exactly one decoder call (the new point, batch 1); the grid, the interpolation and
    the map are cached (no batched decode, no encoder call)."""
    from seqgen.models.vae import RNNVAE
    decodes: list[int] = []
    encodes: list[int] = []
    orig_decode, orig_encode = RNNVAE.decode, RNNVAE.encode

    def decode(self, z, *a, **kw):
        decodes.append(len(z))
        return orig_decode(self, z, *a, **kw)

    def encode(self, x, *a, **kw):
        encodes.append(len(x))
        return orig_encode(self, x, *a, **kw)
    monkeypatch.setattr(RNNVAE, "decode", decode)
    monkeypatch.setattr(RNNVAE, "encode", encode)

    at = explorer_app()
    at.session_state["le_model"] = model_name
    at.session_state["le_classic"] = True      # the server-side sliders (the pad decodes in the browser)
    at.run()
    assert not at.exception, at.exception
    assert decodes, "the first run decodes something"
    for value in (0.5, -1.25, 2.0):
        decodes.clear()
        encodes.clear()
        at.slider(key="le_z0").set_value(value).run()
        assert not at.exception, at.exception
        assert decodes == [1], f"{model_name}: slider move -> decoder calls with batch sizes {decodes}, expected [1]"
        assert encodes == [], f"{model_name}: the encoded map must come from the cache, got encoder calls {encodes}"
    decodes.clear()
    at.slider(key="le_z1").set_value(-0.75).run()
    assert decodes == [1]



def test_starting_the_app_imports_what_the_first_page_would_wait_for():
    """A fresh interpreter: importing app.py (what `streamlit run` does once per server process) imports onnx,
    the latent pad's decoder check that the class benchmark caught, and the rest of import_ahead.AHEAD on a
    thread of its own, before any page runs."""
    code = ("import json, sys; import app; from seqgen.ui import import_ahead as ia; thread = ia.started(); "
            "thread and thread.join(120); print(json.dumps({'started': thread is not None, 'ahead': ia.AHEAD, "
            "'missing': [m for m in ia.AHEAD if m not in sys.modules]}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1], capture_output=True,
                         text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["started"], "app.py did not start seqgen.ui.import_ahead"
    assert "onnx" in result["ahead"]
    assert result["missing"] == []
