"""The recurrent block shared by every model: nn.LSTM / nn.GRU over whole sequences, plus a
single-step path on the same weights for autoregressive sampling.

Why two paths: one fused nn.LSTM call over T steps is the fast way to train (teacher forcing),
but calling nn.LSTM once per step while sampling costs 3-10x more than the bare cell maths,
so `step` runs torch.lstm_cell / torch.gru_cell on the layer's own parameters.
"""
from __future__ import annotations

import torch
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

    def step_projected(self, gates_x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """step() with the first layer's input projection W_ih x + b_ih already done (gates_x [B, G*H]).

        Sampling loops use it to hoist the constant parts of the input (z, noise, a token's embedding
        via a lookup table) out of the time loop: the loop is then one small matmul per step.
        """
        rnn = self.rnn
        w_hh, b_hh = rnn.weight_hh_l0, rnn.bias_hh_l0
        if self.cell == "lstm":
            h0, c0 = state[0][0], state[1][0]
            i, f, g, o = torch.addmm(gates_x + b_hh, h0, w_hh.t()).chunk(4, 1)
            c = torch.sigmoid(f) * c0 + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            hs, cs = [h], [c]
        else:
            h0 = state[0]
            xr, xz, xn = gates_x.chunk(3, 1)
            hr, hz, hn = torch.addmm(b_hh, h0, w_hh.t()).chunk(3, 1)
            r, u = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
            h = (1 - u) * torch.tanh(xn + r * hn) + u * h0
            hs, cs = [h], []
        for layer in range(1, self.layers):
            args = [getattr(rnn, f"{n}_l{layer}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            if self.cell == "lstm":
                h, c = torch.lstm_cell(h, (state[0][layer], state[1][layer]), *args)
                cs.append(c)
            else:
                h = torch.gru_cell(h, state[layer], *args)
            hs.append(h)
        new_state = (torch.stack(hs), torch.stack(cs)) if self.cell == "lstm" else torch.stack(hs)
        return h, new_state

    def zero_state(self, batch: int, device=None) -> State:
        h = torch.zeros(self.layers * (2 if self.bidirectional else 1), batch, self.hidden, device=device)
        return (h, h.clone()) if self.cell == "lstm" else h


def final_features(outputs: torch.Tensor, state: State, bidirectional: bool) -> torch.Tensor:
    """Summary of a sequence: last layer's final hidden state (both directions when bidirectional)."""
    h = state[0] if isinstance(state, tuple) else state
    if bidirectional:
        return torch.cat([h[-2], h[-1]], dim=-1)
    return h[-1]
