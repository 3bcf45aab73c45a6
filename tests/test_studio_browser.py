"""latentjax studio in a real browser: Debian's headless Chromium driven by selenium against the
session's studio server (conftest.studio_server). Skipped only where chromium / chromedriver are
not installed (`apt-get install -y chromium chromium-driver`; .ci/run installs them)."""

from __future__ import annotations

import io
import shutil

import httpx
import numpy as np
import pytest
from PIL import Image

from latentjax.directions import load_direction

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver)",
)

# Offline: no sync, no component or field-trial downloads (the closed network refuses Google's hosts).
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--window-size=1280,1000",
]

READ_PIXELS = """
const img = document.getElementById(arguments[0]) || arguments[0];
const c = document.createElement('canvas');
c.width = img.naturalWidth; c.height = img.naturalHeight;
const ctx = c.getContext('2d');
ctx.drawImage(img, 0, 0);
return [c.width, c.height, Array.from(ctx.getImageData(0, 0, c.width, c.height).data)];
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def wait(driver, condition, timeout=60, what="condition"):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition, message=f"timed out waiting for {what}")


def shown_pixels(driver) -> np.ndarray:
    """RGB of the main image as the page shows it (decoded by the browser, read back from a canvas)."""
    w, h, data = driver.execute_script(READ_PIXELS, "image")
    return np.asarray(data, np.uint8).reshape(h, w, 4)[..., :3]


def server_pixels(url: str, **params) -> np.ndarray:
    r = httpx.get(url + "/render.png", params=params, timeout=60)
    assert r.status_code == 200, r.text
    return np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))


def open_page(driver, url):
    driver.get(url + "/")
    wait(driver, lambda d: d.execute_script("return document.getElementById('image').dataset.version"), what="image")


def test_slider_changes_the_image_to_what_render_png_gives(studio_server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url = studio_server.url
    open_page(browser, url)
    before = shown_pixels(browser)
    np.testing.assert_array_equal(before, server_pixels(url, seed=0, psi=1))

    slider = browser.find_element(By.CSS_SELECTOR, "input[type=range][data-direction=tilt]")
    slider.click()  # the thumb sits in the middle (0): a click there moves it little or not at all
    for _ in range(6):
        slider.send_keys(Keys.ARROW_RIGHT)
    value = slider.get_property("value")
    assert float(value) > 0
    shown_url = lambda d: d.find_element(By.ID, "image").get_attribute("data-url") or ""  # noqa: E731
    wait(browser, lambda d: f"tilt={value}" in shown_url(d), what="render")
    shown = shown_pixels(browser)
    assert not np.array_equal(shown, before)
    np.testing.assert_array_equal(shown, server_pixels(url, seed=0, psi=1, tilt=value))

    # truncation and style mix go through the same path
    psi = browser.find_element(By.ID, "psi")
    psi.click()
    for _ in range(4):
        psi.send_keys(Keys.ARROW_LEFT)
    browser.find_element(By.ID, "mix-on").click()
    psi_value, mix_layer = psi.get_property("value"), browser.find_element(By.ID, "mix-layer").get_property("value")
    want = f"mix_layer={mix_layer}"
    wait(browser, lambda d: want in d.find_element(By.ID, "image").get_attribute("data-url"), what="style mix render")
    expected = server_pixels(url, seed=0, psi=psi_value, mix_seed=1, mix_layer=mix_layer, tilt=value)
    np.testing.assert_array_equal(shown_pixels(browser), expected)
    browser.save_screenshot(str(tmp_path / "studio_edit.png"))
    shot = np.asarray(Image.open(tmp_path / "studio_edit.png"))
    assert shot.shape[1] >= 1000 and len(np.unique(shot.reshape(-1, shot.shape[-1]), axis=0)) > 100


def test_label_sixteen_samples_and_make_a_direction(studio_server, browser, tmp_path):
    """Click faces by the toy world's exact smile (a person's judgement), page on until 5 of each,
    make the direction: a new slider appears and the file is the toolkit's direction format."""
    from selenium.webdriver.common.by import By

    from latentjax.seeds import z_from_seeds
    from latentjax.toyfaces import labels_of

    open_page(browser, studio_server.url)
    browser.find_element(By.ID, "tab-label").click()
    clicked = {True: [], False: []}
    for _page in range(6):
        cells = browser.find_elements(By.CSS_SELECTOR, "#grid .cell")
        assert len(cells) == 16
        wait(
            browser,
            lambda d: d.execute_script(
                "return [...document.querySelectorAll('#grid img')].every(i => i.complete && i.naturalWidth > 0)"
            ),
            what="16 samples",
        )
        seeds = [int(c.get_attribute("data-seed")) for c in cells]
        smiling = np.asarray(labels_of(z_from_seeds(seeds, 64))["smiling"])
        for cell, seed, y in zip(cells, seeds, smiling):
            for _ in range(1 if y else 2):  # once: positive, twice: negative
                cell.click()
            assert ("pos" if y else "neg") in cell.get_attribute("class")
            clicked[bool(y)].append(seed)
        if min(len(clicked[True]), len(clicked[False])) >= 5:
            break
        browser.find_element(By.ID, "grid-next").click()
    browser.save_screenshot(str(tmp_path / "studio_label.png"))
    counts = browser.find_element(By.ID, "counts").text
    assert counts.startswith(f"{len(clicked[True])} positive, {len(clicked[False])} negative")

    make = browser.find_element(By.ID, "make")
    assert not make.is_enabled()  # no name yet
    browser.find_element(By.ID, "dir-name").send_keys("browser_smile")
    assert make.is_enabled()
    make.click()
    slider = wait(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, "input[type=range][data-direction=browser_smile]"),
        what="the new slider",
    )[0]
    assert browser.find_element(By.ID, "edit-view").is_displayed() and slider.is_displayed()
    d = load_direction(studio_server.dirs / "browser_smile.npz")
    assert sorted(d.hyperparameters["positive"]) == sorted(clicked[True])
    assert sorted(d.hyperparameters["negative"]) == sorted(clicked[False])
    assert d.space == "w" and d.method == "logistic" and d.metrics["train_accuracy"] >= 0.9
    browser.save_screenshot(str(tmp_path / "studio_new_slider.png"))


