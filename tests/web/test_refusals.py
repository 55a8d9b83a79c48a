"""Bad uploads get a 4xx with a JSON reason and the server goes on: corrupt files, non-images, huge images,
zip bombs, entries that climb out of their folder, too many files, too many bytes."""
import io
import struct
import zipfile
import zlib

import pytest
from fastapi.testclient import TestClient

from imageprivacy.web.app import create_app
from imageprivacy.web.upload_limits import UploadLimits
from web.samples import encoded, photo, zipped

SMALL = UploadLimits(max_megapixels=0.01, max_files=3, max_upload_mb=0.25)   # 10,000 px, 3 files, 256 KiB


@pytest.fixture(scope="module")
def client(protection):
    # raise_server_exceptions (the default) turns any crash of the server into a failing test
    return TestClient(create_app(protection, limits=SMALL))


def _refused(client, name, data, status):
    response = client.post("/api/protect", files={"file": (name, data)})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert client.get("/health").status_code == 200          # and the server goes on
    return response.json()["error"]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares width x height and holds no pixel data at all (an empty IDAT)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"") + _chunk(b"IEND", b"")


PNG = encoded(photo(size=(20, 20)))


@pytest.mark.parametrize("name, data, reason", [
    ("broken.png", PNG[: len(PNG) // 2], "cannot read image broken.png"),
    ("broken.jpg", encoded(photo(size=(40, 40)), "JPEG")[:300], "cannot read image broken.jpg"),
    ("noise.png", bytes(range(256)) * 4, "not an image"),
    ("notes.txt", b"my shopping list", "not an image"),
    ("empty.png", b"", "not an image"),
])
def test_files_that_do_not_decode(client, name, data, reason):
    assert reason in _refused(client, name, data, 422)


def test_an_image_over_the_megapixel_limit_is_refused_from_its_header(client):
    # 101 x 100 = 10,100 px > 10,000; the file has no pixel data, so refusing it proves nothing was decoded
    error = _refused(client, "huge.png", _png_header(101, 100), 413)
    assert "101x100" in error and "--max-megapixels" in error


def test_a_decompression_bomb_is_refused(protection):
    client = TestClient(create_app(protection))             # the default 50 MP
    assert "too large" in _refused(client, "bomb.png", _png_header(40_000, 40_000), 413)


def test_too_many_files_in_a_zip(client):
    upload = zipped({f"{k}.png": PNG for k in range(4)})
    assert "4 files" in _refused(client, "many.zip", upload, 413)


def test_a_zip_bomb_is_refused_by_its_declared_size(client):
    upload = zipped({"zeros.png": bytes(1 << 20)})                # 1 MiB of zeros deflates to ~1 KiB
    assert len(upload) < 5000
    assert "unpacks to 1.0 MB" in _refused(client, "bomb.zip", upload, 413)


def test_a_zip_entry_that_lies_about_its_size_is_not_read_past_it(client):
    real = zipped({"a.png": PNG})
    info = zipfile.ZipFile(io.BytesIO(real)).infolist()[0]
    small = struct.pack("<I", 100)
    # the local header (offset 22) and the central directory (offset 24) both declare 100 bytes
    forged = bytearray(real)
    forged[22:26] = small
    central = real.index(b"PK\x01\x02")
    forged[central + 24:central + 28] = small
    assert info.file_size > 100
    assert "cannot be unpacked" in _refused(client, "lying.zip", bytes(forged), 422)


@pytest.mark.parametrize("entry", ["../evil.png", "photos/../../evil.png", "/etc/evil.png", "..\\evil.png",
                                   "C:/evil.png"])
def test_zip_entries_that_climb_out_are_refused(client, entry):
    upload = zipped({"fine.png": PNG, entry: PNG})
    assert "climbs out" in _refused(client, "sneaky.zip", upload, 422)


def test_an_encrypted_entry_is_refused(client):
    upload = bytearray(zipped({"a.png": PNG}, compression=zipfile.ZIP_STORED))
    central = upload.index(b"PK\x01\x02")
    upload[6] |= 1                       # general-purpose flag bit 0: encrypted (local header and directory)
    upload[central + 8] |= 1
    assert "encrypted" in _refused(client, "secret.zip", bytes(upload), 422)


@pytest.mark.parametrize("name, data, reason", [
    ("photos.zip", b"PK\x03\x04 but no zip after all", "not a readable zip"),
    ("empty.zip", zipped({"notes.txt": b"hello"}), "no image files"),
    ("twice.zip", zipped({"a.png": PNG, "A.PNG": PNG}), "twice"),
    ("broken.zip", zipped({"a.png": PNG[:100]}), "cannot read image a.png"),
])
def test_zips_that_cannot_be_used(client, name, data, reason):
    assert reason in _refused(client, name, data, 422)


def test_an_upload_over_the_byte_limit(client):
    too_big = bytes(300 * 1024)
    assert "0.25 MB" in _refused(client, "big.png", too_big, 413)


def test_a_chunked_upload_over_the_byte_limit_is_cut_off(client):
    def chunks():                         # no Content-Length: the limit is counted as the body arrives
        for _ in range(64):
            yield bytes(8192)
    response = client.post("/api/protect", content=chunks(),
                           headers={"content-type": "multipart/form-data; boundary=x"})
    assert response.status_code == 413 and "limit" in response.json()["error"]


def test_a_request_without_the_file_field(client):
    response = client.post("/api/protect", files={"photo": ("a.png", PNG)})
    assert response.status_code == 422 and "'file'" in response.json()["error"]
