"""A DeepObfuscator run: its config, its folder, its one data split.

RUN_DIR/config.json                 the config (written by `obfuscator train`, read by `evaluate`)
RUN_DIR/split.json                  sizes, sources, seed and fingerprint of the one split (data.task_split)
RUN_DIR/obfuscator.safetensors      O, and RUN_DIR/classifier.safetensors C: what a service deploys
RUN_DIR/work/                       pretrained O + C, pretrained AR + AC, the four modules after Algorithm 1
RUN_DIR/eval/<setting>/             baselines, ablations, trade-off points and the fresh attackers of each
RUN_DIR/training.json, results.json, images.safetensors, report.md and its PNGs

Every trained stage is saved with a `run` key, the JSON of the settings it depends on; a stage whose
file holds the same key is loaded instead of trained (stages.py), so runs resume.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from imageprivacy.attacks.obfuscator.reconstructors import RECONSTRUCTORS
from imageprivacy.data import load_dataset
from imageprivacy.data.attribute_task import default_specs
from imageprivacy.data.task_split import TaskSplit, split_task
from imageprivacy.errors import ConfigurationError, DatasetError
from imageprivacy.experiments.run_folder import read_run_config, stage_key, write_run_config
from imageprivacy.nets.obfuscator_nets import ObfuscatorArch
from imageprivacy.protections.obfuscator.adversarial_training import AdversarialConfig

@dataclass
class ObfuscatorExperimentConfig:
    data: str = "fashion-mnist"
    data_dir: str | None = None
    size: int | None = None                       # resize (CelebA's loader defaults to 64)
    task: str | None = None                       # None: the data set's default (data.attribute_task)
    private: str | None = None
    # The defaults are the release measured to hide from fresh attackers on Fashion-MNIST (docs/obfuscator.md,
    # "The default"): a small VGG-style O ending in a 2-number code under noise of std 0.25, trained on the task
    # alone (lambda 0). PAPER holds the paper's VGG16 split and game (Li et al., section 4).
    defender_size: int | None = 10_000            # None: half the train split (5k: a weaker task, docs/obfuscator.md)
    attacker_size: int | None = None              # None: the rest of the train split (the attacker's full data)
    test_size: int | None = None                  # None: the whole test split
    width: int = 8                                # ObfuscatorArch; the paper's VGG16 is 64 / 3 / 4096
    depth: int = 2
    hidden: int = 256
    bottleneck: int = 0                           # channels of O's output after a 1x1 conv; 0 = none (the paper)
    code: int = 2                                 # O ends with a linear layer to this many numbers; 0 = none
    batch_size: int = 64
    pretrain_epochs: int = 3                      # O + C without privacy
    adversary_epochs: int = 3                     # AR and AC pretrained on the frozen O
    adversarial_epochs: int = 12                  # Algorithm 1
    lr: float = 1e-3                              # Adam in Algorithm 1
    lambda_attribute: float = 0.0                 # lambda1
    lambda_reconstruction: float = 0.0            # lambda2
    attribute_loss: str = "negative-ce"           # the paper's -L(AC); or "conditional-prior", "guessing-hinge"
    # Levers against fresh attackers (protections/obfuscator/adversarial_training.py); the paper's game: 1, 0, 0.
    adversaries: int = 1                          # K (AR, AC) pairs in Algorithm 1
    reset_every: int = 0                          # epochs between two resets of one member (staggered)
    reset_warmup_steps: int = 100                 # batches a reset member trains alone on the frozen O
    feature_noise: float = 0.25                   # std of the Gaussian noise at O's output (released too)
    attack_epochs: int = 30                       # cap on every fresh attacker's epochs ...
    attack_patience: int = 3                      # ... which stops when its validation score stops improving
    attack_val_fraction: float = 0.1              # share of the attacker part held out for that validation
    attack_lr: float = 1e-3                       # Adam, reconstructors
    reconstructors: tuple[str, ...] = RECONSTRUCTORS
    side_reconstructors: tuple[str, ...] = ("mirror",)   # for the ablations and the trade-off points
    lambdas: tuple[float, ...] = (1.0,)           # trade-off curve (lambda1 = lambda2), besides the main one
    curve_feature_noise: tuple[float, ...] = (0.1, 0.5, 1.0)   # noise-only baseline: O + C trained with this noise
    ablations: bool = True
    noise_baseline: bool = True
    noise_threshold: float = 0.30                 # "just unrecognizable": MS-SSIM(noisy, raw) <= this
    device: str = "cpu"
    seed: int = 0

    def __post_init__(self) -> None:
        self.reconstructors, self.side_reconstructors = tuple(self.reconstructors), tuple(self.side_reconstructors)
        self.lambdas = tuple(float(v) for v in self.lambdas)
        self.curve_feature_noise = tuple(float(v) for v in self.curve_feature_noise)
        if not 0.0 < self.attack_val_fraction < 1.0 or self.attack_patience < 1:
            raise ConfigurationError(f"attack_val_fraction must lie in (0, 1) and attack_patience be >= 1, got "
                                     f"{self.attack_val_fraction} and {self.attack_patience}")
        self.adversarial(1, 1, 0)                  # a bad lever fails here, before any training
        for name in (*self.reconstructors, *self.side_reconstructors):
            if name not in RECONSTRUCTORS:
                raise ConfigurationError(f"unknown reconstructor {name!r}; known: {', '.join(RECONSTRUCTORS)}")
        if self.task is None or self.private is None:
            defaults = default_specs(self.data)
            if defaults is None:
                raise DatasetError(f"{self.data} has no default task and private attribute: give both "
                                   f"(e.g. task '0,1/2,3' with private 'class', or attribute names)")
            self.task = self.task or defaults[0]
            self.private = self.private or defaults[1]

    def to_dict(self) -> dict:
        return json.loads(json.dumps(asdict(self), default=str))

    @classmethod
    def from_dict(cls, values: dict) -> "ObfuscatorExperimentConfig":
        known = {f.name for f in fields(cls)}
        # A config.json written before a field existed ran without it: its value then, not today's default.
        values = {**LATER_DEFAULTS, **values}
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in known})

    def attack_held_out(self, attacker_images: int) -> int:
        """How many of the attacker part's images are held out for the fresh attackers' validation."""
        return max(1, round(self.attack_val_fraction * attacker_images))

    def arch(self, channels: int, image_size: tuple[int, int]) -> ObfuscatorArch:
        return ObfuscatorArch(channels, image_size, self.width, self.depth, self.hidden, self.bottleneck, self.code)

    def adversarial(self, lambda_attribute: float, lambda_reconstruction: float, noise_seed: int) -> AdversarialConfig:
        """Algorithm 1's settings for one setting of the run (main, ablation, curve point)."""
        return AdversarialConfig(self.adversarial_epochs, self.batch_size, self.lr, lambda_attribute,
                                 lambda_reconstruction, noise_seed=noise_seed, attribute_loss=self.attribute_loss,
                                 adversaries=self.adversaries, reset_every=self.reset_every,
                                 reset_warmup_steps=self.reset_warmup_steps, warmup_lr=self.attack_lr,
                                 feature_noise=self.feature_noise)


