"""training/accelerator.py: nothing changes on the CPU; under bf16 autocast the loops still run in float32 where
they must (CPU autocast stands in for CUDA's here, which CI has not)."""
import pytest
import torch

from conftest import TINY_OPTIONS
from imageprivacy.nets import build_net
from imageprivacy.protections import ConfounderGAN, ErrorMinimizingNoise
from imageprivacy.protections.unlearnable import confounder_gan, error_minimizing_noise
from imageprivacy.training import TrainRecipe, classifier_training, train_classifier
from imageprivacy.training.accelerator import mixed_precision, to_device


def test_on_the_cpu_nothing_changes():
    batch = torch.arange(6, dtype=torch.uint8)
    assert to_device(batch, "cpu") is batch
    with mixed_precision("cpu"):
        assert not torch.is_autocast_enabled("cpu")
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


@pytest.fixture
def bf16_autocast(monkeypatch):
    """The loops' mixed_precision made to autocast on the CPU, as it does on CUDA; records that it was used."""
    entered = []

    def cpu_bf16(device):
        entered.append(str(device))
        return torch.autocast(device_type="cpu", dtype=torch.bfloat16)
    for module in (classifier_training, confounder_gan, error_minimizing_noise):
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
