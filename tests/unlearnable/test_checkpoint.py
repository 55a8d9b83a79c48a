"""Generator checkpoints: the file alone rebuilds the protection; bad files raise CheckpointError."""
import json

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from imageprivacy.errors import CheckpointError, NotFittedError
from imageprivacy.nets import weights_file
from imageprivacy.protections import ConfounderGAN, Protection, load_protection, save_protection


class _NoCheckpoint(Protection):
    """A method without checkpoint_state (not registered: the registry stays as the package has it)."""

    needs_labels_to_fit = False

    def _noise(self, x, labels):
        return torch.zeros_like(x)


@pytest.fixture(scope="module")
def saved(fit_protection, tmp_path_factory):
    """kind -> (fitted ConfounderGAN, its checkpoint path)."""
    folder = tmp_path_factory.mktemp("checkpoints")
    out = {}
    for kind in ("mixture", "direct"):
        cg = fit_protection("confoundergan", kind=kind)
        out[kind] = cg, save_protection(cg, folder / "sub" / f"{kind}.safetensors")
    return out


def _metadata(path):
    with safe_open(str(path), framework="pt") as handle:
        return dict(handle.metadata())


def _config(path):
    """The JSON config in a checkpoint's metadata: method, constructor options, state, channels, classes."""
    return json.loads(_metadata(path)["config"])


@pytest.mark.parametrize("kind", ["mixture", "direct"])
def test_roundtrip_is_bit_identical(kind, saved, tiny_set):
    original, path = saved[kind]
    assert path.is_file() and not path.with_name(path.name + ".tmp").exists()
    loaded = load_protection(path)
    assert isinstance(loaded, ConfounderGAN) and loaded.fitted
    assert loaded.config == original.config and loaded.kind == kind
    assert loaded.epsilon == original.epsilon and loaded.channels == 1
    assert loaded.fit_record == original.fit_record and len(loaded.fit_record["generator"]) == 1
    assert loaded.class_names == original.class_names == tiny_set.class_names
    assert loaded.fitted_on == original.fitted_on == {"data": "tiny", "images": 64, "image_shape": [1, 16, 16]}
    assert repr(loaded) == repr(original)
    assert torch.equal(loaded.protect(tiny_set.images), original.protect(tiny_set.images))
    odd = torch.rand(2, 1, 19, 13)
    assert torch.equal(loaded.protect(odd), original.protect(odd))
    meta = _metadata(path)
    assert meta["format"] == weights_file.FORMAT and meta["kind"] == "protection"
    config = json.loads(meta["config"])
    assert config["method"] == "confoundergan" and config["class_names"] == tiny_set.class_names
    assert config["options"]["config"]["generator"]["kind"] == kind
    assert "history" not in config["options"]["config"]           # what fit measured is the fit record


def test_config_comes_from_the_file_alone(tiny_set, tmp_path):
    cg = ConfounderGAN(epsilon=0.05, kind="mixture", width=4, epochs=1, f_epochs=1, f_arch="linear",
                       view_size=16, cell_size=2, pattern_cells=4, alpha=0.5, patterns="drawn").fit(tiny_set)
    path = save_protection(cg, tmp_path / "g.safetensors")
    del cg
    loaded = load_protection(path)
    assert loaded.epsilon == 0.05
    shape = loaded.config.generator
    assert (shape.view_size, shape.cell_size, shape.pattern_cells) == (16, 2, 4)
    assert shape.width == 4 and shape.num_classes == 4 and loaded.num_classes == 4
    assert loaded.config.alpha == 0.5 and loaded.config.f_arch == "linear"
    out = loaded.protect(tiny_set.images)
    assert 0 < (out.int() - tiny_set.images.int()).abs().max() <= 12      # floor(0.05 * 255)
    resaved = load_protection(save_protection(loaded, tmp_path / "again.safetensors"))
    assert torch.equal(resaved.protect(tiny_set.images), out)


