"""A DPF run: its config, its folder, its data, and its trained stages cached on disk.

RUN_DIR/config.json          the config (written by `dpf train`, read by `dpf evaluate`)
RUN_DIR/work/phi.safetensors the classifier Phi (= phi1 + phi2), with its training history
RUN_DIR/private/             P and psi (never shared)
RUN_DIR/release/             phi1, phi2, poisoned feature bank, manifest.json (shared)
RUN_DIR/eval/                attackers and ablation models trained by `dpf evaluate`
RUN_DIR/results.json, RUN_DIR/images.safetensors (image grid rows)

Every trained model is saved with a `run` key, the JSON of the config fields it depends on; a
stage whose file exists with the same key is loaded instead of trained, so an interrupted run
resumes and a changed setting retrains only what it affects (stages.py).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from dataclasses import field as dataclass_field
from pathlib import Path

import torch

from imageprivacy.attacks.dpf.reconstructors import UNSEEN, check_reconstructor_name
from imageprivacy.data import load_dataset
from imageprivacy.data.class_groups import FASHION_MNIST_GROUPS
from imageprivacy.data.class_partition import FASHION_MNIST_PRIVATE, ClassPartition, partition_by_classes
from imageprivacy.errors import ConfigurationError, DatasetError
from imageprivacy.experiments.run_folder import read_run_config, stage_key, write_run_config
from imageprivacy.nets.split_points import PAPER_HOOKS, BackboneSpec, SplitNet
from imageprivacy.protections.dpf import STATIONARY, DPFConfig


def _dpf_default(name: str):
    """DPFConfig's default, so the experiment and the protection cannot drift apart."""
    return next(f.default for f in fields(DPFConfig) if f.name == name)


@dataclass
class DPFExperimentConfig:
    data: str = "fashion-mnist"
    data_dir: str | None = None
    private_classes: tuple[int, ...] = FASHION_MNIST_PRIVATE
    public_classes: tuple[int, ...] | None = None          # None: every class that is not private
    hook: str = "conv3_1"
    backbone: str = "resnet18"
    width: int | None = 16
    private_train_size: int | None = 5_000                 # None: all images of the part
    private_val_size: int | None = 1_000
    public_train_size: int | None = 5_000
    public_val_size: int | None = 1_000
    phi_epochs: int = 5
    psi_epochs: int = 5
    dpf_epochs: int = 5
    batch_size: int = 128
    dpf_lambda: float = 1.0
    # How P is trained (DPFConfig): the paper's is objective "ssim" with decoders ("px2s2",).
    dpf_objective: str = _dpf_default("objective")
    dpf_ssim_weight: float = _dpf_default("ssim_weight")
    dpf_decoders: tuple[str, ...] = _dpf_default("decoders")
    dpf_refresh_every: int = _dpf_default("refresh_every")
    dpf_refresh_epochs: int = _dpf_default("refresh_epochs")
    dpf_refresh_on: str = _dpf_default("refresh_on")
    bank_dtype: str = "float16"                            # the released features' dtype (half the size)
    attack_epochs: int = 30                                # cap of the unseen and secondary reconstructors
    attack_patience: int = 3                               # ... which stop when their validation L1 stops falling
    attack_val_fraction: float = 0.1                       # share of Q-train held out for that validation
    phi3_epochs: int = 5                                   # phi3, phi4 and the 4.4 attackers (feature classifiers)
    unseen_reconstructors: tuple[str, ...] = (*UNSEEN, "u64")
    stationary: tuple[str, ...] = STATIONARY
    hook_depths: tuple[str, ...] = PAPER_HOOKS             # Table 4; () skips it
    secondary_attack: bool = True
    coarse_groups: tuple[tuple[int, ...], ...] | None = FASHION_MNIST_GROUPS   # section 4.4; None skips it
    curve_lambdas: tuple[float, ...] = (0.1, 0.3, 3.0)     # privacy-utility curve: P at these lambdas too
    curve_noise: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)  # ... and Gaussian noise alone (x the features' std)
    device: str = "cpu"
    seed: int = 0

    def __post_init__(self) -> None:
        # A bad setting fails here, before Phi trains for minutes.
        self.dpf_decoders, self.unseen_reconstructors = tuple(self.dpf_decoders), tuple(self.unseen_reconstructors)
        self.curve_lambdas, self.curve_noise = tuple(self.curve_lambdas), tuple(self.curve_noise)
        dpf_config(self, 1)
        for name in (*self.dpf_decoders, *self.unseen_reconstructors):
            check_reconstructor_name(name)
        if not 0.0 < self.attack_val_fraction < 1.0 or self.attack_patience < 1:
            raise ConfigurationError(f"attack_val_fraction must lie in (0, 1) and attack_patience be >= 1, got "
                                     f"{self.attack_val_fraction} and {self.attack_patience}")

    def to_dict(self) -> dict:
        return json.loads(json.dumps(asdict(self), default=str))   # tuples -> lists, paths -> str, as in config.json

    @classmethod
    def from_dict(cls, values: dict) -> "DPFExperimentConfig":
        def tuples(v):
            return tuple(tuples(x) for x in v) if isinstance(v, list) else v
        known = {f.name for f in fields(cls)}
        return cls(**{k: tuples(v) for k, v in values.items() if k in known})


