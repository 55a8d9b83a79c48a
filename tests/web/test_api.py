"""The HTTP API: /health, one image in -> its PNG out (mode, size, alpha, budget), a zip in -> a zip out."""
import base64
import io
import math
import zipfile

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from imageprivacy.protections.pixel_budget import REENCODING_WARNING
from imageprivacy.web.app import create_app
from web.samples import BUDGET, decoded_pixels, encoded, photo, untrained_confoundergan, zipped


@pytest.fixture(scope="module")
def client(protection, generator_file):
    return TestClient(create_app(protection, generator_file))


def _protect(client, name, data, **params):
    response = client.post("/api/protect", files={"file": (name, data)}, params=params)
    assert response.status_code == 200, response.text
    return response


def _change(original: bytes, protected: bytes) -> np.ndarray:
    a, b = decoded_pixels(original).astype(int), decoded_pixels(protected).astype(int)
    assert a.shape == b.shape
    return np.abs(a - b)


def test_health_describes_the_loaded_generator(client, generator_file):
    body = client.get("/health").json()
    p = body["protection"]
    assert (p["method"], p["title"], p["channels"], p["budget_levels"], p["bounded"]) == (
        "confoundergan", "ConfounderGAN", 3, BUDGET, True)
    assert p["classes"] == ["cats", "dogs"] and p["fitted_on"] == {}
    assert p["checkpoint"] == generator_file.name              # the file's name, never the local path
    assert "unauthorised training" in p["protects_against"] and "kind='mixture'" in p["details"]
    assert body["warning"] == REENCODING_WARNING and body["limits"]["max_megapixels"] == 50


def test_health_says_what_data_a_fitted_checkpoint_saw(fit_protection):
    p = TestClient(create_app(fit_protection("confoundergan"))).get("/health").json()["protection"]
    assert p["fitted_on"] == {"data": "tiny", "images": 64, "image_shape": [1, 16, 16]}
    assert p["channels"] == 1 and p["checkpoint"] is None


@pytest.mark.parametrize("mode, written", [("L", "L"), ("LA", "LA"), ("RGB", "RGB"), ("RGBA", "RGBA"),
                                           ("P", "RGB")])
def test_one_image_keeps_size_mode_alpha_and_the_8_bit_budget(client, mode, written):
    source = photo(mode)
    data = encoded(source)
    response = _protect(client, f"photo.{mode}.png", data)
    assert response.headers["content-type"] == "image/png"
    assert 'filename="photo.L.png"'.replace("L", mode) in response.headers["content-disposition"]
    with Image.open(io.BytesIO(response.content)) as out:
        assert out.format == "PNG" and out.mode == written and out.size == source.size
    change = _change(data, response.content)
    if mode in ("LA", "RGBA"):
        assert change[..., -1].max() == 0          # alpha is copied, never protected
        change = change[..., :-1]
    assert change.max() == BUDGET == int(response.headers["x-imageprivacy-max-change"])
    mse = (change.astype(float) ** 2).mean() / 255 ** 2
    assert float(response.headers["x-imageprivacy-psnr-db"]) == pytest.approx(-10 * math.log10(mse), abs=1e-3)


def test_a_jpeg_comes_back_as_png_named_after_it(client):
    response = _protect(client, "holiday.jpg", encoded(photo("RGB", (64, 48)), "JPEG", quality=90))
    assert 'filename="holiday.png"' in response.headers["content-disposition"]
    assert Image.open(io.BytesIO(response.content)).size == (64, 48)


@pytest.mark.parametrize("protect_channels, mode", [(1, "RGB"), (3, "L")])
def test_channel_counts_that_differ_from_the_generator(protect_channels, mode):
    client = TestClient(create_app(untrained_confoundergan(channels=protect_channels)))
    data = encoded(photo(mode))
    response = _protect(client, "x.png", data)
    assert Image.open(io.BytesIO(response.content)).mode == mode
    assert 0 < _change(data, response.content).max() <= BUDGET


