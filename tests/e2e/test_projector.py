"""Presenter mode on a 1920×1080 projector: pictures, not only the type, grow for the back of the room."""
from __future__ import annotations

import pytest
from e2e_helpers import browser_api, launch, settled_width, wait_idle
from pad_helpers import wait_pad_frame

pytestmark = pytest.mark.e2e
expect, sync_playwright = browser_api(45_000)
PROJECTOR = {"width": 1920, "height": 1080}


@pytest.fixture(scope="module")
def page(server):
    url = server
    with sync_playwright() as p:
        browser = launch(p)
        pg = browser.new_page(viewport=PROJECTOR)
        pg.base_url = url
        yield pg
        browser.close()


def test_a_gan_tile_is_at_least_120_px_on_a_projector(page):
    page.goto(page.base_url + "/noise?present=1")
    image = page.get_by_test_id("stImage").locator("img").first
    expect(image).to_be_visible()
    wait_idle(page, 60_000)
    tile = settled_width(image) / 10                                   # the default: 20 samples, ten to a row
    print(f"\nGAN tile on a 1920x1080 projector, presenter mode: {tile:.0f} px")
    assert tile >= 120, f"a GAN tile is {tile:.0f} px wide"
    page.goto(page.base_url + "/noise?present=0")
    expect(image).to_be_visible()
    wait_idle(page, 60_000)
    assert settled_width(image) / 10 < tile     # presenter mode made it larger


def test_the_pad_and_the_piano_roll_grow_too(page):
    page.goto(page.base_url + "/latent?model=digits-vae&present=1")
    wait_pad_frame(page)
    assert page.locator(".pad-canvas").bounding_box()["width"] > 500
    page.goto(page.base_url + "/music?present=1")
    roll = page.locator(".st-key-mu_roll").first
    expect(roll).to_be_visible()
    assert roll.bounding_box()["height"] >= 450
