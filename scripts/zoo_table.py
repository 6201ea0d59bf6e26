"""Print the README's model-zoo table from the shipped checkpoints' config.json files.

    python scripts/zoo_table.py
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# name -> (what it does, key metrics to show: (label, metric key, format))
ROWS = {
    "digits-vae": ("2-D latent digits: every point decodes to a digit", [
        ("test −ELBO", "test_neg_elbo", "{:.1f} nats"), ("IWAE NLL", "test_nll_iw", "{:.1f} nats"),
        ("digits on the 10×10 grid", "grid_digits_present", "{}/10")]),
    "digits-gan": ("noise + digit label → that digit, row by row", [
        ("requested digit recognised", "requested_digit_accuracy", "{:.1%}"), ("TSTR", "tstr_accuracy", "{:.1%}"),
        ("spread vs real", "spread_ratio", "{:.2f}")]),
    "names-vae": ("2-D latent names: slide to morph one name into another", [
        ("NLL/char (IWAE)", "test_nll_iw_per_token", "{:.3f}"), ("KL", "test_kl", "{:.2f} nats"),
        ("novel", "novel_fraction", "{:.0%}")]),
    "names-gan": ("new first names (Gumbel-softmax, MLE-pretrained, mode-seeking)", [
        ("novel", "novel_fraction", "{:.0%}"), ("well formed", "well_formed_fraction", "{:.1%}"),
        ("distinct", "distinct_fraction", "{:.0%}"), ("realism (LM NLL ratio)", "realism_ratio", "{:.2f}")]),
    "melodies-vae": ("2-D latent four-bar chorale melodies", [
        ("in-scale", "in_scale_samples", "{:.3f}"), ("interval TV", "interval_tv", "{:.3f}"),
        ("teacher-forced acc.", "teacher_forced_accuracy", "{:.1%}")]),
    "melodies-gan": ("chorale-like melodies from noise", [
        ("in-scale", "in_scale_samples", "{:.3f}"), ("pitch-class TV", "pitch_class_tv", "{:.3f}"),
        ("interval TV", "interval_tv", "{:.3f}")]),
    "digits-classifier": ("reference judge for the digits GAN", [("test accuracy", "test_accuracy", "{:.1%}")]),
    "names-lm": ("reference char-LSTM for the names metrics", [("NLL/char", "test_nll_per_token", "{:.3f}")]),
}


def main() -> None:
    print("| model | what it does | params | size | key figures (test split) | training time |")
    print("| --- | --- | ---: | ---: | --- | ---: |")
    for name, (what, keys) in ROWS.items():
        path = ROOT / "checkpoints" / name / "config.json"
        if not path.exists():
            continue
        doc = json.loads(path.read_text())
        m = doc.get("metrics", {})
        figures = "; ".join(f"{label} {fmt.format(m[k])}" for label, k, fmt in keys if k in m)
        if name == "digits-vae" and "test_neg_elbo" in m:
            figures += " (a 2-D Gaussian VAE on full MNIST: 135.7)"
        extra = " (in-scale of the data: {:.3f})".format(m["in_scale_data"]) if "in_scale_data" in m else ""
        print(f"| [`{name}`](checkpoints/{name}/README.md) | {what} | {doc['parameters']:,} | "
              f"{doc['file_bytes'] / 1e6:.1f} MB | {figures}{extra} | {doc['train_seconds'] / 60:.0f} min |")


if __name__ == "__main__":
    main()
