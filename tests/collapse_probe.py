"""How many digit labels a short live-preset GAN run keeps apart: run in a process of its own by
tests/test_lessons.py, so that the collapse preset and its base train side by side on two cores."""
import torch

from seqgen.domains import get_domain
from seqgen.models import build_model
from seqgen.presets import configure
from seqgen.training.trainer import Trainer


def distinct_classes(preset: str, steps: int = 250) -> int:
    """Labels 0-9 sampled after `steps` steps (one thread, seed 0): how many have a picture no other label
    shares (binarised pictures differing in more than 5 % of their pixels)."""
    torch.set_num_threads(1)     # one thread: the same run on every machine
    model_cfg, train_cfg, _ = configure(preset)
    train_cfg.steps, train_cfg.eval_every = steps, steps
    torch.manual_seed(0)
    model = build_model(model_cfg)
    Trainer(model, get_domain("digits"), train_cfg, device="cpu").run_steps(steps)
    model.eval()
    s = (model.sample(10, label=torch.arange(10), generator=torch.Generator().manual_seed(1)) > 0.5).flatten(1)
    d = torch.cdist(s.float(), s.float(), p=1) / s.shape[1]
    return int((d + torch.eye(10) > 0.05).all(1).sum())
