"""The Teach panel in a real headless Chromium: present while the server plays
a video, its buttons record live frames and the counts change, training adds
the personalised model's bars beside the base's; absent without a source."""
from edgeinfer.sources import open_video
from serve_server import parts_for, serving, wait_for
from test_serve_page import bars, browser, pytestmark  # noqa: F401 (the fixture, the skip)
from tools import sample_clip

import edgeinfer


def counts(driver):
    return driver.execute_script("""
        return Object.fromEntries(Array.from(document.querySelectorAll("#teach-counts li"),
                                             (li) => [li.dataset.label, Number(li.dataset.count)]));""")


def test_the_teach_panel_records_and_trains(browser, media, tmp_path):  # noqa: F811
    clip = str(tmp_path / "clip.mp4")
    sample_clip.write_clip(clip, (160, 120), 150, fps=30.0)   # 10 s in real time
    parts = parts_for([media["model"]], open_video(clip, realtime=True), top_k=2,
                      teach_dir=str(tmp_path / "teach"),
                      load=lambda path: edgeinfer.load(path, threads=1))
    with serving(parts) as url:
        browser.get(url + "/")
        wait_for(lambda: browser.find_elements("id", "teach"), seconds=20, what="the panel")
        field = browser.find_element("id", "teach-label")
        field.send_keys("kitty")
        browser.find_element("id", "record-10").click()
        wait_for(lambda: counts(browser) == {"kitty": 10}, what="10 kitty samples counted")
        field.clear()
        field.send_keys("other")
        browser.find_element("id", "record-1").click()
        wait_for(lambda: counts(browser) == {"kitty": 10, "other": 1}, what="1 other counted")
        assert sorted(p.name for p in (tmp_path / "teach" / "kitty").iterdir())[-1] == \
            "0010.png"
        browser.find_element("id", "teach-head").send_keys("kNN")
        browser.find_element("id", "train").click()
        wait_for(lambda: "personal-knn" in bars(browser) and bars(browser)["personal-knn"],
                 seconds=20, what="the personalised model's bars")
        assert browser.execute_script(  # side by side, the base first
            "return Array.from(document.querySelectorAll('#models .model h2'), "
            "(h) => h.textContent)") == ["photo", "personal-knn"]
        wait_for(lambda: "personal-knn trained" in browser.find_element("id", "teach-status").text,
                 what="the panel to say it trained")


def test_the_teach_panel_is_absent_without_a_source(browser, media, tmp_path):  # noqa: F811
    parts = parts_for([media["model"]], teach_dir=str(tmp_path / "teach"), load=edgeinfer.load)
    with serving(parts) as url:
        browser.get(url + "/")
        wait_for(lambda: browser.find_element("id", "source").text == "no live source",
                 what="the page to start")
        wait_for(lambda: browser.execute_script(
            "return document.getElementById('status').textContent === '' && "
            "document.querySelectorAll('#models .model').length === 1"), what="the models")
        assert not browser.find_elements("id", "teach")
        assert browser.find_elements("id", "teach-slot")
