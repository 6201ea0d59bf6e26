"""Slider latency of two checkouts of the repository, measured in one run: A, B, A, B, ... so both see the same
machine load, then the ratio of their medians.

    git worktree add /tmp/before <commit>
    python benchmarks/ab_latency.py /tmp/before .            # 2 rounds of 40 moves each (default)
    python benchmarks/ab_latency.py /tmp/before . --rounds 3 --moves 60

Each round runs that checkout's own benchmarks/browser_latency.py (a fresh `streamlit run app.py` and real
Chromium moving the z1 slider with the keyboard). Prints each round's p50 / p95 and the B / A ratios.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def one_round(tree: Path, moves: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, str(tree / "benchmarks" / "browser_latency.py"), "--moves", str(moves),
                        "--json", out.name], cwd=tree, check=True, stdout=subprocess.DEVNULL)
        return json.loads(Path(out.name).read_text())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", type=Path, help="checkout A (e.g. before a change)")
    ap.add_argument("b", type=Path, help="checkout B (e.g. after it)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--moves", type=int, default=40)
    args = ap.parse_args()
    runs: dict[str, list[dict]] = {"A": [], "B": []}
    for r in range(args.rounds):
        for name, tree in (("A", args.a), ("B", args.b)):
            res = one_round(tree.resolve(), args.moves)
            runs[name].append(res)
            img = res["key_to_new_image_ms"]
            print(f"round {r + 1} {name} ({tree}): slider -> new image p50 {img['p50']} ms, p95 {img['p95']} ms, "
                  f"max {img['max']} ms", flush=True)
    for stat in ("p50", "p95"):
        a = statistics.median(x["key_to_new_image_ms"][stat] for x in runs["A"])
        b = statistics.median(x["key_to_new_image_ms"][stat] for x in runs["B"])
        print(f"slider -> new image {stat}: A {a:.0f} ms, B {b:.0f} ms, B/A = {b / a:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
