"""Model cards (Magenta / Hugging Face style): what a model is, how it was made, what it measured."""
from __future__ import annotations

from .domains import get_domain
from .models import ModelConfig

FAMILY_TEXT = {
    "vae": "RNN-VAE: bidirectional recurrent encoder -> (mu, log sigma^2) -> z -> recurrent decoder",
    "gan": "RNN-GAN: recurrent generator (noise [+ label] -> sequence) vs. bidirectional recurrent discriminator",
    "lm": "reference character-level recurrent language model (used by the metrics)",
    "classifier": "reference bidirectional recurrent classifier (used by the metrics)",
}


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return ", ".join(_fmt(x) for x in v)
    return str(v)


def _licence(domain: str) -> str:
    try:
        return get_domain(domain).licence or "?"
    except ValueError:
        return "?"


def render_card(name: str, cfg: ModelConfig, info: dict) -> str:
    train = info.get("train", {})
    lines = [f"# {name}", "", info.get("description") or FAMILY_TEXT[cfg.family], "",
             "## Model", "",
             f"- Family: {FAMILY_TEXT[cfg.family]}",
             f"- Domain: {cfg.domain} (sequence of {cfg.seq_len} steps x {cfg.n_features} "
             f"{'tokens' if cfg.discrete else 'features'})",
             f"- Cell: {cfg.cell.upper()}, hidden {cfg.hidden}, layers {cfg.layers}, latent/noise size {cfg.latent}"
             + (", conditional on the label" if cfg.conditional else ""),
             f"- Parameters: {info.get('parameters', '?'):,}" if isinstance(info.get("parameters"), int)
             else "- Parameters: ?",
             f"- File size: {info.get('file_bytes', 0) / 1e6:.2f} MB", "",
             "## Training", "",
             f"- Command: `{info.get('command', '?')}`",
             f"- Wall time: {info.get('train_seconds', 0):.0f} s on {info.get('machine', 'this machine')}"
             f" ({info.get('steps', '?')} steps, stopped: {info.get('status', '?')})",
             f"- Data split: {info.get('data_split', '?')}",
             "- Optimiser settings: " + ", ".join(f"{k}={_fmt(v)}" for k, v in train.items() if k != "extra"), "",
             "## Metrics (held-out test split)", ""]
    metrics = info.get("metrics") or {}
    if metrics:
        lines += ["| metric | value |", "| --- | --- |"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in metrics.items()]
        if info.get("metrics_command"):
            lines += ["", f"Measured by `{info['metrics_command']}`."]
    else:
        lines.append("Not evaluated yet: run `python -m seqgen eval " + name + " --write`.")
    lines += ["", "## Known limitations", ""]
    lines += [f"- {x}" for x in info.get("limitations", [])] or ["- Small model trained for minutes on a 2-core CPU."]
    if info.get("tried"):
        lines += ["", "## What was tried", ""] + [f"- {x}" for x in info["tried"]]
    lines += ["", "## Data licence and attribution", "", _licence(cfg.domain), ""]
    return "\n".join(lines)
