"""What the Live training page's diagnostics say about a short live-preset digits GAN run, at the checks the
page makes (every 25 steps): run in a process of its own by tests/test_lessons.py, so that two runs train side
by side on two cores."""
import torch

from seqgen.domains import get_domain
from seqgen.models import build_model
from seqgen.presets import configure
from seqgen.training.live.diagnostics import Checkup, read
from seqgen.training.trainer import Trainer


def findings_at_checks(preset: str, seed: int = 0, steps: int = 350, first: int = 300, every: int = 25) -> dict:
    """{step: (finding codes, largest class share, distinct digits among ten samples asked 0-9)} at every
    `every` steps from `first` to `steps` (one thread, as the page trains)."""
    torch.set_num_threads(1)     # one thread: the same run on every machine
    model_cfg, train_cfg, _ = configure(preset)
    train_cfg.eval_every, train_cfg.seed = 10**6, seed
    torch.manual_seed(seed)
    model = build_model(model_cfg)
    trainer = Trainer(model, get_domain("digits"), train_cfg, device="cpu")
    checkup = Checkup(model_cfg, get_domain("digits"), trainer.val_x)
    recent, out = [], {}
    while trainer.step < steps:
        trainer.run_steps(1)
        recent = (recent + [trainer.history[-1]])[-50:]
        if trainer.step >= first and trainer.step % every == 0:
            diag = checkup.check(model, trainer.step)
            found = read(diag, recent, conditional=True, n_labels=10, latent=0)
            model.eval()
            with torch.inference_mode():
                ten = model.sample(10, label=torch.arange(10), generator=torch.Generator().manual_seed(1))
                distinct = len(set(checkup.classifier(ten).argmax(-1).tolist()))
            model.train()
            out[trainer.step] = ([f.code for f in found], max(diag.class_counts) / sum(diag.class_counts), distinct)
    return out
