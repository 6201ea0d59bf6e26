"""What counts as English left over on a Chinese page: shared by the page sweep (test_accessibility.py) and the
live training states (test_browser_i18n.py)."""
from __future__ import annotations

import re

# Latin-script words that stay as they are in the Chinese interface: model and data names, abbreviations
# Chinese ML courses use as they are, the language switch's own "English", the README's section title.
KEEP = {"seqgen", "GAN", "VAE", "RNN", "LSTM", "GRU", "KL", "MLE", "ELBO", "NaN", "PNG", "WAV", "MIDI", "MNIST",
        "Fashion", "SeqGAN", "nats", "QR", "English", "README", "Running", "it", "for", "a", "class", "localhost",
        "D", "G", "real", "fake", "z", "N", "I", "T", "lr", "cell", "lstm", "gru", "hidden", "batch_size", "steps",
        "latent", "feature_matching", "label_smoothing", "d_steps", "grad_clip", "PCA", "Ma"}
VISIBLE_TEXT = """() => {
    const parts = [];
    for (const root of document.querySelectorAll('[data-testid=stMain], [data-testid=stSidebar]')) {
        const copy = root.cloneNode(true);
        // data (generated names, digits) is shown as it is: pages put it in containers keyed data_...
        copy.querySelectorAll('[data-testid*=Icon], [data-testid=stCode], .stCode, code, svg, canvas, '
                              + '[class*="st-key-data_"]')
            .forEach((e) => e.remove());
        document.body.appendChild(copy); parts.push(copy.innerText); copy.remove();
    }
    for (const t of document.querySelectorAll('.js-plotly-plot .main-svg text')) parts.push(t.textContent);
    return parts.join('\\n');
}"""


def english_left(page) -> list[str]:
    """Latin-script runs in the page's visible interface text that are not in KEEP (URLs, model names and
    key=value settings taken out first)."""
    text = page.evaluate(VISIBLE_TEXT)
    text = re.sub(r"https?://\S+|\b[\w.-]+-(?:vae|gan|live|collapse|classifier|lm)\b|\b\w+=\S+", " ", text)
    runs = re.findall(r"[A-Za-z][A-Za-z'’]+(?:[ \-/][A-Za-z][A-Za-z'’]+)*", text)
    return sorted({r for r in runs if not set(re.split(r"[ \-/]", r)) <= KEEP})


def open_intro(page, wait) -> None:
    """Open the page's intro expander (its text is interface text too)."""
    box = page.get_by_test_id("stExpander").first
    if box.count():
        box.locator("summary").click()
        wait(page)
