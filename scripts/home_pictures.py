"""Write the home page's pictures (one per page) from the shipped checkpoints into assets/home/.

    python scripts/home_pictures.py          # after retraining a shipped model

The home page shows these files instead of computing them, so it needs no torch and appears at once on
a cold start. tests/test_app.py checks that they still match the shipped models.
"""
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "assets" / "home"
sys.path.insert(0, str(ROOT))


def _load(*names):
    """The first of these shipped checkpoints that loads, or None."""
    import seqgen
    for name in names:
        try:
            return seqgen.load(name)
        except seqgen.CheckpointError:
            continue
    return None


def explorer_picture(ckpt) -> bytes:
    """An 8 x 8 grid of decodes over the part of the plane the held-out data fills."""
    from seqgen import explore
    from seqgen.render import png_bytes
    view = tuple(round(v, 2) for v in explore.latent_map(ckpt)["view"])
    grid = explore.manifold(ckpt, 8, view)
    return png_bytes(explore.domain_of(ckpt).picture(grid["artifacts"], cols=8, scale=3))


def pictures() -> dict[str, bytes]:
    """file name -> bytes."""
    from seqgen import explore
    from seqgen.render import png_bytes
    out = {}
    if (vae := _load("digits-vae")) is not None:
        out["latent.png"] = explorer_picture(vae)
    if (gan := _load("digits-gan")) is not None:
        labels = list(range(10)) if gan.config.conditional else None
        images = explore.sample(gan, 10, seed=0, labels=labels)
        out["noise.png"] = png_bytes(explore.domain_of(gan).picture(images, cols=5, scale=3))
    if (melodies := _load("melodies-vae", "melodies-gan")) is not None:
        rolls = explore.sample(melodies, 2, seed=0)
        out["music.png"] = png_bytes(explore.domain_of(melodies).picture(rolls, cols=1, scale=4))
    if (names := _load("names-vae", "names-gan")) is not None:
        out["names.json"] = (json.dumps(explore.sample(names, 12, seed=0, temperature=0.8), ensure_ascii=False)
                             + "\n").encode()
    return out


def write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in pictures().items():
        write_atomic(OUT / name, data)
        print(f"wrote {(OUT / name).relative_to(ROOT)} ({len(data):,} bytes)")


if __name__ == "__main__":
    main()
