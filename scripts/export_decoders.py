"""Write decoder.onnx next to every VAE checkpoint (the latent explorer's in-browser decoder), and check
each export against torch on random points.

    python scripts/export_decoders.py                 # every shipped VAE in checkpoints/
    python scripts/export_decoders.py my-model ...    # named checkpoints (shipped or yours)

Rerun it after retraining a shipped VAE; tests/test_export.py fails while an export is stale.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import seqgen  # noqa: E402
from seqgen import export  # noqa: E402
from seqgen.checkpoints import SHIPPED_DIR, resolve  # noqa: E402


def check(path: Path, model, n: int = 100, seed: int = 0) -> str:
    """Run the export with onnxruntime on n random z and compare with model.decode; -> a summary line."""
    import onnxruntime as ort
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    z = torch.randn(n, model.cfg.latent, generator=torch.Generator().manual_seed(seed)) * 2
    feeds = {"z": z.numpy()}
    label = None
    if model.cfg.conditional:
        label = torch.randint(0, model.cfg.n_labels, (n,), generator=torch.Generator().manual_seed(seed))
        feeds["label"] = label.numpy()
    want = model.decode(z, label).numpy()
    got = sess.run(None, feeds)[0]
    if model.cfg.discrete:
        bad = int((got != want).any(-1).sum())
        if bad:
            raise SystemExit(f"{path}: {bad} of {n} decoded sequences differ from torch")
        return f"tokens identical on {n} z"
    err = float(np.abs(got - want).max())
    if err > 1e-4:
        raise SystemExit(f"{path}: largest pixel difference {err:.2e} > 1e-4")
    return f"max |Δ| {err:.1e} on {n} z"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="checkpoints to export (default: every shipped VAE)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    names = args.names or sorted(p.name for p in SHIPPED_DIR.iterdir() if (p / "config.json").is_file())
    for name in names:
        ckpt = seqgen.load(name)
        if ckpt.config.family != "vae":
            continue
        path = export.export_checkpoint(resolve(name), ckpt.model.eval())
        print(f"{path}: {path.stat().st_size / 1e3:.0f} kB, {check(path, ckpt.model)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
