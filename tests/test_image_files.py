"""Reading and writing single image files: modes, alpha, orientation, bad files, atomic writes."""
import numpy as np
import pytest
import torch
from PIL import Image

from imageprivacy.data.image_files import iter_image_files, read_image, read_size, write_png
from imageprivacy.errors import ConfigurationError, CorruptImageError, InputShapeError

RNG = np.random.default_rng(0)


def _rgb(h=4, w=5):
    return RNG.integers(0, 256, (h, w, 3), dtype=np.uint8)


def _gray(h=4, w=5):
    return RNG.integers(0, 256, (h, w), dtype=np.uint8)


def test_grayscale_png_stays_grayscale(tmp_path):
    array = _gray()
    Image.fromarray(array).save(tmp_path / "g.png")
    image = read_image(tmp_path / "g.png")
    assert image.pixels.shape == (1, 4, 5) and image.alpha is None and image.mode == "L" and image.size == (5, 4)
    assert np.array_equal(image.pixels[0].numpy(), array)
    write_png(tmp_path / "out.png", image.pixels, original_mode=image.mode)
    with Image.open(tmp_path / "out.png") as out:
        assert out.mode == "L" and np.array_equal(np.asarray(out), array)


def test_rgb_jpeg_reads_as_three_channels_and_writes_rgb_png(tmp_path):
    Image.fromarray(_rgb(6, 7)).save(tmp_path / "c.jpg", quality=90)
    image = read_image(tmp_path / "c.jpg")
    assert image.pixels.shape == (3, 6, 7) and image.pixels.dtype == torch.uint8 and image.mode == "RGB"
    write_png(tmp_path / "c.png", image.pixels, original_mode=image.mode)
    with Image.open(tmp_path / "c.png") as out:
        assert out.format == "PNG" and out.mode == "RGB" and out.size == (7, 6)
        assert np.array_equal(np.asarray(out), image.pixels.permute(1, 2, 0).numpy())


@pytest.mark.parametrize("mode,channels", [("RGBA", 3), ("LA", 1)])
def test_alpha_is_kept_exactly(tmp_path, mode, channels):
    array = RNG.integers(0, 256, (4, 5, channels + 1), dtype=np.uint8)
    Image.fromarray(array, mode=mode).save(tmp_path / "a.png")
    image = read_image(tmp_path / "a.png")
    assert image.pixels.shape[0] == channels and np.array_equal(image.alpha.numpy(), array[..., -1])
    write_png(tmp_path / "b.png", image.pixels, image.alpha, original_mode=image.mode)
    with Image.open(tmp_path / "b.png") as out:
        assert out.mode == mode and np.array_equal(np.asarray(out), array)


def test_palette_images_become_rgb_with_alpha_when_transparent(tmp_path):
    paletted = Image.fromarray(_rgb()).convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    paletted.save(tmp_path / "p.png")
    paletted.save(tmp_path / "t.png", transparency=0)
    plain, transparent = read_image(tmp_path / "p.png"), read_image(tmp_path / "t.png")
    assert plain.mode == "P" and plain.pixels.shape == (3, 4, 5) and plain.alpha is None
    assert np.array_equal(plain.pixels.permute(1, 2, 0).numpy(), np.asarray(paletted.convert("RGB")))
    index = np.asarray(paletted)
    assert transparent.alpha is not None and np.array_equal(transparent.alpha.numpy() == 0, index == 0)


def test_16_bit_grayscale_is_scaled_to_8_bit(tmp_path):
    array = np.array([[0, 257, 65535], [1000, 30000, 65000]], dtype=np.uint16)
    Image.fromarray(array).save(tmp_path / "d.png")
    image = read_image(tmp_path / "d.png")
    assert image.mode.startswith("I") and image.pixels.shape == (1, 2, 3)
    assert np.array_equal(image.pixels[0].numpy(), np.round(array / 257).astype(np.uint8))


