"""Write the home page's pictures (one per page) from the shipped checkpoints into assets/home/.

    python scripts/home_pictures.py          # after retraining a shipped model

The home page shows these files instead of computing them: it then needs no torch and appears complete
about 3 s sooner on a cold start. tests/test_app.py checks that they still match the shipped models.
"""
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "assets" / "home"
sys.path.insert(0, str(ROOT))


def pictures() -> dict[str, bytes]:
    """file name -> bytes, computed by the same functions the pages use."""
    from streamlit.logger import set_log_level
    set_log_level("error")  # st.cache_data outside a running app warns on every call
    from seqgen.render import png_bytes
    from seqgen.ui import home
    out = {}
    for name, make in (("latent.png", home.explorer_picture), ("noise.png", home.gan_picture),
                       ("music.png", home.music_picture)):
        pic = make()
        if pic is not None:
            out[name] = pic if isinstance(pic, bytes) else png_bytes(pic)
    names = home.names_picture()
    if names:
        out["names.json"] = (json.dumps(names, ensure_ascii=False) + "\n").encode()
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
