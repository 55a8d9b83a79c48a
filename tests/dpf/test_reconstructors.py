"""Reconstructors of the DPF paper: names, output size and range, training on features."""
import pytest
import torch
import torch.nn.functional as F

from imageprivacy.attacks.dpf.reconstructors import (STRAW_MAN, UNSEEN, ReconstructorSpec, build_reconstructor,
                                                     load_reconstructor, save_reconstructor)
from imageprivacy.attacks.reconstructor_training import train_reconstructor, validation_loss
from imageprivacy.errors import CheckpointError, InputShapeError


@pytest.mark.parametrize("name", [STRAW_MAN, *UNSEEN])
@pytest.mark.parametrize("feature_shape", [(8, 8, 8), (16, 4, 4), (4, 16, 16), (16, 7, 7)])
def test_output_is_image_sized_and_in_unit_range(name, feature_shape):
    model = build_reconstructor(name, feature_shape, (1, 16, 16))
    out = model(torch.rand(3, *feature_shape) * 4)
    assert out.shape == (3, 1, 16, 16)
    assert out.min() >= 0 and out.max() <= 1


def test_names_parse_as_the_paper_defines_them():
    assert ReconstructorSpec.parse("px2s2") == ReconstructorSpec(residual=False, blocks=2, scale=2, clamp=False)
    assert ReconstructorSpec.parse("rx4s4") == ReconstructorSpec(residual=True, blocks=4, scale=4, clamp=False)
    assert ReconstructorSpec.parse("rx2s2-c").clamp
    for bad in ("qx2s2", "px0s2", "px2s1", "px2s2-d"):
        with pytest.raises(ValueError, match="reconstructor"):
            ReconstructorSpec.parse(bad)


def test_stacks_follow_scale_and_blocks():
    # 4x4 -> 16x16 is two x2 stacks or one x4 stack; x4 means four blocks before each upscaling.
    assert len(build_reconstructor("px2s2", (8, 4, 4), (1, 16, 16)).stacks) == 2
    assert len(build_reconstructor("rx4s4", (8, 4, 4), (1, 16, 16)).stacks) == 1
    first = build_reconstructor("px4s2", (8, 4, 4), (1, 16, 16)).stacks[0]
    assert sum(type(m).__name__ == "InverseBottleneck" for m in first) == 4


def test_min_max_output_spans_unit_range_and_clamp_does_not():
    features = torch.rand(2, 8, 4, 4)
    out = build_reconstructor("px2s2", (8, 4, 4), (3, 16, 16))(features)
    assert torch.allclose(out.flatten(1).min(1).values, torch.zeros(2), atol=1e-6)
    assert torch.allclose(out.flatten(1).max(1).values, torch.ones(2), atol=1e-4)


def test_wrong_feature_shape_is_a_typed_error():
    model = build_reconstructor("px2s2", (8, 4, 4), (1, 16, 16))
    with pytest.raises(InputShapeError, match="8, 4, 4"):
        model(torch.rand(2, 8, 5, 5))


def test_training_lowers_l1_and_round_trips(tmp_path):
    images = (torch.rand(32, 1, 16, 16) * 255).to(torch.uint8)
    featurize = torch.nn.AvgPool2d(4)        # a fixed "featurizer": 1x16x16 -> 1x4x4
    model = build_reconstructor("px2s2", (1, 4, 4), (1, 16, 16))
    history = train_reconstructor(model, featurize, images, epochs=3, batch_size=16, lr=1e-2)
    assert len(history["l1"]) == 3 and history["l1"][-1] < history["l1"][0]
    path = save_reconstructor(model, tmp_path / "r.safetensors", {"run": "k"})
    loaded, config = load_reconstructor(path)
    x = torch.rand(2, 1, 4, 4)
    assert torch.equal(loaded(x), model.eval()(x)) and config["run"] == "k" and config["name"] == "px2s2"
    with pytest.raises(CheckpointError):
        load_reconstructor(tmp_path / "missing.safetensors")


@pytest.mark.parametrize("feature_shape", [(8, 8, 8), (16, 4, 4), (4, 16, 16), (16, 7, 7), (8, 3, 3)])
def test_upsampling_decoder_is_image_sized_and_round_trips(feature_shape, tmp_path):
    model = build_reconstructor("u16", feature_shape, (1, 16, 16))
    out = model(torch.rand(3, *feature_shape) * 4)
    assert type(model).__name__ == "UpsamplingDecoder" and out.shape == (3, 1, 16, 16)
    assert out.min() > 0 and out.max() < 1                  # a sigmoid head
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    loaded, config = load_reconstructor(save_reconstructor(model, tmp_path / "u.safetensors", {"run": "k"}))
    x = torch.rand(2, *feature_shape)
    assert torch.equal(loaded(x), model.eval()(x)) and config["name"] == "u16"
    with pytest.raises(ValueError, match="u<channels>"):
        build_reconstructor("v16", feature_shape, (1, 16, 16))


def test_early_stopping_keeps_the_best_epoch_and_its_curve():
    gen = torch.Generator().manual_seed(0)
    images = (torch.rand(48, 1, 16, 16, generator=gen) * 255).to(torch.uint8)
    featurize = torch.nn.AvgPool2d(4)
    model = build_reconstructor("u8", (1, 4, 4), (1, 16, 16))
    history = train_reconstructor(model, featurize, images[:32], epochs=30, batch_size=16, lr=3e-2,
                                  validation=images[32:], patience=2)
    stop = history["early_stopping"]
    assert len(history["l1"]) == len(history["val_l1"]) == stop["epochs_run"] <= 30
    assert stop["best"] == min(history["val_l1"]) and history["val_l1"][stop["best_epoch"] - 1] == stop["best"]
    # the weights returned are the best epoch's: their validation loss is the recorded best
    assert validation_loss(model, featurize, images[32:], F.l1_loss) == pytest.approx(stop["best"], rel=1e-5)
    if stop["stopped_early"]:
        assert stop["epochs_run"] - stop["best_epoch"] == 2
