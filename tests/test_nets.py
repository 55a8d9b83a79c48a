"""Classifier backbones: shapes for every registered net, gradients, parameter counts, split points.

Widths are 8 and batches 2 so the whole file runs in seconds on a shared 2-core CPU.
"""
import pytest
import torch

from imageprivacy.errors import InputShapeError
from imageprivacy.nets import NETS, build_net, count_parameters

NAMES = sorted(NETS)
SMALL_WIDTH = 8


def _small(name, in_channels, num_classes, size):
    return build_net(name, in_channels, num_classes, width=SMALL_WIDTH, image_size=size)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("in_channels,size", [(1, 28), (3, 32), (3, 28), (1, 32)])
def test_output_shape(name, in_channels, size):
    torch.manual_seed(0)
    model = _small(name, in_channels, 7, size)
    out = model(torch.rand(2, in_channels, size, size))
    assert out.shape == (2, 7)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", ["resnet18", "vgg11", "small-cnn", "linear"])
def test_small_16x16_inputs(name):
    model = _small(name, 3, 10, 16)
    assert model(torch.rand(2, 3, 16, 16)).shape == (2, 10)


def test_vgg_handles_non_square_input():
    # Pools are skipped per side: a 16x28 input must not collapse one side to zero.
    model = _small("vgg16", 1, 10, (16, 28))
    assert model(torch.rand(2, 1, 16, 28)).shape == (2, 10)


@pytest.mark.parametrize("name", NAMES)
def test_backward_gives_finite_gradients_to_every_parameter(name):
    torch.manual_seed(0)
    model = _small(name, 3, 5, 16)
    loss = torch.nn.functional.cross_entropy(model(torch.rand(2, 3, 16, 16)), torch.tensor([0, 3]))
    loss.backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, f"{pname} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{pname} has a non-finite gradient"


def test_eval_mode_batch_of_one():
    # BatchNorm in eval mode must accept a single image (protection and evaluation use it).
    model = _small("resnet50", 1, 10, 28).eval()
    with torch.no_grad():
        assert model(torch.rand(1, 1, 28, 28)).shape == (1, 10)


def test_resnet18_parameter_counts():
    assert 11.0e6 <= count_parameters(build_net("resnet18", 3, 10, width=64)) <= 11.3e6
    assert 11.0e6 <= count_parameters(build_net("resnet18", 3, 10)) <= 11.3e6  # None = standard width
    assert 0.65e6 <= count_parameters(build_net("resnet18", 3, 10, width=16)) <= 0.75e6


def test_small_cnn_default_size():
    assert 0.35e6 <= count_parameters(build_net("small-cnn", 1, 10, image_size=28)) <= 0.45e6


def test_width_scales_the_nets():
    for name in ["resnet50", "vgg16", "densenet121", "small-cnn"]:
        assert count_parameters(build_net(name, 3, 10, width=8)) < count_parameters(build_net(name, 3, 10, width=16))


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_feature_points_are_real_submodules_in_order(name):
    model = _small(name, 3, 10, 32)
    points = model.feature_points()
    modules = dict(model.named_modules())
    assert all(path in modules for path in points.values())
    assert points["conv2_1"] == "layer1.0" and points["conv3_1"] == "layer2.0"
    assert list(points)[0] == "conv1" and list(points)[-1].startswith("conv5_")
    blocks = {"resnet18": 8, "resnet50": 16}[name]
    assert len(points) == 1 + blocks
    # Forward order: hooks on every point fire in the order feature_points lists them.
    fired = []
    for point, path in points.items():
        modules[path].register_forward_hook(lambda *_, point=point: fired.append(point))
    model(torch.rand(2, 3, 16, 16))
    assert fired == list(points)


def test_linear_classifier_image_size_forms_and_wrong_input():
    model = build_net("linear", 1, 10, image_size=(28, 20))
    assert model(torch.rand(2, 1, 28, 20)).shape == (2, 10)
    assert count_parameters(model) == 28 * 20 * 10 + 10
    with pytest.raises(InputShapeError, match="28, 20"):
        model(torch.rand(2, 1, 28, 28))


def test_unknown_name_raises_value_error_listing_known_names():
    with pytest.raises(ValueError, match="resnet18") as info:
        build_net("alexnet", 3, 10)
    assert "alexnet" in str(info.value) and "small-cnn" in str(info.value)


def test_bad_sizes_raise_value_error():
    with pytest.raises(ValueError):
        build_net("resnet18", 0, 10)
    with pytest.raises(ValueError):
        build_net("resnet18", 3, 10, width=0)


def test_mirror_patterns_are_symmetric_left_right_at_every_size():
    from imageprivacy.nets.generator import GeneratorConfig, build_generator
    torch.manual_seed(0)
    plain = build_generator(GeneratorConfig(width=4, mirror_patterns=False))
    torch.manual_seed(0)
    mirror = build_generator(GeneratorConfig(width=4, mirror_patterns=True))
    for generator in (plain, mirror):
        generator.eval()
    tiles = mirror.pattern_tiles()
    assert torch.equal(tiles, tiles.flip(-1)) and not torch.equal(plain.pattern_tiles(), plain.pattern_tiles().flip(-1))
    # Tiled over a 28-wide image (the tile is 32), the flip is the same texture shifted by 4 columns.
    assert torch.equal(mirror.tiled_patterns(28, 28).flip(-1), mirror.tiled_patterns(28, 32)[..., 4:32])


def test_amplitude_scales_what_the_patterns_write_and_stays_inside_the_budget():
    from imageprivacy.errors import ConfigurationError
    from imageprivacy.nets.generator import GeneratorConfig, build_generator
    torch.manual_seed(0)
    full = build_generator(GeneratorConfig(width=4, amplitude=1.0)).eval()
    torch.manual_seed(0)
    part = build_generator(GeneratorConfig(width=4, amplitude=0.5)).eval()
    assert torch.equal(part.pattern_tiles(), 0.5 * full.pattern_tiles())
    assert full.pattern_tiles().abs().max() == 1.0                   # full_budget: signs
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(ConfigurationError, match="amplitude"):
            GeneratorConfig(amplitude=bad).validate()
