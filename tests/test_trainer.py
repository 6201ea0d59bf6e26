import threading
import warnings

import pytest
import torch
from toy_domains import ToyRows, ToyTokens

from seqgen.models import ModelConfig, TrainConfig, build_model
from seqgen.training import Trainer, TrainingDiverged
from seqgen.training.trainer import cpu_has_bf16


def vae(domain=None, **kw):
    domain = domain or ToyRows()
    return build_model(ModelConfig.for_domain(domain, "vae", hidden=16, embed=8, **kw)), domain


def test_events_history_and_best_weights():
    model, domain = vae()
    events = []
    result = Trainer(model, domain, TrainConfig(steps=30, eval_every=10, lr=5e-3), callbacks=[events.append]).fit()
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    assert kinds.count("step") == 30 and kinds.count("eval") == 3
    ev = [e for e in events if e.kind == "eval"]
    assert ev[0].samples.shape == (16, 8, 6)  # fixed-noise preview
    assert result.status == "done" and result.steps == 30 and len(result.history) == 30
    assert result.best["neg_elbo"] == min(r["neg_elbo"] for r in result.validation)


def test_same_seed_same_run():
    runs = []
    for _ in range(2):
        torch.manual_seed(123)  # model init is seeded separately from the trainer
        model, domain = vae()
        runs.append(Trainer(model, domain, TrainConfig(steps=10, seed=5)).fit().history[-1]["loss"])
    assert runs[0] == runs[1]


@pytest.mark.parametrize("family", ["vae", "gan"])
def test_the_learning_rate_cools_down_over_the_last_steps(family):
    domain = ToyRows()
    model = build_model(ModelConfig.for_domain(domain, family, hidden=16, embed=8))
    trainer = Trainer(model, domain, TrainConfig(steps=10, lr=1e-2, lr_d=2e-2 if family == "gan" else None,
                                                 lr_cooldown=4, eval_every=100))
    seen = []
    for _ in range(10):
        trainer.run_steps(1)
        seen.append([opt.param_groups[0]["lr"] for opt in trainer.optimizers.values()])
    first = seen[0]
    assert seen[:7] == [first] * 7                       # steps 1-6 at the full rate, the cooldown starts at 6
    for before, after in zip(seen[6:], seen[7:]):
        assert all(a < b for a, b in zip(after, before))  # then falls every step, every optimiser
    assert [round(lr / f, 6) for lr, f in zip(seen[-1], first)] == [round(1 - 0.9 * 3 / 4, 6)] * len(first)


def test_no_cooldown_keeps_the_rate():
    model, domain = vae()
    trainer = Trainer(model, domain, TrainConfig(steps=5, lr=3e-3, eval_every=100))
    trainer.run_steps(5)
    assert trainer.optimizers["model"].param_groups[0]["lr"] == 3e-3


def test_nan_stops_with_clear_message():
    model, domain = vae()
    with pytest.raises(TrainingDiverged, match="learning rate"):
        Trainer(model, domain, TrainConfig(steps=200, lr=1e9, grad_clip=1e12)).fit()


def test_stop_from_another_thread():
    model, domain = vae()
    stop = threading.Event()
    trainer = Trainer(model, domain, TrainConfig(steps=10**6), stop_event=stop,
                      callbacks=[lambda e: e.step >= 5 and stop.set()])
    result = trainer.fit()
    assert result.status == "stopped" and 5 <= result.steps < 10


def test_patience_stops_a_run_whose_held_out_figure_stopped_improving_and_keeps_the_best_weights():
    model, domain = vae()
    figures = iter([5.0, 4.0, 4.5, 4.2, 4.1] + [9.0] * 100)     # best at the second pass, then never better
    best_weights = {}

    def evaluate(x, y):
        value = next(figures)
        if value == 4.0:
            best_weights.update({k: v.clone() for k, v in model.state_dict().items()})
        return {"neg_elbo": value}

    model.evaluate = evaluate
    result = Trainer(model, domain, TrainConfig(steps=1000, eval_every=5, lr=5e-3, patience=3)).fit()
    assert result.status == "no_better" and result.steps == 25          # passes at 5 .. 25: three after the best
    assert result.best["neg_elbo"] == 4.0 and result.best["step"] == 10
    assert all(torch.equal(model.state_dict()[k], v) for k, v in best_weights.items())
    never = Trainer(*vae(), TrainConfig(steps=30, eval_every=5, lr=5e-3)).fit()
    assert never.status == "done"                                        # patience 0: no early stop


def test_time_budget():
    model, domain = vae(ToyTokens(), autoregressive=True)
    result = Trainer(model, domain, TrainConfig(steps=10**6, max_minutes=0.02)).fit()
    assert result.status == "time_budget" and result.elapsed >= 1.2


def test_full_data_is_refused_with_a_message_where_a_domain_has_none(toy_domains):
    from seqgen.models import ModelConfig, TrainConfig, build_model
    from seqgen.training import Trainer
    domain = toy_domains["rows"]
    model = build_model(ModelConfig.for_domain(domain, "vae", hidden=8))
    with pytest.raises(ValueError, match="no 'full' data"):
        Trainer(model, domain, TrainConfig(steps=1, data="full"))


@pytest.mark.parametrize("flags, mode, expected, warns", [
    ("fpu sse avx2 fma avx512f", "auto", False, False),     # bf16 only emulated: float32
    ("fpu sse avx2 fma avx512f", "on", False, True),        # asked for, cannot have it: says so
    ("fpu avx2 avx512f avx512_bf16", "auto", False, False),  # faster steps, no better in the same time
    ("fpu avx2 avx512f avx512_bf16", "on", True, False),
    ("fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile", "auto", False, False),  # AMX: the same trade
    ("fpu avx2 avx512f amx_bf16 amx_tile", "on", True, False),
    ("fpu avx2 avx512f avx512_bf16", "off", False, False),
])
def test_bf16_on_needs_cpu_support_and_auto_stays_float32_on_cpus(monkeypatch, flags, mode, expected, warns):
    from seqgen.training import trainer

    monkeypatch.setattr(trainer, "_cpu_flags", lambda: f"processor : 0\nflags\t\t: {flags}\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert trainer.use_bf16(TrainConfig(bf16=mode), torch.device("cpu")) is expected
    assert any("no bfloat16 instructions" in str(w.message) for w in caught) is warns


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no bfloat16 instructions")
def test_bf16_on_trains_under_autocast_on_a_cpu_with_bfloat16():
    """The trainer decides the precision once, and the model's recurrent layers really run in bfloat16."""
    model, domain = vae()
    seen = []
    model.decoder.register_forward_hook(lambda module, args, out: seen.append(out[0].dtype))
    t = Trainer(model, domain, TrainConfig(steps=2, batch_size=8, eval_every=100, bf16="on"))
    assert t.bf16
    t.run_steps(1)
    assert seen == [torch.bfloat16]
