"""The Fashion-MNIST models in a real browser: the latent explorer and noise -> image pages show clothes."""
from __future__ import annotations

import pytest
from e2e_helpers import browser_api, img_src, launch, wait_idle

pytestmark = pytest.mark.e2e

expect, sync_playwright = browser_api()


@pytest.fixture(scope="module")
def page(server):
    url = server
    with sync_playwright() as p:
        browser = launch(p)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.goto(url + "/")
        pg.get_by_test_id("stSidebarNavLink").first.wait_for(timeout=60_000)
        wait_idle(pg, 60_000)
        pg.base_url = url
        yield pg
        browser.close()


def test_explorer_decodes_clothes_and_follows_the_slider(page):
    page.goto(f"{page.base_url}/latent?model=fashion-vae&z=0.00,0.00")
    expect(page.locator(".st-key-le_model input")).to_have_value("fashion-vae")
    page.locator(".st-key-le_classic label").click()        # server-side sliders; the pad has its own tests
    expect(page.locator(".st-key-le_output img")).to_be_visible()
    wait_idle(page)
    before = img_src(page, "le_output")
    page.locator(".st-key-le_z0 input[type=range]").press("End")
    page.wait_for_function("old => { const i = document.querySelector('.st-key-le_output img');"
                           " return i && i.getAttribute('src') !== old; }", arg=before)
    page.wait_for_function("() => decodeURIComponent(location.href).includes('z=4.00,0.00')")
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_noise_page_draws_a_requested_piece_of_clothing(page):
    page.goto(f"{page.base_url}/noise")
    expect(page.get_by_test_id("stHeading").filter(has_text="Noise → image & sound").first).to_be_visible()
    wait_idle(page)
    page.locator(".st-key-ni_model input").click()
    page.get_by_role("option", name="fashion-gan").click()
    expect(page.locator(".st-key-ni_model input")).to_have_value("fashion-gan")
    wait_idle(page)
    page.locator(".st-key-ni_label input").click()
    page.get_by_role("option", name="Ankle boot").click()
    expect(page.get_by_test_id("stImageCaption").filter(has_text="Ankle boot").first).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
