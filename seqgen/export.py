"""A VAE's decoder as an ONNX file the browser can run (the latent explorer's pad, seqgen/ui/latent_pad.py).

`DecoderGraph` reproduces `RNNVAE.decode(z, label, temperature=0)` with plain matrix maths: the recurrent
cell is written out (MatMul, Sigmoid, Tanh) and the time loop is unrolled over seq_len steps with argmax
feedback, because those few operators are what every ONNX runtime, including onnxruntime-web's WebAssembly
build, runs the same way. Weights are transposed once into buffers, so the unrolled graph shares one copy
of each matrix instead of one per step.

When every float32 weight of the graph is exactly a float16 value (a model saved with weight_precision
float16, seqgen.training.publish), the weights are stored as float16 and cast back to float32 inside the
graph: half the download, and the same arithmetic, so the browser's output still equals torch's.

The file goes next to the checkpoint (`<checkpoint>/decoder.onnx`); its metadata names the weights file it
was made from (`weights_sha256`), so a stale export is recognised and never shown.
"""
from __future__ import annotations

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
    """z [B, latent] (+ label int64 [B]) -> pixels float [B, T, F] in [0, 1] or tokens int32 [B, T]."""

    def __init__(self, vae):
        super().__init__()
        cfg = vae.cfg
        rnn = vae.decoder.rnn
        self.lstm, self.layers, self.hidden = vae.decoder.cell == "lstm", vae.decoder.layers, vae.decoder.hidden
        self.seq_len, self.discrete, self.autoregressive = cfg.seq_len, cfg.discrete, cfg.autoregressive
        self.conditional = cfg.conditional
        c = cfg.latent + (cfg.embed if cfg.conditional else 0)
        w0 = rnn.weight_ih_l0.detach().cpu()
        self.register_buffer("w_cond", w0[:, :c].t().contiguous())   # [C, G*H]
        self.register_buffer("w_prev", w0[:, c:].t().contiguous())   # [X, G*H]
        for layer in range(self.layers):
            self.register_buffer(f"w_hh{layer}", getattr(rnn, f"weight_hh_l{layer}").detach().cpu().t().contiguous())
            self.register_buffer(f"b_ih{layer}", getattr(rnn, f"bias_ih_l{layer}").detach().cpu().clone())
            self.register_buffer(f"b_hh{layer}", getattr(rnn, f"bias_hh_l{layer}").detach().cpu().clone())
            if layer:
                self.register_buffer(f"w_ih{layer}", getattr(rnn, f"weight_ih_l{layer}").detach().cpu().t().contiguous())
        self.register_buffer("w_state", vae.z_to_state.weight.detach().cpu().t().contiguous())
        self.register_buffer("b_state", vae.z_to_state.bias.detach().cpu().clone())
        self.register_buffer("w_out", vae.out.weight.detach().cpu().t().contiguous())
        self.register_buffer("b_out", vae.out.bias.detach().cpu().clone())
        if cfg.conditional:
            self.register_buffer("label_table", vae.label_embedding.weight.detach().cpu().clone())
        if cfg.discrete and cfg.autoregressive:
            self.register_buffer("embedding", vae.inputs.embedding.weight.detach().cpu().clone())
            self.start_id = vae.inputs.start_id
        self.n_prev = w0.shape[1] - c

    def _cell(self, layer: int, gx: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None):
        """One layer, one step: gx is the input projection plus b_ih; -> (h, c)."""
        gh = h @ getattr(self, f"w_hh{layer}") + getattr(self, f"b_hh{layer}")
        if self.lstm:
            i, f, g, o = (gx + gh).chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            return torch.sigmoid(o) * torch.tanh(c), c
        rx, zx, nx = gx.chunk(3, dim=-1)
        rh, zh, nh = gh.chunk(3, dim=-1)
        r, u = torch.sigmoid(rx + rh), torch.sigmoid(zx + zh)
        n = torch.tanh(nx + r * nh)
        return (1 - u) * n + u * h, None

    def forward(self, z: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        cond = z if not self.conditional else torch.cat([z, self.label_table[label]], dim=-1)
        flat = torch.tanh(cond @ self.w_state + self.b_state)
        n, size = self.layers, self.hidden
        hs = [flat[:, k * size:(k + 1) * size] for k in range(n)]
        cs = [flat[:, (n + k) * size:(n + k + 1) * size] for k in range(n)] if self.lstm else [None] * n
        fixed = cond @ self.w_cond + self.b_ih0   # the same at every step: projected once
        prev = None
        if self.autoregressive:
            prev = (self.embedding[torch.full_like(z[:, 0], self.start_id, dtype=torch.long)] if self.discrete
                    else torch.zeros(z.shape[0], self.n_prev))
        outs = []
        for _ in range(self.seq_len):
            gx = fixed if prev is None else fixed + prev @ self.w_prev
            for layer in range(n):
                if layer:
                    gx = hs[layer - 1] @ getattr(self, f"w_ih{layer}") + getattr(self, f"b_ih{layer}")
                hs[layer], cs[layer] = self._cell(layer, gx, hs[layer], cs[layer])
            logits = hs[-1] @ self.w_out + self.b_out
            if self.discrete:
                tok = logits.argmax(-1)
                outs.append(tok.to(torch.int32))
                if self.autoregressive:
                    prev = self.embedding[tok]
            else:
                row = torch.sigmoid(logits)
                outs.append(row)
                if self.autoregressive:
                    prev = row
        return torch.stack(outs, dim=1)


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
