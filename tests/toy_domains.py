"""Tiny synthetic domains so model tests run in milliseconds and do not depend on bundled data."""
import torch

from seqgen.kinds.base import Domain


class ToyRows(Domain):
    """Continuous: T=8 rows of F=6 'pixels'; the label decides which column is lit."""
    name, title, discrete, seq_len, n_features = "toy_rows", "toy rows", False, 8, 6
    kind, picker_title = "image", "Toy rows"
    label_names = ("a", "b", "c")

    def dataset(self, split):
        g = torch.Generator().manual_seed({"train": 0, "val": 1, "test": 2}[split])
        y = torch.randint(0, 3, (96,), generator=g)
        x = torch.rand(96, 8, 6, generator=g) * 0.2
        x[torch.arange(96), :, y * 2] = 0.9
        return x, y

    def to_artifact(self, seq):
        return (seq.clamp(0, 1) * 255).to(torch.uint8).numpy()

    def from_artifact(self, art):
        return torch.as_tensor(art, dtype=torch.float32) / 255

    def picture(self, artifacts, cols, scale=1):
        import numpy as np

        from seqgen.render import image_grid, upscale
        return upscale(image_grid(np.stack(artifacts), cols=cols), scale)


class ToyTokens(Domain):
    """Discrete: counting sequences 3,4,5,... of random length, then EOS (2) and PAD (0)."""
    name, title, discrete, seq_len, n_features = "toy_tokens", "toy tokens", True, 7, 10
    kind, picker_title = "text", "Toy tokens"
    label_names = ("short", "long")
    pad_id = 0

    def dataset(self, split):
        g = torch.Generator().manual_seed({"train": 0, "val": 1, "test": 2}[split])
        lengths = torch.randint(1, 6, (96,), generator=g)
        x = torch.zeros(96, 7, dtype=torch.long)
        for i, n in enumerate(lengths.tolist()):
            x[i, :n] = torch.arange(3, 3 + n)
            x[i, n] = 2
        return x, (lengths > 3).long()

    def to_artifact(self, seq):
        return "".join(chr(ord("a") + int(t) - 3) for t in seq if t >= 3)

    def from_artifact(self, art):
        raise NotImplementedError
