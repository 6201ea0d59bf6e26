"""Is Stop obeyed in a real browser? Three students on a server with two training slots, two training and one
queued, press Stop in the order 0, 2, 1, for --rounds rounds (tests/e2e/test_browser_live.py runs one).

    python benchmarks/stop_clicks.py --rounds 20

Prints one line per Start and Stop click (what the run was doing, whether the page showed it within 5 s and
after how long; for Stop also when the run had ended) and the count of lost clicks per button and student.
"""
from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from e2e_helpers import launch, streamlit_server  # noqa: E402
from live_e2e_helpers import OBEYED_WITHIN_S, stop_rounds  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

# three browsers on one address (loopback), each its own student with one run, two training slots
ENV = {"SEQGEN_MAX_RUNS": "2", "SEQGEN_MAX_RUNS_PER_CLIENT": "1", "SEQGEN_NEW_BROWSERS_PER_ADDRESS": "3"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    with streamlit_server(env=ENV) as url, sync_playwright() as p:
        browser = launch(p)
        try:
            records = stop_rounds(browser, url, args.rounds)
        finally:
            browser.close()
    for r in records:
        print(f"round {r['round']:2d} student {r['student']} {r['key']:8s} was {r['was'] or '-':9s} "
              f"{'(disabled) ' if r['disabled'] else ''}{'obeyed' if r['obeyed'] else 'LOST  '} {r['seconds']:.2f} s"
              + (f", ended {r['then_seconds']:.2f} s" if "then_seconds" in r else ""))
    for key in ("lt_start", "lt_stop"):
        lost = collections.Counter(r["student"] for r in records if r["key"] == key and not r["obeyed"])
        clicks = collections.Counter(r["student"] for r in records if r["key"] == key)
        print(f"lost {key} clicks (not obeyed within {OBEYED_WITHIN_S:g} s): " + ", ".join(
            f"student {s}: {lost[s]} of {clicks[s]}" for s in sorted(clicks)))
    stops = [r for r in records if r["key"] == "lt_stop" and r["obeyed"]]
    print(f"Stop shown on the page (stopping or stopped): slowest {max(r['seconds'] for r in stops):.2f} s; "
          f"the run ended: slowest {max(r['then_seconds'] for r in stops):.2f} s")
    return 1 if any(not r["obeyed"] for r in records) else 0


if __name__ == "__main__":
    raise SystemExit(main())
