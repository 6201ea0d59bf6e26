import pytest
import torch
import torch.nn.functional as F
from toy_domains import ToyRows, ToyTokens

from seqgen.models import ModelConfig, TrainConfig, build_model
from seqgen.models.recurrent import Recurrent

DOMAINS = {"rows": ToyRows(), "tokens": ToyTokens()}


def make(domain, family, **kw):
    kw.setdefault("hidden", 16)
    kw.setdefault("embed", 8)
    return build_model(ModelConfig.for_domain(DOMAINS[domain], family, **kw))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_step_matches_full_sequence(cell, layers):
    """The sampling path (cell maths per step) must compute exactly what the fused layer computes."""
    torch.manual_seed(0)
    rnn = Recurrent(cell, 5, 7, layers)
    x = torch.randn(3, 6, 5)
    state = rnn.initial_state(torch.randn(3, rnn.state_size))
    full, _ = rnn(x, state)
    outs, s = [], state
    for t in range(6):
        h, s = rnn.step(x[:, t], s)
        outs.append(h)
    assert torch.allclose(torch.stack(outs, 1), full, atol=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("domain", ["rows", "tokens"])
@pytest.mark.parametrize("autoregressive", [False, True])
def test_vae_shapes(cell, domain, autoregressive):
    d = DOMAINS[domain]
    m = make(domain, "vae", cell=cell, latent=3, autoregressive=autoregressive).eval()
    x, _ = d.dataset("val")
    mu, logvar = m.encode(x[:5])
    assert mu.shape == logvar.shape == (5, 3)
    out = m.decode(mu)
    expect = (5, d.seq_len, d.n_features) if not d.discrete else (5, d.seq_len)
    assert out.shape == expect
    if d.discrete:
        assert out.dtype == torch.long and out.max() < d.n_features
    else:
        assert 0 <= out.min() and out.max() <= 1
    assert m.sample(4, temperature=1.0, generator=torch.Generator().manual_seed(0)).shape[0] == 4
    assert m.reconstruct(x[:2]).shape[0] == 2


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("domain", ["rows", "tokens"])
@pytest.mark.parametrize("conditional", [False, True])
def test_gan_shapes_and_seeding(cell, domain, conditional):
    d = DOMAINS[domain]
    m = make(domain, "gan", cell=cell, conditional=conditional).eval()
    label = torch.tensor([0, 1, 2, 1])[: 4] % d.n_labels if conditional else None
    a = m.sample(4, label, generator=torch.Generator().manual_seed(7))
    b = m.sample(4, label, generator=torch.Generator().manual_seed(7))
    c = m.sample(4, label, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b), "same seed must give the same samples"
    assert not torch.equal(a, c)
    assert a.shape == ((4, d.seq_len, d.n_features) if not d.discrete else (4, d.seq_len))
    seq, hidden = m.sample(4, label, generator=torch.Generator().manual_seed(7), return_hidden=True)
    assert torch.equal(seq, a) and hidden.shape == (4, d.seq_len, 16)


def test_conditional_gan_requires_label():
    m = make("rows", "gan", conditional=True)
    with pytest.raises(ValueError, match="label"):
        m.sample(2)


@pytest.mark.parametrize("domain", ["rows", "tokens"])
def test_vae_loss_falls_on_tiny_dataset(domain):
    torch.manual_seed(0)
    d = DOMAINS[domain]
    m = make(domain, "vae", latent=2, hidden=32, autoregressive=d.discrete)
    train = TrainConfig(steps=150, lr=1e-2)
    opts = m.configure_optimizers(train)
    x, y = d.dataset("train")
    before = m.evaluate(x, y)["neg_elbo"]
    for step in range(150):
        m.train_step(x, y, step, opts, train)
    after = m.evaluate(x, y)["neg_elbo"]
    assert after < 0.7 * before, (before, after)


@pytest.mark.parametrize("domain", ["rows", "tokens"])
def test_gan_step_changes_both_networks(domain):
    torch.manual_seed(0)
    d = DOMAINS[domain]
    m = make(domain, "gan", conditional=True, feature_matching=1.0)
    train = TrainConfig(lr=1e-3)
    opts = m.configure_optimizers(train)
    g0 = [p.detach().clone() for p in m.generator.parameters()]
    d0 = [p.detach().clone() for p in m.discriminator.parameters()]
    x, y = d.dataset("train")
    stats = m.train_step(x[:16], y[:16], 0, opts, train)
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= stats.keys()
    assert any(not torch.equal(a, b) for a, b in zip(g0, m.generator.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d0, m.discriminator.parameters()))


def test_mle_weight_keeps_likelihood_in_the_adversarial_generator_loss():
    torch.manual_seed(0)
    x, y = DOMAINS["tokens"].dataset("train")
    losses = {}
    for w in (0.0, 1.0):
        torch.manual_seed(0)
        m = make("tokens", "gan", mle_weight=w)
        train = TrainConfig(lr=1e-3)
        losses[w] = m.train_step(x[:16], y[:16], 0, m.configure_optimizers(train), train)["g_loss"]
    assert losses[1.0] > losses[0.0] + 1.0  # the CE term (about log 10 nats at init) is in the loss


def test_mode_seeking_spreads_samples_of_one_label():
    """MSGAN term: trained on it alone (adversarial terms swamped), two noises with the same label
    must give outputs further apart than at the start."""
    x, y = DOMAINS["rows"].dataset("train")
    m = make("rows", "gan", conditional=True, mode_seeking=100.0)
    label = torch.zeros(32, dtype=torch.long)
    g = torch.Generator().manual_seed(0)
    noise_a, noise_b = m.generator.noise(32, g), m.generator.noise(32, g)

    def gap():
        with torch.no_grad():
            return float((m.generator(*noise_a, label) - m.generator(*noise_b, label)).abs().mean())

    before = gap()
    train = TrainConfig(lr=3e-3)
    opts = m.configure_optimizers(train)
    for step in range(30):
        m.train_step(x[:32], y[:32], step, opts, train)
    assert gap() > 1.5 * before


def test_minibatch_std_lets_the_discriminator_see_the_batch():
    m = make("rows", "gan", minibatch_std=True).eval()
    x, _ = DOMAINS["rows"].dataset("train")
    with torch.no_grad():
        alone = m.discriminator(x[:1])[0]                      # a batch of one works (spread 0)
        varied = m.discriminator(x[:8])[0][0]
        same = m.discriminator(x[:1].expand(8, -1, -1))[0][0]  # a collapsed batch: spread 0 again
    assert torch.isfinite(alone).all()
    assert torch.allclose(same, alone[0], atol=1e-5)
    assert not torch.allclose(varied, same, atol=1e-5)


def test_discrete_gan_mle_pretraining_only_moves_generator():
    m = make("tokens", "gan")
    train = TrainConfig(lr=1e-3, mle_steps=5)
    opts = m.configure_optimizers(train)
    d0 = [p.detach().clone() for p in m.discriminator.parameters()]
    x, y = DOMAINS["tokens"].dataset("train")
    stats = m.train_step(x[:16], y[:16], 0, opts, train)
    assert "mle" in stats
    assert all(torch.equal(a, b) for a, b in zip(d0, m.discriminator.parameters()))


def test_reference_models():
    lm = make("tokens", "lm")
    x, y = DOMAINS["tokens"].dataset("val")
    assert lm.evaluate(x, y)["nll_per_token"] > 0
    clf = make("rows", "classifier")
    xr, yr = DOMAINS["rows"].dataset("val")
    assert clf.predict(xr).shape == yr.shape


def test_config_json_round_trip_and_validation():
    cfg = ModelConfig.for_domain(ToyTokens(), "vae", latent=5, word_dropout=0.2)
    assert ModelConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(ValueError, match="unknown field"):
        ModelConfig.from_dict({**cfg.to_dict(), "bogus": 1})
    with pytest.raises(ValueError, match="cell"):
        ModelConfig.from_dict({**cfg.to_dict(), "cell": "rnn"})
    with pytest.raises(ValueError, match="no labels"):
        ModelConfig.from_dict({**cfg.to_dict(), "n_labels": 0, "conditional": True})


@pytest.mark.parametrize("domain", ["rows", "tokens"])
def test_importance_weighted_nll_is_tighter_than_elbo(domain):
    d = DOMAINS[domain]
    torch.manual_seed(0)
    m = make(domain, "vae", autoregressive=True).eval()
    x, y = d.dataset("val")
    stats = m.evaluate(x, y, iw_samples=16)
    assert 0 < stats["nll_iw"] <= stats["neg_elbo"] + 1e-3


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_stepper_matches_step(cell, layers):
    """Three steps with the constant input part folded into a per-row bias give exactly the plain cell steps."""
    torch.manual_seed(0)
    rnn = Recurrent(cell, 5, 7, layers)
    const = torch.randn(3, 2)                                   # input columns 0-1: constant over time
    xs = torch.randn(3, 3, 3)                                   # columns 2-4: a new value each step
    state = rnn.initial_state(torch.randn(3, rnn.state_size))
    w_ih, b_ih = rnn.input_weights()
    step = rnn.stepper(state, w_ih[:, 2:], torch.addmm(b_ih, const, w_ih[:, :2].t()))
    for t in range(3):
        h_fast = step(xs[:, t])
        h_ref, state = rnn.step(torch.cat([const, xs[:, t]], -1), state)
        assert torch.allclose(h_fast, h_ref, atol=1e-6)
    for a, b in zip(step.state if isinstance(state, tuple) else (step.state,), state if isinstance(state, tuple) else (state,)):
        assert a.shape == b.shape and torch.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("domain", ["rows", "tokens"])
def test_greedy_decode_agrees_with_teacher_forcing(cell, domain):
    """Fed its own greedy output, the teacher-forced decoder must predict that same output at every step:
    the fast sampling loop and the fused training path compute one model."""
    torch.manual_seed(0)
    m = make(domain, "vae", cell=cell, layers=2, autoregressive=True).eval()
    z = torch.randn(6, 2)
    out = m.decode(z)
    with torch.no_grad():
        logits, _ = m.decode_logits(z, out)
    if DOMAINS[domain].discrete:
        assert torch.equal(logits.argmax(-1), out)
    else:
        assert torch.allclose(torch.sigmoid(logits), out, atol=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gan_token_sampling_matches_its_training_path(cell):
    """Greedy sampling (fast projected loop) equals the generator's teacher-forced argmax on its own output."""
    torch.manual_seed(0)
    m = make("tokens", "gan", cell=cell, layers=2).eval()
    g = torch.Generator().manual_seed(3)
    z, steps = m.generator.noise(5, g)
    out = m.sample(5, temperature=0.0, noise=(z, steps))
    with torch.no_grad():
        logits = m.generator.mle_logits(out, z, steps)
    assert torch.equal(logits.argmax(-1), out)


def test_soft_reconstruction_target_scores_the_values_themselves():
    """A continuous VAE scores its reconstruction against the data thresholded at 0.5 ("binary", what every
    earlier checkpoint was trained with, so a config without the field keeps it) or against the grey levels
    themselves ("soft"), which a spectrogram needs: its quiet parts are not silence."""
    d = DOMAINS["rows"]
    x, y = d.dataset("train")
    old = ModelConfig.for_domain(d, "vae", hidden=16).to_dict()
    del old["reconstruction_target"]
    assert ModelConfig.from_dict(old).reconstruction_target == "binary"
    with pytest.raises(ValueError, match="reconstruction_target"):
        ModelConfig.from_dict({**old, "reconstruction_target": "grey"})

    def train(target):
        torch.manual_seed(0)
        m = make("rows", "vae", latent=2, hidden=32, reconstruction_target=target)
        m.eval()
        recon, _, _ = m._terms(x, y, sample_z=False)
        with torch.no_grad():
            logits, _ = m.decode_logits(m.encode(x)[0], x)
        expected = F.binary_cross_entropy_with_logits(logits, x if target == "soft" else (x > 0.5).float(),
                                                      reduction="none").sum((1, 2))
        assert torch.allclose(recon, expected, atol=1e-4)
        m.train()
        settings = TrainConfig(steps=150, lr=1e-2)
        opts = m.configure_optimizers(settings)
        for step in range(150):
            m.train_step(x, y, step, opts, settings)
        return m.eval().reconstruct(x)

    # Off the lit column the toy rows hold faint values (0-0.2, mean 0.1): a soft target learns them,
    # a binary one learns that they are 0.
    lit = torch.zeros_like(x, dtype=torch.bool)
    lit[torch.arange(len(x)), :, y * 2] = True
    faint = {t: float(train(t)[~lit].mean()) for t in ("binary", "soft")}
    assert abs(faint["soft"] - float(x[~lit].mean())) < 0.03, faint
    assert faint["binary"] < 0.03, faint
