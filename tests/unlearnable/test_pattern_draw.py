"""The pattern draw gives every class a code of its own (protections/unlearnable/pattern_draw.py)."""
import pytest
import torch
from conftest import TINY_OPTIONS, make_imageset

from imageprivacy.errors import ConfigurationError
from imageprivacy.protections import load_protection, save_protection
from imageprivacy.protections.unlearnable import ConfounderGAN
from imageprivacy.protections.unlearnable.pattern_draw import distinct_codes

EPS = 16 / 255


def sign_codes(logits: torch.Tensor) -> list[tuple]:
    return [tuple((x >= 0).flatten().tolist()) for x in logits]


def test_coarse_draws_repeat_codes_and_distinct_codes_fixes_them():
    gen = torch.Generator().manual_seed(0)
    raw_repeats = 0
    for _ in range(50):
        raw = 3 * torch.randn(10, 1, 2, 2, generator=gen)
        raw_repeats += len(set(sign_codes(raw))) < 10
        drawn = distinct_codes(raw, gen, mirrored=False)
        codes = sign_codes(drawn)
        assert len(set(codes)) == 10
        # 16 codes make 10 orbits under a left-right flip: each class has its own, so a flipped image
        # never carries another class's code.
        mirrors = sign_codes(drawn.flip(-1))
        assert all(mirrors[i] == codes[i] or mirrors[i] not in codes for i in range(10))
        assert torch.equal(drawn.abs(), raw.abs())          # only signs are redrawn
    assert raw_repeats >= 45                                 # why it is needed: ten of sixteen almost always repeat


def test_fine_draws_are_kept_as_drawn():
    gen = torch.Generator().manual_seed(1)
    raw = 3 * torch.randn(10, 1, 8, 8, generator=gen)
    assert torch.equal(distinct_codes(raw, gen, mirrored=True), raw)
    assert torch.equal(distinct_codes(raw, gen, mirrored=False), raw)


def test_too_few_codes_keep_the_draw():
    gen = torch.Generator().manual_seed(2)
    raw = 3 * torch.randn(10, 1, 1, 2, generator=gen)      # 4 codes for 10 classes
    assert torch.equal(distinct_codes(raw, gen, mirrored=False), raw)


def test_a_coarse_generator_protects_each_class_with_its_own_code(tiny_set):
    gan = ConfounderGAN(epochs=0, f_epochs=1, f_arch="small-cnn", f_width=4, width=4, epsilon=EPS,
                        selector_epochs=0, cell_size=8, pattern_cells=2, mirror_patterns=False).fit(tiny_set)
    gan.generator.eval()
    tiles = gan.generator.pattern_tiles()
    assert len({tuple(t.flatten().tolist()) for t in tiles}) == tiny_set.num_classes


def test_anti_template_patterns_take_away_each_class_template(tiny_set, tmp_path):
    gan = ConfounderGAN(epsilon=EPS, patterns="anti-template", **TINY_OPTIONS["confoundergan"]).fit(tiny_set)
    x = tiny_set.images.float() / 255.0
    centred = torch.stack([x[tiny_set.labels == k].mean(0) for k in range(4)]) - x.mean(0)
    noise = gan.protect(tiny_set.images, tiny_set.labels).float() - tiny_set.images.float()   # label-aware
    # Where the class is brighter than average its noise darkens, and the other way round (unless clipped).
    inside = (tiny_set.images >= 20) & (tiny_set.images <= 235)
    sign = -torch.sign(centred)[tiny_set.labels]
    assert ((torch.sign(noise) == sign) | ~inside | (sign == 0)).all()
    assert gan.config.generator.pattern_cells == 16 and gan.config.generator.cell_size == 1
    assert gan.fit_record["patterns"]["source"] == "anti-template"
    assert gan.fit_record["patterns"]["template_match"] <= 0.25          # no class reads as its own template
    path = save_protection(gan, tmp_path / "g.safetensors")
    assert torch.equal(load_protection(path).protect(tiny_set.images), gan.protect(tiny_set.images))
    wide = make_imageset(n=16).with_images(torch.zeros(16, 1, 16, 20, dtype=torch.uint8))
    fallback = ConfounderGAN(epsilon=EPS, patterns="anti-template", **TINY_OPTIONS["confoundergan"]).fit(wide)
    assert fallback.fit_record["patterns"]["draws"] == 64 and "source" not in fallback.fit_record["patterns"]
    with pytest.raises(ConfigurationError, match="patterns must be one of"):
        ConfounderGAN(epsilon=EPS, patterns="learned")


def test_anti_template_threshold_leaves_the_weak_pixels_alone(tiny_set):
    x = tiny_set.images.float() / 255.0
    centred = torch.stack([x[tiny_set.labels == k].mean(0) for k in range(4)]) - x.mean(0)
    threshold = float(centred.abs().median())
    gan = ConfounderGAN(epsilon=EPS, patterns="anti-template", template_threshold=threshold,
                        **TINY_OPTIONS["confoundergan"]).fit(tiny_set)
    changed = gan.protect(tiny_set.images, tiny_set.labels) != tiny_set.images
    weak = (centred.abs() <= threshold)[tiny_set.labels]
    assert not changed[weak].any() and changed[~weak].float().mean() > 0.9
    assert 0.3 < gan.fit_record["patterns"]["pixels_with_noise"] < 0.7
    with pytest.raises(ConfigurationError, match="template_threshold"):
        ConfounderGAN(epsilon=EPS, template_threshold=-0.1)
