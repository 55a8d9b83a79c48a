"""Data-parallel training (training/distributed.py): how ranks split the batches, and 2 gloo ranks against 1 process.

The split is tested in one process by posing as a rank of a larger world; the tests marked
`distributed` start 2 CPU processes (gloo) and run with `pytest -m distributed` (scripts/test.sh).
"""
import json
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from conftest import TINY_OPTIONS, make_imageset
from imageprivacy.errors import ConfigurationError
from imageprivacy.nets import build_net
from imageprivacy.protections import ConfounderGAN, ErrorMinimizingNoise
from imageprivacy.training import TrainRecipe, distributed, train_classifier


def as_rank(monkeypatch, rank: int, size: int) -> None:
    monkeypatch.setattr(distributed, "world", lambda: distributed.World(rank, size))


@pytest.mark.parametrize("n, batch, size", [(70, 16, 2), (64, 16, 4), (10, 4, 4), (3, 8, 4)])
def test_the_ranks_batches_together_are_one_processes_batches(monkeypatch, n, batch, size):
    order = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    single = order.split(batch)
    parts = []
    for rank in range(size):
        as_rank(monkeypatch, rank, size)
        parts.append(distributed.rank_batches(order, batch))
    # Every rank takes as many steps as one process, each step on an equal share.
    assert all(len(p) == len(single) for p in parts)
    assert all(len(set(len(p[k]) for p in parts)) == 1 for k in range(len(single)))
    for k, whole in enumerate(single):
        together = torch.cat([p[k] for p in parts])
        # Only the last batch holds padding: the set's first images, DistributedSampler's rule.
        padding = len(together) - len(whole)
        assert padding == (0 if k < len(single) - 1 else (-n) % size)
        expected = torch.cat([whole, order.repeat(size)[:padding]])
        assert sorted(together.tolist()) == sorted(expected.tolist())


def test_unpadded_shards_split_the_indices(monkeypatch):
    shards = []
    for rank in range(3):
        as_rank(monkeypatch, rank, 3)
        shards.append(distributed.shard(torch.arange(10), pad=False))
    assert sorted(torch.cat(shards).tolist()) == list(range(10))


def test_one_process_is_left_alone():
    order = torch.randperm(9)
    assert distributed.world() == distributed.World() and distributed.is_writer()
    assert distributed.shard(order) is order
    assert [b.tolist() for b in distributed.rank_batches(order, 4)] == [b.tolist() for b in order.split(4)]
    model = torch.nn.Linear(2, 2)
    assert distributed.wrap(model) is model and distributed.all_sum([1, 2.5]) == [1, 2.5]


def test_a_batch_the_ranks_cannot_share_equally_is_refused(monkeypatch):
    as_rank(monkeypatch, 0, 3)
    with pytest.raises(ConfigurationError, match="divisible by the number of processes"):
        distributed.rank_batches(torch.arange(12), 16)


# ---- 2 processes (gloo) ----------------------------------------------------------------------
LINEAR = TrainRecipe(epochs=2, batch_size=16, lr=0.05, augment=(), schedule="cosine")
# No BatchNorm anywhere the generator's gradient passes: the direct generator normalises per image
# (InstanceNorm), f is linear, and D's term is off (adv_weight 0: D, which has BatchNorm, still trains
# through DDP but does not steer G). f untrained (f_epochs 0): its pretraining augments, and each rank
# draws its own crops (classifier_training.py), which one process cannot reproduce.
EXACT_GAN = dict(kind="direct", width=4, f_arch="linear", f_epochs=0, adv_weight=0.0, epochs=2, fit_batch_size=16)


def linear_victim(data):
    torch.manual_seed(0)
    model = build_net("linear", 1, 4, image_size=16)
    history = train_classifier(model, data.images, data.labels, LINEAR, seed=0)
    return model.linear.weight.detach().clone(), history.to_dict()


def fits(data) -> dict:
    """What each rank (or one process) computes: tensors to compare across ranks and with one process."""
    weight, history = linear_victim(data)
    exact = ConfounderGAN(epsilon=16 / 255, seed=0, **EXACT_GAN).fit(data)
    mixture = ConfounderGAN(epsilon=16 / 255, seed=0, **{**TINY_OPTIONS["confoundergan"], "selector_epochs": 2,
                                                         "fit_batch_size": 16}).fit(data)
    emn = {mode: ErrorMinimizingNoise(mode=mode, seed=0, **{**TINY_OPTIONS["emn"], "fit_batch_size": 16}).fit(data)
           for mode in ("samplewise", "classwise")}
    floats = data.images.float() / 255
    return {"victim": weight, "victim_loss": torch.tensor(history["train_loss"]),
            "exact_noise": exact.protect(floats) - floats, "exact_record": json.dumps(exact.fit_record),
            "mixture": {k: v.clone() for k, v in mixture.generator.state_dict().items()},
            "mixture_record": json.dumps(mixture.fit_record),
            "emn_samplewise": emn["samplewise"].fitted_protection().images,
            "emn_classwise": emn["classwise"].class_noise,
            "emn_record": json.dumps({m: e.fit_record for m, e in emn.items()})}


def _rank(rank: int, folder: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous", rank=rank, world_size=2)
    try:
        # 70 images: the last batch of every loop is a padded one.
        torch.save(fits(make_imageset(n=70)), f"{folder}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ranks")
    mp.spawn(_rank, args=(str(folder),), nprocs=2)
    return [torch.load(folder / f"rank{r}.pt") for r in range(2)], fits(make_imageset(n=70))


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    return torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b


@pytest.mark.distributed
def test_both_ranks_end_with_the_same_models(two_ranks):
    (rank0, rank1), _ = two_ranks
    # Bit for bit: DDP averages the gradients, rank 0's BatchNorm statistics are shared, and every
    # decision (EMN's stop, the selector's target) is taken on numbers summed over the ranks.
    assert all(_same(rank0[k], rank1[k]) for k in rank0), [k for k in rank0 if not _same(rank0[k], rank1[k])]


@pytest.mark.distributed
def test_two_ranks_match_one_process_where_no_batchnorm_is_involved(two_ranks):
    (rank0, _), single = two_ranks
    # Only the order of float sums differs (each rank's mean, then their average): 1e-6 on weights of
    # scale ~0.1 and on noise of scale 16/255; measured 3e-8 (weights), 7e-9 (losses), 6e-8 (noise).
    # With BatchNorm (the mixture, the EMN surrogate) or augmentation the numbers differ as two seeds
    # do: each rank normalises its own half batch and draws its own crops.
    assert torch.allclose(rank0["victim"], single["victim"], atol=1e-6)
    assert torch.allclose(rank0["victim_loss"], single["victim_loss"], rtol=1e-6)
    assert (rank0["exact_noise"] - single["exact_noise"]).abs().max() < 1e-6
    assert rank0["exact_noise"].abs().max() > 0.5 * 16 / 255           # a fitted generator, not zeros
