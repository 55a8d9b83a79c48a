"""The page in a real browser: Debian's chromium, headless, driven by Selenium through the system chromedriver.

It uploads two images through the page's file input, waits for the results, downloads one PNG and
the zip of all, checks them against the originals, and saves a screenshot in the test's folder.
Nothing is downloaded to run it; it is skipped only where chromium or chromedriver is missing
(scripts/setup.sh installs both).
"""
import io
import socket
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imageprivacy.web.app import create_app
from web.samples import BUDGET, decoded_pixels, encoded, photo, untrained_confoundergan

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                                reason="needs Debian's chromium and chromium-driver (apt-get install -y chromium "
                                       "chromium-driver; scripts/setup.sh does it)")
webdriver = pytest.importorskip("selenium.webdriver")
uvicorn = pytest.importorskip("uvicorn")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1200,1700"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def serve():
    """serve(protection, checkpoint=None) -> the address of the app on uvicorn, in a thread, on a free port."""
    running = []

    def start(protection, checkpoint=None) -> str:
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(protection, checkpoint), host="127.0.0.1", port=port,
                                               log_level="warning", access_log=False))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        running.append((server, thread))
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.05)
        return f"http://127.0.0.1:{port}"
    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def browser(tmp_path):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS + [f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.downloads = downloads
    yield driver
    driver.quit()


def _downloaded(folder: Path, name: str, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while not (folder / name).is_file() or any(folder.glob("*.crdownload")):
        assert time.monotonic() < deadline, f"{name} was not downloaded: {sorted(p.name for p in folder.iterdir())}"
        time.sleep(0.1)
    return folder / name


def _within_budget(original: bytes, protected: bytes) -> bool:
    change = np.abs(decoded_pixels(original).astype(int) - decoded_pixels(protected).astype(int))
    return 0 < change.max() <= BUDGET


def test_two_photos_through_the_page(serve, protection, generator_file, browser, tmp_path):
    server = serve(protection, generator_file)
    originals = {"beach.png": encoded(photo("RGB", (96, 64))), "portrait.jpg": encoded(photo("RGB", (48, 72)), "JPEG")}
    for name, data in originals.items():
        (tmp_path / name).write_bytes(data)
    wait = WebDriverWait(browser, 60)
    browser.get(server)
    wait.until(lambda d: d.find_element(By.ID, "method-title").text == "ConfounderGAN")
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "at most 8 of 255 levels" in page and "Protects against unauthorised training" in page
    assert "not recorded in this checkpoint" in page and "JPEG" in page         # fitted_on, and the warning

    browser.find_element(By.ID, "file-input").send_keys("\n".join(str(tmp_path / name) for name in originals))
    batch = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".batch.finished"))
    results = batch.find_elements(By.CSS_SELECTOR, ".result")
    assert [r.find_element(By.CSS_SELECTOR, ".result-path").text for r in results] == ["beach.png", "portrait.png"]
    assert batch.find_elements(By.CSS_SELECTOR, ".error") == []
    for result in results:
        assert f"largest change {BUDGET} of 255 levels" in result.text and "PSNR" in result.text
        images = result.find_elements(By.TAG_NAME, "img")
        assert len(images) == 3 and all(browser.execute_script("return arguments[0].naturalWidth", i) > 0
                                        for i in images)
    assert "Done: 2 images protected." in batch.text

    results[1].find_element(By.CSS_SELECTOR, "a.download").click()
    png = _downloaded(browser.downloads, "portrait.png").read_bytes()
    assert Image.open(io.BytesIO(png)).size == (48, 72) and _within_budget(originals["portrait.jpg"], png)

    batch.find_element(By.CSS_SELECTOR, ".download-all").click()
    with zipfile.ZipFile(_downloaded(browser.downloads, "protected.zip")) as archive:
        assert sorted(archive.namelist()) == ["beach.png", "portrait.png"]
        assert archive.read("portrait.png") == png
        assert _within_budget(originals["beach.png"], archive.read("beach.png"))

    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(tmp_path / "page.png"))
    assert Image.open(tmp_path / "page.png").size[0] > 0


def test_a_file_that_is_no_image_is_explained_on_the_page(serve, browser, tmp_path):
    method = untrained_confoundergan()
    method.fitted_on = {"data": "photos/train", "images": 1234, "image_shape": [3, 32, 24]}   # as fit records it
    (tmp_path / "notes.png").write_bytes(b"not an image at all")
    browser.get(serve(method))
    WebDriverWait(browser, 60).until(lambda d: d.find_element(By.ID, "method-title").text == "ConfounderGAN")
    assert "photos/train: 1,234 colour images of 24 × 32 pixels" in browser.find_element(By.ID, "facts").text
    browser.find_element(By.ID, "file-input").send_keys(str(tmp_path / "notes.png"))
    batch = WebDriverWait(browser, 60).until(lambda d: d.find_element(By.CSS_SELECTOR, ".batch.finished"))
    assert "notes.png is not an image" in batch.find_element(By.CSS_SELECTOR, ".error").text
    assert "1 file refused" in batch.text and not batch.find_element(By.CSS_SELECTOR, ".download-all").is_enabled()
