"""A VAE's decoder as an ONNX file the browser can run (the latent explorer's pad, seqgen/ui/latent_pad.py).

The graph is the model's own decoder: `DecoderGraph` traces `RNNVAE.decode_steps(z, label, temperature 0,
exportable=True)`, the same code `RNNVAE.decode` runs, with the recurrent cell spelled out in plain matrix
maths (Gemm, Sigmoid, Tanh) and the time loop unrolled over seq_len steps with argmax feedback, because those
few operators are what every ONNX runtime, including onnxruntime-web's WebAssembly build, runs the same way.
Each weight is stored once and shared by every unrolled step.

When every float32 weight of the graph is exactly a float16 value (a model saved with weight_precision
float16, seqgen.training.publish), the weights are stored as float16 and cast back to float32 inside the
graph: half the download, and the same arithmetic, so the browser's output still equals torch's.

The file goes next to the checkpoint (`<checkpoint>/decoder.onnx`); its metadata names the weights file it
was made from (`weights_sha256`), so a stale export is recognised and never shown.
"""
from __future__ import annotations

import copy
import hashlib
import io
import logging
import warnings
from pathlib import Path

import torch
from torch import nn

EXPORT_FILE = "decoder.onnx"
OPSET = 18
log = logging.getLogger(__name__)


class DecoderGraph(nn.Module):
    """z [B, latent] (+ label int64 [B]) -> pixels float [B, T, F] in [0, 1] or tokens int32 [B, T] (int32:
    what the browser reads as plain numbers)."""

    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, z: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        out = self.vae.decode_steps(z, label, exportable=True)
        return out.to(torch.int32) if self.vae.cfg.discrete else out


def weights_digest(checkpoint_dir: str | Path) -> str:
    """sha256 of the checkpoint's weights file: what an export records, to be recognised as current."""
    h = hashlib.sha256()
    with open(Path(checkpoint_dir) / "model.safetensors", "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def to_onnx_bytes(vae, digest: str = "") -> bytes:
    """The decoder as an ONNX model: inputs z float32 [B, latent] (and label int64 [B] when conditional),
    output "out"."""
    import onnx

    if vae.device.type != "cpu":        # traced on the CPU: the graph then holds no device, and browsers are CPUs
        vae = copy.deepcopy(vae).cpu()
    graph = DecoderGraph(vae).eval()
    z = torch.zeros(1, vae.cfg.latent)
    args = (z, torch.zeros(1, dtype=torch.long)) if vae.cfg.conditional else (z,)
    names = ["z", "label"][: len(args)]
    buf = io.BytesIO()
    # The TorchScript exporter (deprecated, still in torch 2.13) traces the unrolled loop in about a second and
    # writes each weight once; the torch.export-based one takes several times longer and writes a larger file.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(graph, args, buf, input_names=names, output_names=["out"], opset_version=OPSET,
                          dynamic_axes={n: {0: "batch"} for n in names + ["out"]}, dynamo=False)
    model = onnx.load_from_string(buf.getvalue())
    store_weights_as_float16(model)
    onnx.helper.set_model_props(model, {"weights_sha256": digest, "seq_len": str(vae.cfg.seq_len),
                                        "discrete": str(int(vae.cfg.discrete))})
    return model.SerializeToString()


def store_weights_as_float16(model) -> bool:
    """When every float32 initializer of the ONNX `model` is exactly representable in float16, store them as
    float16, each read through a Cast to float32 under its old name (in place); -> whether it did.
    Lossless by that check, so the graph computes exactly as before."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    weights = [t for t in graph.initializer if t.data_type == TensorProto.FLOAT]
    arrays = [numpy_helper.to_array(t) for t in weights]
    if not weights or not all(np.array_equal(a.astype(np.float16).astype(np.float32), a) for a in arrays):
        return False
    casts = []
    for tensor, array in zip(weights, arrays):
        name = tensor.name
        stored = f"{name}__float16"
        tensor.CopyFrom(numpy_helper.from_array(array.astype(np.float16), stored))
        casts.append(helper.make_node("Cast", [stored], [name], to=TensorProto.FLOAT, name=f"{name}__to_float32"))
    nodes = casts + list(graph.node)   # the casts first: the node list must stay in topological order
    del graph.node[:]
    graph.node.extend(nodes)
    return True


def export_checkpoint(checkpoint_dir: str | Path, model=None) -> Path:
    """Write `<checkpoint_dir>/decoder.onnx` for the VAE saved there; -> its path. Raises on failure."""
    from .checkpoints import atomic_write_bytes, load

    folder = Path(checkpoint_dir)
    if model is None:
        model = load(folder).model
    if model.cfg.family != "vae":
        raise ValueError(f"only VAE decoders are exported, not {model.cfg.family}")
    target = folder / EXPORT_FILE
    atomic_write_bytes(target, to_onnx_bytes(model, weights_digest(folder)))
    return target


def try_export(checkpoint_dir: str | Path, model=None) -> Path | None:
    """export_checkpoint for a freshly saved model: a failure is logged, never raised (the page then falls
    back to its server-side sliders)."""
    try:
        return export_checkpoint(checkpoint_dir, model)
    except Exception:  # noqa: BLE001 - the export is optional; saving the model must not fail over it
        log.warning("could not export the decoder of %s to ONNX", checkpoint_dir, exc_info=True)
        return None


def export_status(checkpoint_dir: str | Path) -> tuple[Path | None, str]:
    """(path of a current export, "") or (None, why there is none) for a checkpoint folder."""
    path = Path(checkpoint_dir) / EXPORT_FILE
    if not path.is_file():
        return None, "this model has no in-browser decoder yet (no decoder.onnx next to it)"
    try:
        import onnx
        props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    except Exception:  # noqa: BLE001 - an unreadable export counts as missing
        return None, "its in-browser decoder (decoder.onnx) could not be read"
    if props.get("weights_sha256") != weights_digest(checkpoint_dir):
        return None, "its in-browser decoder (decoder.onnx) was made from other weights"
    return path, ""
