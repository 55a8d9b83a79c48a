"""Data-side defences of the unauthorized trainer: each keeps the set's form and does what it says."""
import pytest
import torch

from imageprivacy.attacks.unlearnable.countermeasures import DEFENCES, apply_defence
from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import InputShapeError


@pytest.mark.parametrize("name", sorted(DEFENCES))
@pytest.mark.parametrize("rgb", [False, True])
def test_defences_keep_dtype_shape_and_labels(name, rgb, tiny_set, tiny_rgb_set):
    data = tiny_rgb_set if rgb else tiny_set
    out = apply_defence(name, data)
    assert isinstance(out, ImageSet) and out.images.dtype == torch.uint8
    assert out.images.shape == data.images.shape
    assert torch.equal(out.labels, data.labels) and out.class_names == data.class_names


def test_grayscale_makes_channels_equal_with_bt601_luma(tiny_rgb_set, tiny_set):
    out = apply_defence("grayscale", tiny_rgb_set).images
    assert torch.equal(out[:, 0], out[:, 1]) and torch.equal(out[:, 1], out[:, 2])
    pixel = torch.tensor([200, 100, 50], dtype=torch.uint8).view(1, 3, 1, 1)
    luma = apply_defence("grayscale", ImageSet(pixel)).images[0, 0, 0, 0].item()
    assert luma == round(0.299 * 200 + 0.587 * 100 + 0.114 * 50)
    assert apply_defence("grayscale", tiny_set) is tiny_set            # 1 channel: unchanged
    with pytest.raises(InputShapeError):
        apply_defence("grayscale", ImageSet(torch.zeros(1, 2, 4, 4, dtype=torch.uint8)))


@pytest.mark.parametrize("bits", [1, 2, 3])
def test_bit_depth_leaves_at_most_2_to_the_bits_values(bits, tiny_rgb_set):
    out = apply_defence("bit-depth", tiny_rgb_set, bits=bits).images
    assert out.unique().numel() <= 2 ** bits
    assert (out.int() - tiny_rgb_set.images.int()).abs().max() <= 255 / (2 ** bits - 1) / 2 + 1
    assert set(apply_defence("bit-depth", tiny_rgb_set).images.unique().tolist()) <= {0, 85, 170, 255}


@pytest.mark.parametrize("rgb", [False, True])
def test_jpeg_changes_the_image_but_stays_close(rgb, tiny_set, tiny_rgb_set):
    data = tiny_rgb_set if rgb else tiny_set
    low, high = apply_defence("jpeg", data), apply_defence("jpeg", data, quality=90)
    error = lambda d: (d.images.float() - data.images.float()).abs().mean().item()   # noqa: E731
    assert not torch.equal(low.images, data.images)
    assert 0 < error(high) < error(low) < 40                    # of 255: lossy, but the same picture


def test_median_blur_removes_an_isolated_spike():
    images = torch.full((2, 3, 9, 9), 100, dtype=torch.uint8)
    images[:, :, 4, 4] = 255
    out = apply_defence("median-blur", ImageSet(images)).images
    assert torch.equal(out, torch.full_like(images, 100))
    assert torch.equal(apply_defence("median-blur", ImageSet(images), kernel_size=1).images, images)


def test_unknown_defences_and_options_raise(tiny_set):
    with pytest.raises(ValueError, match="unknown defence 'blur'"):
        apply_defence("blur", tiny_set)
    with pytest.raises(ValueError, match="takes option"):
        apply_defence("jpeg", tiny_set, bits=2)
    with pytest.raises(ValueError, match="quality"):
        apply_defence("jpeg", tiny_set, quality=0)
    with pytest.raises(ValueError, match="bits"):
        apply_defence("bit-depth", tiny_set, bits=0)
    with pytest.raises(ValueError, match="kernel_size"):
        apply_defence("median-blur", tiny_set, kernel_size=2)


def test_train_victim_applies_and_records_the_defence(tiny_rgb_set):
    train, test = tiny_rgb_set.split(0.5, seed=0)
    result = train_victim(train, test, victim_recipe("linear", epochs=1), seed=0,
                          defence="bit-depth", defence_options={"bits": 1})
    assert result["defence"] == {"name": "bit-depth", "options": {"bits": 1}}
    plain = train_victim(train, test, victim_recipe("linear", epochs=1))
    assert plain["defence"] == {"name": "none", "options": {}}
    with pytest.raises(ValueError, match="unknown defence"):
        train_victim(train, test, victim_recipe("linear", epochs=1), defence="sharpen")
