"""The live page in a real headless Chromium (Selenium with Debian's chromium
and chromedriver): while the server plays a clip, the page shows each model's
predictions, the video, the rate; on a phone-sized window too. The screenshot
is kept and must not be blank."""
import shutil

import cv2
import numpy as np
import pytest

from edgeinfer.sources import open_video
from serve_server import parts_for, serving, wait_for
from tools import sample_clip

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TOKEN = "page-test-token"

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
pytestmark = pytest.mark.skipif(bool(missing), reason=f"no {' or '.join(missing)} here "
                                                      "(Debian: apt install chromium "
                                                      "chromium-driver)")


@pytest.fixture
def browser(tmp_path):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1100,800", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def bars(driver):
    """{model: [labels shown, best first]} as the page shows them, read in one go
    in the page (it replaces the bars with each result)."""
    return driver.execute_script("""
        const shown = {};
        for (const card of document.querySelectorAll("#models .model")) {
          shown[card.querySelector("h2").textContent] =
            Array.from(card.querySelectorAll(".label"), (label) => label.textContent);
        }
        return shown;""")


def test_the_live_page_shows_predictions_of_the_served_clip(browser, media, tmp_path):
    clip = str(tmp_path / "clip.mp4")
    sample_clip.write_clip(clip, (320, 240), 45, fps=15.0)   # 6 s in real time
    parts = parts_for([media["model"], media["model"]], open_video(clip, realtime=True),
                      top_k=2)
    with serving(parts, token=TOKEN) as url:
        browser.get(f"{url}/?token={TOKEN}")   # the page keeps the token as a cookie
        wait_for(lambda: all(labels and labels[0] in ("cat", "coffee")
                             for labels in bars(browser).values()) and len(bars(browser)) == 2,
                 seconds=20, what="predictions on the page")
        assert list(bars(browser)) == ["photo", "photo#2"]
        assert "token" not in browser.current_url   # out of the address bar and history
        wait_for(lambda: browser.execute_script(
            "const v = document.getElementById('video'); return !v.hidden && v.naturalWidth"),
            what="the video")
        wait_for(lambda: browser.find_element("id", "fps").text not in ("–", "0.0"),
                 what="the frame rate")
        frame = int(browser.execute_script("return document.body.dataset.frame"))
        wait_for(lambda: int(browser.execute_script("return document.body.dataset.frame"))
                 > frame, what="the page to follow the stream")
        shot = tmp_path / "live-page.png"
        assert browser.save_screenshot(str(shot))
        browser.set_window_size(390, 844)   # a phone
        phone = browser.execute_script(
            "const m = document.getElementById('models').getBoundingClientRect();"
            "const v = document.getElementById('view').getBoundingClientRect();"
            "return [m.top >= v.bottom - 1, document.documentElement.scrollWidth, innerWidth]")
        browser.save_screenshot(str(tmp_path / "live-page-phone.png"))
    print(f"screenshots: {shot} and live-page-phone.png beside it")
    image = cv2.imread(str(shot))
    assert image is not None and image.shape[0] > 300
    assert float(np.var(image)) > 200, "the screenshot is blank"
    # the video's region (left half) holds a picture, not one flat colour
    assert float(image[:, : image.shape[1] // 2].std()) > 20
    stacked, page_width, window_width = phone
    assert stacked, "on a phone the bars go under the video"
    assert page_width <= window_width, "on a phone nothing scrolls sideways"