def test_a_zip_comes_back_as_a_zip_with_its_paths(client):
    images = {"holiday/a.jpg": encoded(photo("RGB"), "JPEG"), "holiday/sub/b.png": encoded(photo("RGBA")),
              "holiday/sub/b.jpg": encoded(photo("L"), "JPEG"), "holiday/c.gif": encoded(photo("P"), "GIF")}
    upload = zipped({"holiday/": b"", **images, "holiday/notes.txt": b"not a photo", "__MACOSX/holiday/._a.jpg": b"x",
                     "holiday/.thumbs/d.png": encoded(photo())})
    response = _protect(client, "holiday.zip", upload)
    assert response.headers["content-type"] == "application/zip"
    assert 'filename="holiday-protected.zip"' in response.headers["content-disposition"]
    assert response.headers["x-imageprivacy-images"] == "4"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        outputs = {name: archive.read(name) for name in archive.namelist()}
    # b.png keeps its name, b.jpg becomes b.jpg.png (as `imageprivacy protect` names them)
    assert sorted(outputs) == ["holiday/a.png", "holiday/c.png", "holiday/sub/b.jpg.png", "holiday/sub/b.png"]
    sources = {"holiday/a.png": "holiday/a.jpg", "holiday/c.png": "holiday/c.gif",
               "holiday/sub/b.jpg.png": "holiday/sub/b.jpg", "holiday/sub/b.png": "holiday/sub/b.png"}
    for name, source in sources.items():
        assert 0 < _change(images[source], outputs[name]).max() <= BUDGET


def test_json_answer_is_the_same_protection_with_previews(client):
    data = encoded(photo("RGB", (900, 300)))
    plain = _protect(client, "wide.png", data)
    items = _protect(client, "wide.png", data, format="json").json()["items"]
    assert len(items) == 1
    item = items[0]
    assert base64.b64decode(item["protected"]) == plain.content
    assert (item["path"], item["width"], item["height"], item["input_mode"], item["output_mode"]) == (
        "wide.png", 900, 300, "RGB", "RGB")
    assert item["max_change_levels"] == BUDGET == item["budget_levels"]
    assert item["psnr_db"] == pytest.approx(float(plain.headers["x-imageprivacy-psnr-db"]), abs=1e-3)
    for key in ("original_preview", "noise_preview"):
        assert Image.open(io.BytesIO(base64.b64decode(item[key]))).size == (640, 213)   # long side 640


def test_download_all_bundles_the_pngs_at_their_paths(client):
    pngs = {"a.png": encoded(photo()), "trip/b.png": encoded(photo("L"))}
    response = client.post("/api/zip", files=[("file", (name, data)) for name, data in pngs.items()])
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert {name: archive.read(name) for name in archive.namelist()} == pngs


@pytest.mark.parametrize("files, reason", [
    ([("../a.png", encoded(photo()))], "climbs out"),
    ([("a.png", encoded(photo())), ("A.png", encoded(photo()))], "same path"),
    ([("a.png", b"GIF89a")], "not a PNG"),
])
def test_download_all_refuses_what_is_not_the_pages_pngs(client, files, reason):
    response = client.post("/api/zip", files=[("file", f) for f in files])
    assert response.status_code == 422 and reason in response.json()["error"]


def test_a_method_that_needs_classes_reads_them_from_zip_folders(fit_protection):
    method = fit_protection("classwise", rgb=True)          # class0..class2; nothing trained
    client = TestClient(create_app(method))
    single = client.post("/api/protect", files={"file": ("x.png", encoded(photo()))})
    assert single.status_code == 422 and "class" in single.json()["error"]
    tile = encoded(photo(size=(16, 16)))                    # class-wise noise has the size it was fitted on
    response = _protect(client, "set.zip", zipped({"class1/x.png": tile, "class2/y.png": tile}))
    assert zipfile.ZipFile(io.BytesIO(response.content)).namelist() == ["class1/x.png", "class2/y.png"]


def test_a_zip_as_json_lists_every_image_at_its_path(client):
    upload = zipped({"trip/day1/a.png": encoded(photo()), "trip/b.jpg": encoded(photo("L"), "JPEG")})
    body = _protect(client, "trip.zip", upload, format="json").json()
    assert body["zip"] is True
    assert [(i["source"], i["path"], i["output_mode"]) for i in body["items"]] == [
        ("trip/day1/a.png", "trip/day1/a.png", "RGB"), ("trip/b.jpg", "trip/b.png", "L")]
