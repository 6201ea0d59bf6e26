"""The recurrent block shared by every model: nn.LSTM / nn.GRU over whole sequences, plus a
single-step path on the same weights for autoregressive sampling.

Why two paths: one fused nn.LSTM call over T steps is the fast way to train (teacher forcing),
but calling nn.LSTM once per step while sampling costs 3-10x more than the bare cell maths,
so `step` and `Stepper` run torch.lstm_cell / torch.gru_cell on the layer's own parameters.
A Stepper can also spell the same cell out in plain tensor operations (`exportable`): what an ONNX
export traces, since every ONNX runtime (the browser's included) runs those the same way.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


class Recurrent(nn.Module):
    def __init__(self, cell: str, input_size: int, hidden: int, layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0):
        super().__init__()
        rnn_cls = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.cell, self.hidden, self.layers = cell, hidden, layers
        self.bidirectional = bidirectional
        self.rnn = rnn_cls(input_size, hidden, layers, batch_first=True, bidirectional=bidirectional,
                           dropout=dropout if layers > 1 else 0.0)

    def forward(self, x: torch.Tensor, state: State | None = None):
        """x [B, T, I] -> outputs [B, T, H * directions], final state."""
        return self.rnn(x, state)

    def initial_state(self, flat: torch.Tensor) -> State:
        """Turn a [B, layers * H * (2 if LSTM)] tensor into the RNN's (h0[, c0]) state."""
        b = flat.shape[0]
        parts = flat.view(b, -1, self.layers, self.hidden).permute(1, 2, 0, 3).contiguous()
        return (parts[0], parts[1]) if self.cell == "lstm" else parts[0]

    @property
    def state_size(self) -> int:
        return self.layers * self.hidden * (2 if self.cell == "lstm" else 1)

    def step(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """One time step, x [B, I] -> top-layer output [B, H], new state. Unidirectional only."""
        assert not self.bidirectional, "step() is for decoders"
        hs, cs = [], []
        inp = x
        for layer in range(self.layers):
            w_ih, w_hh = getattr(self.rnn, f"weight_ih_l{layer}"), getattr(self.rnn, f"weight_hh_l{layer}")
            b_ih, b_hh = getattr(self.rnn, f"bias_ih_l{layer}"), getattr(self.rnn, f"bias_hh_l{layer}")
            if self.cell == "lstm":
                h, c = torch.lstm_cell(inp, (state[0][layer], state[1][layer]), w_ih, w_hh, b_ih, b_hh)
                cs.append(c)
            else:
                h = torch.gru_cell(inp, state[layer], w_ih, w_hh, b_ih, b_hh)
            hs.append(h)
            inp = h
        new_state = (torch.stack(hs), torch.stack(cs)) if self.cell == "lstm" else torch.stack(hs)
        return inp, new_state

    def input_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """First layer's W_ih [G*H, I] and b_ih: callers precompute input projections with them."""
        return self.rnn.weight_ih_l0, self.rnn.bias_ih_l0

    def stepper(self, state: State, w_x: torch.Tensor, bias: torch.Tensor, exportable: bool = False) -> Stepper:
        """A fast single-step runner for sampling loops; see Stepper."""
        return Stepper(self, state, w_x, bias, exportable)

    def zero_state(self, batch: int, device=None) -> State:
        h = torch.zeros(self.layers * (2 if self.bidirectional else 1), batch, self.hidden, device=device)
        return (h, h.clone()) if self.cell == "lstm" else h


def final_features(outputs: torch.Tensor, state: State, bidirectional: bool) -> torch.Tensor:
    """Summary of a sequence: last layer's final hidden state (both directions when bidirectional)."""
    h = state[0] if isinstance(state, tuple) else state
    if bidirectional:
        return torch.cat([h[-2], h[-1]], dim=-1)
    return h[-1]


class Stepper:
    """Runs a unidirectional Recurrent one step at a time, as fast as eager PyTorch allows.

    The first layer reads only the part of its input that changes each step (x, through the matching
    columns w_x of W_ih; nothing when x is None); everything constant over time (z, a label) is
    projected once and folded into `bias` ([G*H], or per row [B, G*H]) together with b_ih. Each step is then
    one fused torch.lstm_cell / gru_cell call per layer, with the weights fetched and the state kept per
    layer once, not per step: much cheaper than the same maths written as separate tensor ops
    (benchmarks/README.md has the figures). With `exportable` it is written as those separate ops (the same
    gates in the same order), which the ONNX export traces into a graph the browser can run; so it is on a
    GPU when the bias is per row, which CUDA's fused cells do not take.
    """

    def __init__(self, rec: Recurrent, state: State, w_x: torch.Tensor, bias: torch.Tensor, exportable: bool = False):
        assert not rec.bidirectional, "Stepper is for decoders"
        rnn = rec.rnn
        self.lstm = rec.cell == "lstm"
        self.exportable = exportable
        self.weights = [[getattr(rnn, f"{n}_l{layer}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
                        for layer in range(rec.layers)]
        self.weights[0][0], self.weights[0][2] = w_x.contiguous(), bias
        self.h = list((state[0] if self.lstm else state).unbind(0))
        self.c = list(state[1].unbind(0)) if self.lstm else []

    def __call__(self, x: torch.Tensor | None, bias: torch.Tensor | None = None) -> torch.Tensor:
        """One step: x [B, X] (None when the first layer reads nothing new) -> top layer's output [B, H].
        `bias` replaces the folded bias for this step only (a GAN's per-step noise)."""
        inp = x
        for layer, (w_ih, w_hh, b_ih, b_hh) in enumerate(self.weights):
            if layer == 0 and bias is not None:
                b_ih = bias
            # CUDA's fused cells take only a shared [G*H] bias; a per-row one (z folded in) is spelled out there
            if self.exportable or (b_ih.dim() == 2 and b_ih.is_cuda):
                gx = b_ih if inp is None else F.linear(inp, w_ih) + b_ih
                self._spelled_out(layer, gx, F.linear(self.h[layer], w_hh, b_hh))
            else:
                if inp is None:
                    inp = self.h[0].new_zeros(len(self.h[0]), 0)
                if self.lstm:
                    self.h[layer], self.c[layer] = torch.lstm_cell(inp, (self.h[layer], self.c[layer]),
                                                                   w_ih, w_hh, b_ih, b_hh)
                else:
                    self.h[layer] = torch.gru_cell(inp, self.h[layer], w_ih, w_hh, b_ih, b_hh)
            inp = self.h[layer]
        return inp

    def _spelled_out(self, layer: int, gx: torch.Tensor, gh: torch.Tensor) -> None:
        """One layer's cell from its input and hidden projections, gate by gate (PyTorch's gate order)."""
        if self.lstm:
            i, f, g, o = (gx + gh).chunk(4, dim=-1)
            self.c[layer] = torch.sigmoid(f) * self.c[layer] + torch.sigmoid(i) * torch.tanh(g)
            self.h[layer] = torch.sigmoid(o) * torch.tanh(self.c[layer])
            return
        rx, zx, nx = gx.chunk(3, dim=-1)
        rh, zh, nh = gh.chunk(3, dim=-1)
        r, u = torch.sigmoid(rx + rh), torch.sigmoid(zx + zh)
        n = torch.tanh(nx + r * nh)
        self.h[layer] = (1 - u) * n + u * self.h[layer]

    @property
    def state(self) -> State:
        return (torch.stack(self.h), torch.stack(self.c)) if self.lstm else torch.stack(self.h)
