"""What `protect` keeps of each image: tRNS transparency in L and RGB, 16 bits, the budget at each depth."""
import numpy as np
import pytest
import torch
from PIL import Image

from imageprivacy.data.image_files import read_image
from imageprivacy.protections.pixel_budget import budget_in_levels
from imageprivacy.protections.unlearnable.protect_folder import protect_path
from unlearnable.protect_doubles import EPS, AddNoise, random_pixels, untrained_generator

LEVELS = budget_in_levels(EPS)                # 8 levels of 255


def _written(path):
    with Image.open(path) as image:
        return image.mode, dict(image.info), np.asarray(image).astype(np.int64)


def test_trns_in_a_grayscale_png_stays_exact(tmp_path):
    """Key 108; pixels of 100 would become 108 (transparent!) under +8, pixels of 108 would turn opaque."""
    array = np.array([[108, 100, 50], [108, 100, 255]], np.uint8)
    (tmp_path / "in").mkdir()
    Image.fromarray(array).save(tmp_path / "in" / "k.png", transparency=108)
    assert read_image(tmp_path / "in" / "k.png").transparent_color == (108,)
    assert protect_path(AddNoise(channels=1), tmp_path / "in", tmp_path / "out").ok
    mode, info, out = _written(tmp_path / "out" / "k.png")
    assert mode == "L" and info["transparency"] == 108
    assert out.tolist() == [[108, 107, 58], [108, 107, 255]]       # opaque ones stay opaque, within budget


def test_trns_in_an_rgb_png_stays_exact(tmp_path):
    key = (10, 20, 30)
    array = np.array([[key, (2, 12, 22), (200, 100, 50)]], np.uint8)    # (2,12,22) + 8 would be the key
    (tmp_path / "in").mkdir()
    Image.fromarray(array).save(tmp_path / "in" / "k.png", transparency=key)
    assert protect_path(AddNoise(), tmp_path / "in", tmp_path / "out").ok
    mode, info, out = _written(tmp_path / "out" / "k.png")
    assert mode == "RGB" and info["transparency"] == key
    assert out[0, 0].tolist() == list(key) and out[0, 1].tolist() == [9, 20, 30]
    assert np.abs(out - array).max() <= LEVELS


def test_alpha_and_palette_transparency_are_kept(tmp_path):
    rgba = np.dstack([random_pixels(4, 4), np.arange(16, dtype=np.uint8).reshape(4, 4) * 16])
    (tmp_path / "in").mkdir()
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "in" / "a.png")
    Image.fromarray(random_pixels(4, 4)).convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(
        tmp_path / "in" / "p.png", transparency=0)
    assert protect_path(AddNoise(), tmp_path / "in", tmp_path / "out").ok
    assert np.array_equal(_written(tmp_path / "out" / "a.png")[2][..., 3], rgba[..., 3])
    palette = read_image(tmp_path / "in" / "p.png")
    assert torch.equal(read_image(tmp_path / "out" / "p.png").alpha, palette.alpha) and 0 in palette.alpha


@pytest.mark.parametrize("channels", [1, 3])
def test_16_bit_pngs_are_protected_and_written_16_bit(tmp_path, channels):
    values = np.array([[0, 1000, 30000], [40000, 65535, 2056]], np.uint16)
    (tmp_path / "in").mkdir()
    Image.fromarray(values).save(tmp_path / "in" / "d.png")
    summary = protect_path(AddNoise(channels=channels), tmp_path / "in", tmp_path / "out")
    assert summary.ok
    mode, _, out = _written(tmp_path / "out" / "d.png")
    levels = budget_in_levels(EPS, 65535)
    assert mode == "I;16" and levels == 2056 == 257 * LEVELS
    assert out.tolist() == np.minimum(values.astype(np.int64) + levels, 65535).tolist()


def test_16_bit_with_a_transparent_level_and_a_real_generator(tmp_path):
    values = np.array([[5000, 7000], [5000, 9000]], np.uint16)
    (tmp_path / "in").mkdir()
    Image.fromarray(values).save(tmp_path / "in" / "d.png", transparency=5000)
    assert protect_path(untrained_generator(channels=1), tmp_path / "in", tmp_path / "out").ok
    mode, info, out = _written(tmp_path / "out" / "d.png")
    assert mode == "I;16" and info["transparency"] == 5000 and out[0, 0] == out[1, 0] == 5000
    assert 0 < np.abs(out - values).max() <= budget_in_levels(EPS, 65535)


def test_16_bit_colour_is_protected_and_named_as_decoded_to_8_bit(tmp_path):
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    pixels = np.arange(2 * 3 * 3, dtype=">u2").reshape(2, 3, 3) * 3000
    raw = b"".join(b"\0" + row.tobytes() for row in pixels)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 3, 2, 16, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "rgb48.png").write_bytes(png)
    summary = protect_path(AddNoise(), tmp_path / "in", tmp_path / "out")
    assert summary.written == 1 and "16-bit colour decoded as 8-bit" in summary.warnings[0][1]


def test_a_large_photo_runs_in_stripes_with_the_same_result(tmp_path, monkeypatch):
    """The mixture generator protects stripes of rows when an image is large; the pixels are the same."""
    generator = untrained_generator(channels=3)
    photo = torch.from_numpy(np.ascontiguousarray(random_pixels(61, 47).transpose(2, 0, 1)))[None]
    _assert_striped_like_one_block(generator, photo, torch.tensor([2]), 500, monkeypatch)


def test_a_batch_larger_than_a_stripe_runs_in_stripes_with_the_same_result(monkeypatch):
    """The stripe rule counts the whole batch (base.STRIPE_VALUES): many small images that together exceed
    it go in stripes too, with the pixels of the one-block computation, labelled or not."""
    generator = untrained_generator(channels=3)
    batch = torch.stack([torch.from_numpy(np.ascontiguousarray(random_pixels(9, 7).transpose(2, 0, 1)))
                         for _ in range(6)])
    # two images' worth: each image alone stays below it
    _assert_striped_like_one_block(generator, batch, torch.tensor([0, 1, 2, 3, 2, 1]), 3 * 9 * 7 * 2, monkeypatch)


def _assert_striped_like_one_block(generator, images, labels, stripe_values, monkeypatch):
    """With base.STRIPE_VALUES at `stripe_values`, both paths (labels or not) run in stripes, with the pixels
    they had as one block."""
    import imageprivacy.protections.base as base

    whole, whole_labelled = generator.protect(images), generator.protect(images, labels)
    monkeypatch.setattr(base, "STRIPE_VALUES", stripe_values)
    striped, real = [], generator._row_noise
    monkeypatch.setattr(generator, "_row_noise", lambda *args: striped.append(1) or real(*args))
    assert torch.equal(generator.protect(images), whole)
    assert torch.equal(generator.protect(images, labels), whole_labelled) and len(striped) == 2
