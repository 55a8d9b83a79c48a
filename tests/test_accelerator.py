"""training/accelerator.py: float32 changes nothing; "auto" autocasts only where bf16 is native; under bf16
autocast the loops still run in float32 where they must (CPU autocast stands in for CUDA's, which CI has not)."""
import pytest
import torch

from conftest import TINY_OPTIONS
from imageprivacy.nets import build_net
from imageprivacy.protections import ConfounderGAN, ErrorMinimizingNoise
from imageprivacy.protections.unlearnable import confounder_gan, error_minimizing_noise, selector_fit
from imageprivacy.training import TrainRecipe, classifier_training, train_classifier
from imageprivacy.cli import main
from imageprivacy.errors import ConfigurationError
from imageprivacy.experiments.provenance import machine
from imageprivacy.training import accelerator
from imageprivacy.training.accelerator import mixed_precision, set_precision, to_device


def test_in_float32_nothing_changes():
    batch = torch.arange(6, dtype=torch.uint8)
    assert to_device(batch, "cpu") is batch
    set_precision("float32")
    with mixed_precision("cpu"):
        assert not torch.is_autocast_enabled("cpu")
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
    assert machine("cpu")["training_precision"] == "float32"


@pytest.mark.parametrize("native", [True, False])
def test_auto_autocasts_on_a_cpu_only_where_bf16_is_native(monkeypatch, native):
    monkeypatch.setattr(accelerator, "cpu_has_native_bf16", lambda: native)
    set_precision("auto")
    with mixed_precision("cpu"):
        assert torch.is_autocast_enabled("cpu") == native
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == (torch.bfloat16 if native else torch.float32)
    assert machine("cpu")["training_precision"] == ("bfloat16 autocast" if native else "float32")
    set_precision("bfloat16")                   # forced, native or not
    assert accelerator.autocast_dtype("cpu") == torch.bfloat16


def test_precision_is_checked_and_set_from_the_command_line(monkeypatch, tmp_path, capsys):
    with pytest.raises(ConfigurationError, match="float32"):
        set_precision("fp8")
    monkeypatch.setitem(accelerator._chosen, "precision", "half")      # as a bad IMAGEPRIVACY_PRECISION leaves it
    with pytest.raises(ConfigurationError, match="IMAGEPRIVACY_PRECISION"):
        accelerator.autocast_dtype("cpu")
    set_precision("float32")
    # The flag is applied before the verb runs (the verb then fails on the missing data, after it).
    missing = str(tmp_path / "missing")
    assert main(["evaluate", "--train", missing, "--test", missing, "--precision", "bfloat16"]) == 2
    assert accelerator.autocast_dtype("cpu") == torch.bfloat16


@pytest.fixture
def bf16_autocast(monkeypatch):
    """The loops' mixed_precision made to autocast on the CPU, as it does on CUDA; records that it was used."""
    entered = []

    def cpu_bf16(device):
        entered.append(str(device))
        return torch.autocast(device_type="cpu", dtype=torch.bfloat16)
    for module in (classifier_training, confounder_gan, error_minimizing_noise, selector_fit):
        monkeypatch.setattr(module, "mixed_precision", cpu_bf16)
    return entered


def test_the_loops_run_under_bf16_autocast(bf16_autocast, tiny_set):
    model = build_net("small-cnn", 1, 4, width=4)
    recipe = TrainRecipe(epochs=1, batch_size=16, lr=0.05, augment=("crop",), mix="mixup",
                         adversarial_epsilon=4 / 255, adversarial_steps=1)
    history = train_classifier(model, tiny_set.images, tiny_set.labels, recipe)
    assert all(p.dtype == torch.float32 for p in model.parameters()) and history.train_loss[0] > 0
    gan = ConfounderGAN(epsilon=16 / 255, **{**TINY_OPTIONS["confoundergan"], "selector_epochs": 1}).fit(tiny_set)
    assert all(torch.isfinite(torch.tensor(v)) for v in gan.fit_record["generator"][0].values())
    emn = ErrorMinimizingNoise(**TINY_OPTIONS["emn"]).fit(tiny_set)
    for method, levels in ((gan, 16), (emn, 8)):        # the budgets in 8-bit levels
        protected = method.protect(tiny_set.images, tiny_set.labels)
        assert 0 < (protected.int() - tiny_set.images.int()).abs().max() <= levels
    assert len(bf16_autocast) > 10          # the autocast path was taken, not bypassed


def test_training_leaves_the_weights_contiguous_for_safetensors(tiny_set, tmp_path):
    from safetensors.torch import save_file
    model = build_net("resnet18", 1, 4, width=4)
    train_classifier(model, tiny_set.images, tiny_set.labels, TrainRecipe(epochs=1, batch_size=16))
    assert all(t.is_contiguous() for t in model.state_dict().values())
    save_file(model.state_dict(), str(tmp_path / "victim.safetensors"))


def test_results_name_the_commit_the_process_started_with(monkeypatch):
    from imageprivacy.experiments import provenance
    first = provenance.git_commit()
    monkeypatch.setattr(provenance.subprocess, "run", lambda *a, **k: pytest.fail("asked git again"))
    assert provenance.provenance("cpu")["git_commit"] == first     # read once, at import
