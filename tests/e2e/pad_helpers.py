"""Helpers for the latent pad's browser test and benchmarks/latent_pad.py: open the pad, read its state, sweep it."""
from __future__ import annotations

import time

from e2e_helpers import wait_idle

STATE_JS = "() => globalThis.__seqgenPad && __seqgenPad.state && __seqgenPad.state()"


def warm_up(browser, base: str) -> None:
    """Open the home page once and let its first run finish: a deep link opened while the server's first
    script run is busy flashes Streamlit's "Page not found" (st.navigation has not registered the pages)."""
    warm = browser.new_page()
    warm.goto(base + "/")
    warm.get_by_test_id("stSidebarNavLink").first.wait_for(timeout=60_000)
    wait_idle(warm, 60_000)
    warm.close()


def pad_state(page) -> dict | None:
    return page.evaluate(STATE_JS)


def wait_pad_frame(page, after: int = 0, timeout: float = 60_000) -> dict:
    """Wait until the pad has painted a decode (frame > after); -> its state."""
    page.wait_for_function(f"() => {{ const s = ({STATE_JS})(); return s && s.frame > {after}; }}", timeout=timeout)
    return pad_state(page)


def pad_box(page) -> dict:
    canvas = page.locator(".pad-canvas")
    canvas.wait_for(timeout=60_000)
    return canvas.bounding_box()


def to_screen(box: dict, z, lim: float = 4.0) -> tuple[float, float]:
    return (box["x"] + (z[0] + lim) / (2 * lim) * box["width"], box["y"] + (lim - z[1]) / (2 * lim) * box["height"])


def sweep(page, seconds: float, start=(-3.0, -2.0), end=(3.0, 2.0), release: bool = True) -> int:
    """Press on `start` and drag back and forth to `end` for `seconds`, mouse moves back to back (the pad
    repaints at most once per animation frame, whatever the input rate); -> moves made."""
    box = pad_box(page)
    x0, y0 = to_screen(box, start)
    x1, y1 = to_screen(box, end)
    page.mouse.move(x0, y0)
    page.mouse.down()
    t0, moves = time.perf_counter(), 0
    while (t := time.perf_counter() - t0) < seconds:
        f = (t / 2.0) % 2.0                                    # 2 s across, 2 s back
        f = f if f <= 1 else 2 - f
        page.mouse.move(x0 + f * (x1 - x0), y0 + f * (y1 - y0))
        moves += 1
    if release:
        page.mouse.up()
    return moves
