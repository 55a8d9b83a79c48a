"""The levers against fresh attackers: the adversary ensemble and its staggered resets, stochastic features, the
guessing hinge, and the fresh attribute attacker's early stopping."""
import math

import pytest
import torch

from imageprivacy.attacks.obfuscator.attribute_inference import train_attribute_classifier
from imageprivacy.metrics.multiscale_ssim import MSSSIMParams
from imageprivacy.nets.obfuscator_nets import FeatureClassifier, ObfuscatorArch
from imageprivacy.protections.obfuscator import AdversarialConfig, DeepObfuscator, FeatureNoise, train_adversarially
from imageprivacy.protections.obfuscator.adversary_ensemble import AdversaryEnsemble
from imageprivacy.protections.obfuscator.attribute_defence import attribute_defence, conditional_prior

TINY = ObfuscatorArch(channels=1, image_size=(16, 16), width=4, depth=1, hidden=16)


def _data(n=32, seed=0):
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 1, 16, 16), dtype=torch.uint8, generator=gen)
    return images, torch.arange(n) % 2, torch.arange(n) % 4


def test_resets_are_staggered_across_the_members():
    images, task, private = _data()
    cfg = AdversarialConfig(batch_size=8, adversaries=3, reset_every=3, reset_warmup_steps=0)
    ensemble = AdversaryEnsemble(DeepObfuscator(TINY, 2, 4), cfg, MSSSIMParams.for_size(16, 16), images, private,
                                 "cpu", 0)
    assert len(ensemble) == 3 and ensemble.due(0) == []
    schedule = {e: ensemble.due(e) for e in range(1, 7)}
    assert schedule == {1: [2], 2: [1], 3: [0], 4: [2], 5: [1], 6: [0]}         # one member at a time
    assert AdversaryEnsemble(DeepObfuscator(TINY, 2, 4), AdversarialConfig(adversaries=2), None, images, private,
                             "cpu", 0).due(5) == []                                # reset_every 0: never


def test_a_reset_member_is_new_and_warmed_up_while_member_zero_stays_the_nets_own():
    images, task, private = _data()
    net = DeepObfuscator(TINY, 2, 4)
    cfg = AdversarialConfig(batch_size=8, adversaries=2, reset_every=1, reset_warmup_steps=2)
    ensemble = AdversaryEnsemble(net, cfg, MSSSIMParams.for_size(16, 16), images, private, "cpu", 0)
    assert ensemble.reconstructors[0] is net.reconstructor and ensemble.adversaries[0] is net.adversary
    before = [p.clone() for p in net.adversary.parameters()]
    ensemble.reset(0, 3)
    assert ensemble.adversaries[0] is net.adversary and ensemble.resets == [[3, 0]]
    assert any(not torch.equal(a, b) for a, b in zip(before, net.adversary.parameters()))


def test_ensemble_and_noise_run_algorithm_1_and_leave_the_noise_on():
    images, task, private = _data()
    torch.manual_seed(0)
    net = DeepObfuscator(TINY, 2, 4, noise_seed=3)
    cfg = AdversarialConfig(epochs=2, batch_size=8, adversaries=2, reset_every=1, reset_warmup_steps=1,
                            feature_noise=0.5, attribute_loss="guessing-hinge")
    history = train_adversarially(net, images, task, private, cfg, MSSSIMParams.for_size(16, 16))
    assert all(v is not None and math.isfinite(v) for v in history["attribute"] + history["reconstruction"])
    assert history["resets"] == [[1, 0], [1, 1]]
    assert net.obfuscator.noise.std == 0.5
    with pytest.raises(ValueError, match="adversaries"):
        AdversarialConfig(adversaries=0)


def test_feature_noise_is_bounded_seeded_and_off_at_zero():
    f = torch.rand(4, 8, 4, 4) * 50
    assert torch.equal(FeatureNoise(0.0)(f), f)
    quiet = FeatureNoise(1e-6, seed=1)(f)
    assert quiet.max() < 1.0 + 1e-3 and torch.allclose(quiet, torch.tanh(f), atol=1e-4)   # O cannot outshout it
    a, b = FeatureNoise(0.3, seed=1), FeatureNoise(0.3, seed=1)
    first = a(f)
    assert torch.equal(first, b(f)) and not torch.equal(first, a(f))         # seeded, and fresh on every call
    a.reseed(1)
    assert torch.equal(a(f), first)
    with pytest.raises(ValueError):
        FeatureNoise(-0.1)


def test_guessing_hinge_is_zero_at_guessing_and_positive_above_it():
    task, private = torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 2, 3])
    prior = conditional_prior(task, private, 4)
    at_guessing = prior[task].log()                       # logits whose softmax is the prior itself
    assert attribute_defence("guessing-hinge", at_guessing, task, private, prior).item() == pytest.approx(0, abs=1e-6)
    confident_right = torch.full((4, 4), -10.0).scatter(1, private[:, None], 10.0)
    confident_wrong = torch.full((4, 4), -10.0).scatter(1, ((private + 1) % 4)[:, None], 10.0)
    assert attribute_defence("guessing-hinge", confident_right, task, private, prior) > 0.5
    # unlike the paper's -L(AC), being confidently wrong earns nothing: the term is already 0 there
    assert attribute_defence("guessing-hinge", confident_wrong, task, private, prior).item() == 0.0
    assert attribute_defence("negative-ce", confident_wrong, task, private, prior) < -10


def test_fresh_attribute_attacker_stops_early_and_keeps_its_best_epoch():
    images, task, private = _data(48)
    featurize = DeepObfuscator(TINY, 2, 4).obfuscator.eval()
    model = FeatureClassifier(TINY, 4)
    history = train_attribute_classifier(model, featurize, images[:32], private[:32], epochs=12, batch_size=8,
                                         validation=(images[32:], private[32:]), patience=2)
    stop = history["early_stopping"]
    assert len(history["val_acc"]) == stop["epochs_run"] == len(history["train_acc"]) <= 12
    assert stop["best"] == max(history["val_acc"]) and history["val_acc"][stop["best_epoch"] - 1] == stop["best"]
    if stop["stopped_early"]:
        assert stop["epochs_run"] - stop["best_epoch"] == 2
