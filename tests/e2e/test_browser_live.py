"""Live training in a real browser: start a run, watch the loss curve grow, leave the page and come back, stop; and
three students' Stops, training and queued, obeyed at once (live_e2e_helpers.stop_rounds;
benchmarks/stop_clicks.py runs twenty rounds of it)."""
import time

import pytest

pytest.importorskip("playwright")
from e2e_helpers import wait_idle  # noqa: E402
from live_e2e_helpers import (  # noqa: E402
    CHROME_ARGS,
    CHROMIUM,
    live_server,
    loss_points,
    open_live_page,
    progress_step,
    stop_rounds,
)
from playwright.sync_api import expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.e2e
expect.set_options(timeout=45_000)   # the first Start imports torch.optim and loads data on a busy 2-core machine


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with live_server(str(tmp_path_factory.mktemp("user_models"))) as url:
        yield url


@pytest.fixture(scope="module")
def browser(server):
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(45_000)
    yield pg
    ctx.close()


def status(page, text):
    """The run's status line with `text` (during a rerun the old and new fragment output briefly coexist)."""
    return page.locator(".st-key-lt_status", has_text=text).first


def wait_until(fn, page, timeout=45.0, every=0.25):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = fn()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met in {timeout:.0f} s: progress step {progress_step(page)}, "
                         f"{loss_points(page)} loss points drawn")


def test_live_training_start_grow_switch_back_stop(page, server):
    open_live_page(page, server)
    expect(page.get_by_test_id("stHeading").filter(has_text="Live training")).to_be_visible()
    page.locator(".st-key-lt_start button").click()
    expect(status(page, "running")).to_be_visible()

    # The first points wait for torch.optim's import and the data on a 2-core machine shared with the other tests.
    n1 = wait_until(lambda: loss_points(page) >= 2 and loss_points(page), page, timeout=90.0)   # the curve appears ...
    wait_until(lambda: loss_points(page) > n1, page)                              # ... and grows with each poll
    expect(page.locator(".st-key-lt_latent_chart .js-plotly-plot").first).to_be_visible()   # 2-D VAE latent map
    step_before = progress_step(page)
    assert step_before > 0

    page.get_by_test_id("stSidebarNavLink").filter(has_text="Home").click()  # leave while it trains
    expect(page.locator(".st-key-lt_start")).to_have_count(0)
    time.sleep(1.5)
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Live training").click()
    expect(status(page, "running")).to_be_visible()                          # same run, still training
    wait_until(lambda: progress_step(page) > step_before, page)

    page.locator(".st-key-lt_stop button").click()
    expect(status(page, "stopped")).to_be_visible()
    wait_idle(page, 60_000)            # while the page redraws, the old Start button can still be beside the new
    expect(page.locator(".st-key-lt_start button")).to_be_enabled()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_every_stop_is_obeyed_for_training_and_queued_students(browser, server):
    """The module's server has two training slots: the third student waits in the queue."""
    records = stop_rounds(browser, server, rounds=1)
    lost = [r for r in records if not r["obeyed"]]
    assert not lost, lost                      # the third Start showed "queued", each Stop "stopping" or "stopped"
    assert [(r["key"], r["student"]) for r in records] == [("lt_start", 0), ("lt_start", 1), ("lt_start", 2),
                                                           ("lt_stop", 0), ("lt_stop", 2), ("lt_stop", 1)]


TRACE_AT_LAST_STEP = """name => {
    const gd = document.querySelector('.st-key-lt_loss_chart .js-plotly-plot');
    const t = gd && gd.data.find(d => d.name === name);
    return t ? {x: Array.from(t.x).at(-1), y: Array.from(t.y).at(-1)} : null;
}"""


def test_a_d_only_step_moves_only_ds_loss_beside_the_class_histogram_and_two_runs_overlay(page, server):
    """A GAN started in slow motion (Step once), then one step of the discriminator alone: the curves get a D loss
    at that step and no G loss; the diagnostics beside them show the class histogram and the reading. Then a
    second run, drawn over the first."""
    open_live_page(page, server)
    page.get_by_test_id("stRadio").filter(has_text="Model family").get_by_text("GAN", exact=False).first.click()
    wait_idle(page, 60_000)
    page.locator(".st-key-lt_step").get_by_role("button", name="Step once").click()   # start paused, one step
    expect(status(page, "paused")).to_be_visible()
    expect(page.locator(".st-key-lt_class_chart .js-plotly-plot").first).to_be_visible()
    expect(page.locator(".st-key-lt_diagnostics")).to_contain_text("I'm stuck")
    wait_until(lambda: (page.evaluate(TRACE_AT_LAST_STEP, "G loss") or {}).get("x") == 1, page, timeout=90.0)
    page.locator(".st-key-lt_step_d").get_by_role("button", name="Step D only").click()
    wait_until(lambda: (page.evaluate(TRACE_AT_LAST_STEP, "D loss") or {}).get("x") == 2, page)
    d, g = page.evaluate(TRACE_AT_LAST_STEP, "D loss"), page.evaluate(TRACE_AT_LAST_STEP, "G loss")
    assert d["x"] == 2 and isinstance(d["y"], float), d            # D learned at step 2 ...
    assert g["x"] == 2 and g["y"] is None, g                         # ... G did not: no G loss at that step
    own = page.get_by_text("Step 2's own figures")
    expect(own).to_contain_text("D loss")
    expect(own).not_to_contain_text("G loss")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.locator(".st-key-lt_stop button").click()
    expect(status(page, "stopped")).to_be_visible()
    # a second run: drawn over the first on one chart, each labelled
    wait_idle(page, 60_000)
    page.locator(".st-key-lt_step").get_by_role("button", name="Step once").click()
    expect(status(page, "paused")).to_be_visible()
    names = wait_until(lambda: page.evaluate("""() => {
        const gd = document.querySelector('.st-key-lt_compare_chart .js-plotly-plot');
        return gd && gd.data.length >= 4 ? gd.data.map(d => d.name) : null; }"""), page)
    assert names[0].startswith("run 1") and names[2].startswith("run 2: same settings"), names
    page.locator(".st-key-lt_stop button").click()
    expect(status(page, "stopped")).to_be_visible()
