"""Nothing the app's pages load leaves the machine: every request a real browser makes is routed, anything not
on the app's own host is blocked and recorded, and after walking every page (and a lesson, in both
languages) the record must be empty."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from e2e_helpers import browser_api, launch, wait_idle

pytestmark = pytest.mark.e2e

_, sync_playwright = browser_api(None)

PATHS = ["", "latent", "noise", "text", "music", "training", "lessons", "class", "?lesson=rnn-steps&lang=zh",
         "latent?lang=zh&present=1"]


def test_no_request_leaves_the_machine(server):
    attempted: list[str] = []
    url = server
    with sync_playwright() as p:
        own = urlsplit(url).netloc
        browser = launch(p)
        ctx = browser.new_context(viewport={"width": 1280, "height": 720})

        def route(r):
            if urlsplit(r.request.url).netloc == own or r.request.url.startswith(("data:", "blob:")):
                r.continue_()
            else:
                attempted.append(r.request.url)
                r.abort()
        ctx.route("**/*", route)
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        for path in PATHS:
            page.goto(f"{url}/{path}")
            page.get_by_test_id("stHeading").first.wait_for()
            wait_idle(page, 60_000)
            page.wait_for_timeout(1500)       # late loads: fonts, icons, the pad's runtime
        browser.close()
    assert attempted == [], attempted