@dataclass
class TrainedRun:
    """Everything `dpf evaluate` needs: config, data parts, Phi split at the hook, psi, P."""
    cfg: DPFExperimentConfig
    parts: ClassPartition
    spec: BackboneSpec
    net: torch.nn.Module
    split: SplitNet
    feature_shape: tuple[int, int, int]
    psi: torch.nn.Module
    poison: torch.nn.Module
    histories: dict
    decoders: list = dataclass_field(default_factory=list)    # the frozen reconstructors P was trained against


TRAINING_FIELDS = ("data", "data_dir", "private_classes", "public_classes", "hook", "backbone", "width",
                   "private_train_size", "private_val_size", "public_train_size", "public_val_size", "phi_epochs",
                   "psi_epochs", "dpf_epochs", "batch_size", "dpf_lambda", "seed")


# What a trained P depends on besides TRAINING_FIELDS (Phi and psi do not depend on these).
DPF_FIELDS = ("dpf_objective", "dpf_ssim_weight", "dpf_decoders", "dpf_refresh_every", "dpf_refresh_epochs",
              "dpf_refresh_on")
# What an attacker stage depends on besides TRAINING_FIELDS.
ATTACK_FIELDS = ("attack_epochs", "attack_patience", "attack_val_fraction")


def run_key(cfg: DPFExperimentConfig, *extra: str, **more) -> str:
    """JSON of the training fields (+ `extra` fields and `more` values): what a cached stage depends on."""
    return stage_key(cfg.to_dict(), TRAINING_FIELDS, *extra, **more)


def dpf_config(cfg: DPFExperimentConfig, channels: int, **changes) -> DPFConfig:
    """The DPFConfig of every P the run trains (main, Tables 3-4, curve points), with `changes`."""
    values = dict(channels=channels, objective=cfg.dpf_objective, lam=cfg.dpf_lambda, epochs=cfg.dpf_epochs,
                  batch_size=cfg.batch_size, ssim_weight=cfg.dpf_ssim_weight, decoders=cfg.dpf_decoders,
                  refresh_every=cfg.dpf_refresh_every, refresh_epochs=cfg.dpf_refresh_epochs,
                  refresh_on=cfg.dpf_refresh_on)
    return DPFConfig(**{**values, **changes})


def write_config(cfg: DPFExperimentConfig, run_dir: Path) -> None:
    write_run_config(cfg.to_dict(), run_dir)


def read_config(run_dir: Path) -> DPFExperimentConfig:
    return read_run_config(run_dir, DPFExperimentConfig.from_dict, "a DPF", "imageprivacy dpf train")


def load_partition(cfg: DPFExperimentConfig) -> ClassPartition:
    train = load_dataset(cfg.data, split="train", data_dir=cfg.data_dir)
    val = load_dataset(cfg.data, split="test", data_dir=cfg.data_dir)
    if train.images.shape == val.images.shape and torch.equal(train.images, val.images):
        # An image folder without train/ and test/ subfolders serves the same images for both splits.
        raise DatasetError(f"{cfg.data}: the test split holds the training images; give a data set with "
                           f"separate train and test splits (image folders: DATA/train and DATA/test)")
    return partition_by_classes(train, val, cfg.private_classes, cfg.public_classes,
                                (cfg.private_train_size, cfg.private_val_size, cfg.public_train_size,
                                 cfg.public_val_size), seed=cfg.seed)