# The paper's configuration (Li et al., section 4: VGG16 split at the 4th block, 10 + 5 + 20 epochs, Adam 1e-4,
# lambda 1), the defaults before the 2-number release became them: `obfuscator train --paper`.
PAPER = {"defender_size": 50_000, "width": 64, "depth": 3, "hidden": 4096, "code": 0, "pretrain_epochs": 10,
         "adversary_epochs": 5, "adversarial_epochs": 20, "lr": 1e-4, "lambda_attribute": 1.0,
         "lambda_reconstruction": 1.0, "feature_noise": 0.0, "lambdas": (0.1, 0.3, 3.0),
         "curve_feature_noise": (0.1, 0.3, 1.0)}


TRAINING_FIELDS = ("data", "data_dir", "size", "task", "private", "defender_size", "attacker_size", "test_size",
                   "width", "depth", "hidden", "batch_size", "pretrain_epochs", "seed")


# Fields added after runs existed: keyed only when not at their default, so those runs' stages still match.
LATER_DEFAULTS = {"attribute_loss": "negative-ce", "adversaries": 1, "reset_every": 0, "reset_warmup_steps": 100,
                  "feature_noise": 0.0, "bottleneck": 0, "code": 0}


def run_key(cfg: ObfuscatorExperimentConfig, *extra: str, **more) -> str:
    """JSON of the training fields (+ `extra` fields and `more` values): what a cached stage depends on."""
    values = cfg.to_dict()
    # Every stage's modules are built from the architecture, so its bottleneck and code key them all.
    keyed = tuple(f for f in (*extra, "bottleneck", "code") if f not in LATER_DEFAULTS or values[f] != LATER_DEFAULTS[f])
    return stage_key(values, TRAINING_FIELDS, *keyed, **more)


def write_config(cfg: ObfuscatorExperimentConfig, run_dir: Path) -> None:
    write_run_config(cfg.to_dict(), run_dir)


def read_config(run_dir: Path) -> ObfuscatorExperimentConfig:
    return read_run_config(run_dir, ObfuscatorExperimentConfig.from_dict, "an obfuscator", "imageprivacy obfuscator train")


def check_code_batches(cfg: ObfuscatorExperimentConfig, sizes: dict[str, int]) -> None:
    """Under a code, BatchNorm sees one number per image: a last batch of one image cannot train. Fail before
    training, not after it (the attackers train on the attacker part less its held-out slice, evaluation.py)."""
    if not cfg.code:
        return
    attacker = sizes["attacker"] - cfg.attack_held_out(sizes["attacker"])
    for part, n in (("defender", sizes["defender"]), ("attacker training", attacker)):
        if n % cfg.batch_size == 1:
            raise ConfigurationError(f"with --code, the {part} part ({n} images) would end in a batch of one image, "
                                     f"which BatchNorm cannot train on; use --batch-size {cfg.batch_size + 1} or "
                                     f"another part size")


def load_split(cfg: ObfuscatorExperimentConfig, run_dir: Path, record: bool = False) -> TaskSplit:
    """The run's split; `record` (train) writes split.json, otherwise (evaluate) it must match it."""
    train = load_dataset(cfg.data, split="train", data_dir=cfg.data_dir, size=cfg.size)
    test = load_dataset(cfg.data, split="test", data_dir=cfg.data_dir, size=cfg.size)
    split = split_task(train, test, cfg.task, cfg.private, (cfg.defender_size, cfg.attacker_size, cfg.test_size),
                       cfg.seed)
    check_code_batches(cfg, split.sizes())
    summary = {"seed": cfg.seed, "digest": split.digest(), "sizes": split.sizes(),
              "sources": {role: getattr(split, role).source for role in ("defender", "attacker", "test")}}
    path = Path(run_dir) / "split.json"
    if record:
        path.write_text(json.dumps(summary, indent=2))
        return split
    saved = json.loads(path.read_text()) if path.is_file() else {}
    if saved.get("digest") != summary["digest"]:
        raise DatasetError(f"the data at {cfg.data} does not give the split this run was trained on "
                           f"(fingerprint {summary['digest']}, split.json says {saved.get('digest')}); "
                           f"run `imageprivacy obfuscator train` again or use a new run folder")
    return split