def test_bilevel_and_cmyk_are_converted(tmp_path):
    Image.fromarray(_gray() > 127).save(tmp_path / "b.png")
    Image.fromarray(_rgb()).convert("CMYK").save(tmp_path / "k.jpg")
    bilevel, cmyk = read_image(tmp_path / "b.png"), read_image(tmp_path / "k.jpg")
    assert bilevel.pixels.shape[0] == 1 and set(bilevel.pixels.unique().tolist()) <= {0, 255}
    assert cmyk.mode == "CMYK" and cmyk.pixels.shape == (3, 4, 5) and cmyk.icc_profile is None


def test_exif_orientation_is_applied(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6                                     # "rotate 90 degrees clockwise to display"
    Image.fromarray(_rgb(2, 6)).save(tmp_path / "r.jpg", exif=exif)
    assert read_image(tmp_path / "r.jpg").pixels.shape == (3, 6, 2)
    assert read_size(tmp_path / "r.jpg") == (2, 6)


def test_icc_profile_is_kept(tmp_path):
    ImageCms = pytest.importorskip("PIL.ImageCms")
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(_rgb()).save(tmp_path / "p.png", icc_profile=profile)
    image = read_image(tmp_path / "p.png")
    write_png(tmp_path / "o.png", image.pixels, icc_profile=image.icc_profile)
    with Image.open(tmp_path / "o.png") as out:
        assert out.info.get("icc_profile") == profile and "exif" not in out.info


def test_bad_files_raise_corrupt_image_error_with_path_and_reason(tmp_path, monkeypatch):
    (tmp_path / "random.png").write_bytes(RNG.integers(0, 256, 300, dtype=np.uint8).tobytes())
    (tmp_path / "empty.jpg").write_bytes(b"")
    Image.fromarray(_rgb(40, 40)).save(tmp_path / "whole.png")
    data = (tmp_path / "whole.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    for name in ("random.png", "empty.jpg", "cut.png", "missing.png"):
        with pytest.raises(CorruptImageError, match=name) as caught:
            read_image(tmp_path / name)
        assert caught.value.reason
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # the 1600-pixel image is now a "bomb"
    with pytest.raises(CorruptImageError, match="decompression bomb"):
        read_image(tmp_path / "whole.png")


def test_write_png_is_atomic_and_checks_its_input(tmp_path, monkeypatch):
    target = tmp_path / "sub" / "o.png"
    write_png(target, torch.zeros(1, 2, 2, dtype=torch.uint8))
    before = target.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(Image.Image, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        write_png(target, torch.ones(1, 2, 2, dtype=torch.uint8))
    assert target.read_bytes() == before and sorted(p.name for p in target.parent.iterdir()) == ["o.png"]
    with pytest.raises(InputShapeError):
        write_png(target, torch.zeros(1, 2, 2))                     # float
    with pytest.raises(InputShapeError):
        write_png(target, torch.zeros(3, 2, 2, dtype=torch.uint8), original_mode="L")


def test_the_compression_level_changes_the_size_never_the_pixels(tmp_path):
    smooth = torch.arange(32).repeat(3, 32, 1).to(torch.uint8) * 4          # gradients: zlib has work to do
    paths = [write_png(tmp_path / f"{level}.png", smooth, compress_level=level) for level in range(10)]
    assert paths[0].stat().st_size > paths[1].stat().st_size > paths[9].stat().st_size
    assert all(torch.equal(read_image(path).pixels, smooth) for path in paths)
    for bad in (-1, 10, 1.0, True):
        with pytest.raises(ConfigurationError, match="0 .* to 9"):
            write_png(tmp_path / "sub" / "bad.png", smooth, compress_level=bad)
    assert not (tmp_path / "sub").exists()                                 # refused before any folder or file


def test_iter_image_files_is_recursive_sorted_and_skips_hidden(tmp_path):
    for rel in ("b.png", "a/z.JPG", "a/c.webp", "notes.txt", ".hidden.png", ".git/x.png", "a/.cache/y.png"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_image_files(tmp_path)]
    assert found == ["a/c.webp", "a/z.JPG", "b.png"]