@pytest.mark.slow  # the projector compiles once per process (~20-60 s); 3 steps after that
def test_a_dropped_photo_becomes_the_edited_latent(studio_server, browser, tmp_path):
    """The drop zone's upload, job polling and switch to the new latent, with a photo made in the
    page itself (the current image, as a PNG file) handed to the same function a drop calls."""
    from selenium.webdriver.common.by import By

    open_page(browser, studio_server.url)
    browser.execute_script(
        """
        const img = document.getElementById('image');
        const c = document.createElement('canvas');
        c.width = 160; c.height = 120;
        c.getContext('2d').drawImage(img, 0, 0, 160, 120);
        c.toBlob((blob) => invert(new File([blob], 'photo.png', {type: 'image/png'})), 'image/png');
        """
    )
    shown_url = lambda d: d.find_element(By.ID, "image").get_attribute("data-url") or ""  # noqa: E731
    wait(browser, lambda d: "latent=photo" in shown_url(d), timeout=300, what="the projected latent")
    latent = browser.find_element(By.ID, "latent-id").text
    assert latent.startswith("photo") and browser.find_element(By.ID, "latent-row").is_displayed()
    assert not browser.find_element(By.ID, "seed-row").is_displayed()
    assert "LPIPS" in browser.find_element(By.ID, "invert-status").text
    zslider = browser.find_element(By.CSS_SELECTOR, "input[type=range][data-direction=zshift]")
    assert not zslider.is_enabled()  # a stored latent has no z
    np.testing.assert_array_equal(shown_pixels(browser), server_pixels(studio_server.url, latent=latent, psi=1))
    browser.save_screenshot(str(tmp_path / "studio_photo.png"))
    browser.find_element(By.ID, "use-seed").click()
    wait(browser, lambda d: "seed=0" in shown_url(d), what="back to the seed")
    assert zslider.is_enabled()
