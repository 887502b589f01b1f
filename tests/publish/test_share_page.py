"""The share page in Debian's Chromium, headless, driven by Selenium through /usr/bin/chromedriver (no
browser is downloaded): BlurHash and poster at once, hls.js plays, switches rungs, no console error."""

from __future__ import annotations

import shutil
import time

import pytest

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def browser(tmp_path):
    if not (shutil.which(CHROMIUM) and shutil.which(DRIVER)):
        pytest.fail("Debian's chromium and chromium-driver are needed: `make system-deps` installs them")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--mute-audio",
                "--autoplay-policy=no-user-gesture-required", "--window-size=540,960",
                f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def wait_for(driver, script: str, timeout: float, what: str):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}: {driver.execute_script('return document.body.innerText')!r}")


SEGMENTS = """return performance.getEntriesByType('resource').map(e => e.name)
                  .filter(n => n.endsWith('.m4s')).map(n => n.split('/').slice(-2)[0]);"""


def test_share_page_shows_poster_and_plays_several_rungs_without_console_errors(published, browser):
    browser.get(published["show"]["share_url"])
    assert browser.execute_script("return window.blurPainted === true")    # painted before anything loaded
    assert browser.title == "Cockatoo <on> a branch"
    wait_for(browser, "const p = document.getElementById('poster'); return p.complete && p.naturalWidth === 1080",
             20, "the poster")
    wait_for(browser, "return window.hls && window.hls.levels && window.hls.levels.length === 4", 20,
             "hls.js to read the master playlist")
    heights = browser.execute_script("return window.hls.levels.map(l => l.height)")
    assert sorted(heights) == [640, 854, 1280, 1920]
    lowest, highest = heights.index(640), heights.index(1920)
    browser.execute_script(f"window.hls.currentLevel = {lowest};")
    wait_for(browser, "return document.getElementById('video').currentTime > 0.3", 30, "playback to start")
    # a switch up mid-play (as a better connection would): the next segments come from another rung
    browser.execute_script(f"window.hls.currentLevel = {highest};")
    played = 0.0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and played <= 2.2:
        played = max(played, browser.execute_script("return document.getElementById('video').currentTime"))
        time.sleep(0.1)
    assert played > 2.0
    rungs = set(browser.execute_script(SEGMENTS))
    assert {"360p", "1080p"} <= rungs, rungs
    assert browser.execute_script("return document.getElementById('video').videoHeight") in (640, 1920)
    assert not browser.execute_script("return document.querySelector('.error')")
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
