import threading

import pytest
import torch

from seqgen.models import ModelConfig, TrainConfig, build_model
from seqgen.training import Trainer, TrainingDiverged
from toy_domains import ToyRows, ToyTokens


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
