"""What a hostile picture costs the server: time and memory to refuse a decompression bomb.

    python benchmarks/hostile_pictures.py [--repeat 5]

Three pictures a student could send: an all-black 13,300 x 13,300 PNG (a real file, 1-bit, about 700 kB), a
100-megapixel JPEG (a real file) and a PNG whose header declares 32,768 x 32,768 pixels (1 G). Each is sent
the way the app takes it: the drawing canvas's PNG (seqgen.ui.kinds.image.drawing_seen, which caches its
verdict per picture) and a picture file (seqgen.kinds.image.read_picture, the CLI's --image). Each refusal runs
in a fresh process, which reports the wall time of the first refusal, the median of --repeat more, and the
resident memory it added (its peak RSS over the refusal minus its RSS before, from /proc/self/status after
resetting the peak through /proc/self/clear_refs).
"""
from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
from seqgen.kinds.image import decode_picture, read_picture
from seqgen.ui.kinds.image import drawing_seen
import numpy  # noqa: F401  (imported before the baseline, as in the app)

route, path, repeat = sys.argv[2], sys.argv[3], int(sys.argv[4])
data = open(path, "rb").read()

def kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])

def refuse():
    if route == "canvas":
        out = drawing_seen("digits", data)
        assert isinstance(out, ValueError), out
        return str(out)
    try:
        read_picture(path)
    except ValueError as e:
        return str(e)
    raise AssertionError("accepted")

drawing_seen("digits", b"warm-up: not a picture")       # Pillow's plugins and the cache are loaded
open("/proc/self/clear_refs", "w").write("5")           # reset the peak RSS
before = kib("VmRSS:")
t0 = time.perf_counter()
message = refuse()
first = time.perf_counter() - t0
peak = kib("VmHWM:")
times = []
for _ in range(repeat):
    t0 = time.perf_counter()
    refuse()
    times.append(time.perf_counter() - t0)
print(json.dumps({"first_ms": first * 1e3, "again_ms": statistics.median(times) * 1e3,
                  "extra_mib": (peak - before) / 1024, "message": message}))
"""


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height, with a few bytes of pixel data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def payloads(folder: Path) -> dict[str, Path]:
    from PIL import Image
    Image.MAX_IMAGE_PIXELS = None            # this script builds the bombs; the app never opens them like this
    out = {"bomb PNG 13,300² (real, all black)": folder / "bomb.png",
           "100-megapixel JPEG (real)": folder / "big.jpg",
           "PNG declaring 32,768² (1 G pixels)": folder / "declared.png"}
    Image.new("1", (13_300, 13_300), 0).save(out["bomb PNG 13,300² (real, all black)"], optimize=True)
    Image.new("L", (10_000, 10_000), 0).save(out["100-megapixel JPEG (real)"], quality=50)
    out["PNG declaring 32,768² (1 G pixels)"].write_bytes(png_declaring(32_768, 32_768))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in payloads(Path(tmp)).items():
            for route in ("canvas", "file"):
                done = subprocess.run([sys.executable, "-c", CHILD, str(REPO), route, str(path), str(args.repeat)],
                                      capture_output=True, text=True, timeout=300)
                if done.returncode:
                    print(done.stderr[-2000:], file=sys.stderr)
                    return 1
                row = json.loads(done.stdout.strip().splitlines()[-1])
                rows.append({"picture": name, "bytes": path.stat().st_size, "route": route, **row})
    print(f"{'picture':38} {'bytes':>9} {'route':7} {'first ms':>9} {'again ms':>9} {'extra MiB':>10}  message")
    for r in rows:
        print(f"{r['picture']:38} {r['bytes']:>9,} {r['route']:7} {r['first_ms']:>9.2f} {r['again_ms']:>9.2f} "
              f"{r['extra_mib']:>10.2f}  {r['message'][:70]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