def test_save_needs_a_fitted_protection_that_has_a_checkpoint(tmp_path, tiny_set):
    with pytest.raises(NotFittedError):
        save_protection(ConfounderGAN(), tmp_path / "x.safetensors")
    with pytest.raises(CheckpointError, match="nothing to save"):
        save_protection(_NoCheckpoint().fit(tiny_set), tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


@pytest.mark.parametrize("content", [b"", b"\x00" * 7, b"not a checkpoint at all" * 20, "truncated"])
def test_unreadable_files(content, saved, tmp_path):
    if content == "truncated":
        full = saved["mixture"][1].read_bytes()
        content = full[: len(full) // 2]
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(content)
    with pytest.raises(CheckpointError, match="not a readable safetensors file") as info:
        load_protection(bad)
    assert str(bad) in str(info.value)


def test_missing_file_and_folder(tmp_path):
    for path in (tmp_path / "missing.safetensors", tmp_path):
        with pytest.raises(CheckpointError, match="no protection file at"):
            load_protection(path)


def test_foreign_safetensors(tmp_path):
    plain = tmp_path / "plain.safetensors"
    save_file({"weight": torch.zeros(3)}, str(plain))
    with pytest.raises(CheckpointError, match="is not a protection file"):
        load_protection(plain)
    save_file({"weight": torch.zeros(3)}, str(plain), metadata={"format": weights_file.FORMAT, "kind": "protection",
                                                                "config": json.dumps({"method": "nope"})})
    with pytest.raises(CheckpointError, match="unknown protection method 'nope'"):
        load_protection(plain)


@pytest.mark.parametrize("edit", [
    lambda cfg: cfg["options"]["config"]["generator"].update(width=8),      # weights of another shape
    lambda cfg: cfg["options"]["config"]["generator"].update(kind="weird"),  # unknown generator
    lambda cfg: cfg["options"]["config"]["generator"].update(bogus=1),      # unknown generator field
    lambda cfg: cfg["options"]["config"].update(bogus=1),                   # unknown config field
    lambda cfg: cfg["options"].update(epsilon=5.0),                         # invalid budget
])
def test_config_that_does_not_fit_the_weights(edit, saved, tmp_path):
    path = saved["mixture"][1]
    meta = _metadata(path)
    cfg = json.loads(meta["config"])
    edit(cfg)
    meta["config"] = json.dumps(cfg)
    bad = tmp_path / "edited.safetensors"
    save_file(load_file(str(path)), str(bad), metadata=meta)
    with pytest.raises(CheckpointError, match="do not rebuild a confoundergan"):
        load_protection(bad)


def test_failed_save_keeps_the_previous_checkpoint(saved, tmp_path, monkeypatch, tiny_set):
    cg, good = saved["direct"]
    target = tmp_path / "gen.safetensors"
    target.write_bytes(good.read_bytes())
    before = target.read_bytes()

    def crash(tensors, filename, metadata=None):
        with open(filename, "wb") as handle:
            handle.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(weights_file, "save_file", crash)
    with pytest.raises(OSError, match="disk full"):
        save_protection(saved["mixture"][0], target)
    assert target.read_bytes() == before
    assert torch.equal(load_protection(target).protect(tiny_set.images), cg.protect(tiny_set.images))


@pytest.mark.parametrize("option", [{"cell_size": 0}, {"view_size": 0}, {"width": True}, {"temperature": -1.0},
                                    {"epochs": -1}, {"lr_g": float("nan")}, {"selector_target": 1.5},
                                    {"kind": "magic"}, {"f_width": 0}, {"fit_batch_size": 2.5}])
def test_out_of_range_options_are_refused_when_the_config_is_built(option):
    from imageprivacy.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=next(iter(option))):
        ConfounderGAN(**option)


def _without_field(path, tmp_path, name: str, level: str = "generator"):
    """The checkpoint at `path` loaded as if written before the generator's (level "config": the method's)
    field `name` existed."""
    meta = _metadata(path)
    cfg = json.loads(meta["config"])
    config = cfg["options"]["config"]
    del (config if level == "config" else config["generator"])[name]
    meta["config"] = json.dumps(cfg)
    old = tmp_path / "old.safetensors"
    save_file(load_file(str(path)), str(old), metadata=meta)
    return load_protection(old)


def test_a_checkpoint_from_before_full_budget_keeps_protecting_with_tanh_patterns(fit_protection, tmp_path, tiny_set):
    cg = fit_protection("confoundergan", kind="mixture", patterns="drawn")   # tanh differs from sign at 3.0 logits
    path = save_protection(cg, tmp_path / "drawn.safetensors")
    assert cg.config.generator.full_budget                       # today's default
    loaded = _without_field(path, tmp_path, "full_budget")
    assert loaded.config.generator.full_budget is False
    x = tiny_set.images[:8]
    assert not torch.equal(loaded.protect(x), cg.protect(x))
    assert torch.equal(load_protection(path).protect(x), cg.protect(x))


def test_a_checkpoint_from_before_mirror_patterns_keeps_its_unmirrored_patterns(fit_protection, tmp_path, tiny_set):
    # Mirrored patterns are an option since the 2x2 code became the default: fit one to remove the field from.
    cg = fit_protection("confoundergan", kind="mixture", mirror_patterns=True, cell_size=2, pattern_cells=8,
                        patterns="drawn")
    path = save_protection(cg, tmp_path / "mirrored.safetensors")
    assert cg.config.generator.mirror_patterns
    loaded = _without_field(path, tmp_path, "mirror_patterns")
    assert loaded.config.generator.mirror_patterns is False
    tiles = loaded.generator.pattern_tiles()
    assert not torch.equal(tiles, tiles.flip(-1)) and torch.equal(loaded.generator.patterns, cg.generator.patterns)


def test_a_checkpoint_from_before_anti_template_reads_drawn_patterns(saved, tmp_path, tiny_set):
    cg, path = saved["mixture"]
    assert cg.config.patterns == "anti-template" and cg.fit_record["patterns"]["source"] == "anti-template"
    loaded = _without_field(path, tmp_path, "patterns", level="config")
    assert loaded.config.patterns == "drawn"
    x = tiny_set.images[:8]
    assert torch.equal(loaded.protect(x), cg.protect(x))        # the weights, not the field, make the noise


def test_a_checkpoint_from_before_amplitude_spends_the_whole_budget(fit_protection, tmp_path, tiny_set):
    cg = fit_protection("confoundergan", kind="mixture", amplitude=0.5)
    path = save_protection(cg, tmp_path / "half.safetensors")
    x = tiny_set.images[:8]
    half = (cg.protect(x).int() - x.int()).abs().max().item()
    loaded = _without_field(path, tmp_path, "amplitude")
    assert loaded.config.generator.amplitude == 1.0
    full = (loaded.protect(x).int() - x.int()).abs().max().item()
    assert full == round(cg.epsilon * 255) and half == round(0.5 * cg.epsilon * 255)
