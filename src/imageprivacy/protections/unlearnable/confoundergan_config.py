"""ConfounderGAN's one config: the generator's architecture and how `fit` trains it (nanoGPT's GPTConfig habit).

The constructor takes it (or any of its fields as keywords), the checkpoint stores it, and
`imageprivacy train-generator` makes one flag of each documented field (cli/unlearnable/train_command.py):
a default is written here and nowhere else. What `fit` measured goes to `ConfounderGAN.fit_record`,
never into the config.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

from imageprivacy.errors import ConfigurationError
from imageprivacy.nets.generator import GeneratorConfig, check_fields, documented_field
from imageprivacy.training.augment import check_augmentations


def augment_names(text: str) -> tuple[str, ...]:
    """"crop,flip" -> ("crop", "flip"); "" -> (): the config keeps one string, one flag on the command line."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


PATTERN_SOURCES = ("drawn", "anti-template")


@dataclass
class ConfounderGANConfig:
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    epochs: int = documented_field(1, "epochs of the GAN game (M in Algorithm 1); the selector fit follows. "
                                      "1 keeps a 60k fit near 20 CPU minutes (docs/results.md)")
    fit_batch_size: int = documented_field(128, "minibatch of the generator's training")
    lr_g: float = documented_field(1e-3, "Adam learning rate of G, as usual for GAN generators")
    lr_d: float = documented_field(2e-4, "Adam learning rate of the discriminator D")
    alpha: float = documented_field(1.0, "weight of the hinge on ||G(x)||_2 (Eq. 5)")
    c_ratio: float = documented_field(0.8, "the hinge's bound c = c_ratio * epsilon * sqrt(C * H * W)")
    adv_weight: float = documented_field(0.1, "weight of the generator's GAN term (1.0 shrank the noise, "
                                              "docs/results.md)")
    f_arch: str = documented_field("resnet18", "architecture of the pretrained classifier f (the paper's)")
    f_width: int | None = documented_field(16, "width of f: 16 keeps CPU runs possible, 64 is the paper's")
    f_epochs: int = documented_field(2, "epochs to pretrain f")
    f_lr: float = documented_field(0.1, "SGD learning rate of f (cosine schedule, as the paper-recipe victim)")
    f_weight: float = documented_field(1.0, "weight of the paper's confounder loss CE(f(G(x)), t) through the "
                                            "pretrained, frozen f; 0 = no f (it is then not pretrained)")
    surrogate_weight: float = documented_field(0.0, "weight of the error of a classifier trained from scratch "
                                                    "alongside G on x + G(x) (scratch_surrogate.py); 0 = none")
    surrogate_arch: str = documented_field("resnet18", "architecture of the from-scratch surrogate")
    surrogate_width: int = documented_field(16, "width of the from-scratch surrogate")
    surrogate_lr: float = documented_field(0.05, "SGD learning rate of the from-scratch surrogate (constant)")
    surrogate_augment: str = documented_field("crop,flip", "comma-separated augmentations the surrogate trains "
                                                           "and G is judged under (the paper victim's)")
    pattern_lr: float = documented_field(0.0, "mixture: learning rate of the patterns; 0 keeps them as drawn "
                                              "(learned through f they align with the classes' features and "
                                              "protect less, docs/results.md)")
    patterns: str = documented_field("anti-template", "mixture: 'anti-template' (class k's pattern is "
                                                      "-sign(mean image of k - mean image), one pixel a cell over "
                                                      "the whole image: it takes away the class's own template, "
                                                      "pattern_draw.py; non-square images get 'drawn'; 60k paper "
                                                      "victim 0.104 vs 0.206, docs/results.md) or 'drawn' (random "
                                                      "sign codes of cell_size blocks, the least aligned of "
                                                      "pattern_draws)")
    template_threshold: float = documented_field(0.0, "mixture, anti-template: no noise where |mean image of "
                                                      "the class - mean image| <= this (pixel scale in [0, 1]): "
                                                      "fewer changed pixels, a higher PSNR (0.05: 26.0 dB against "
                                                      "24.6 on Fashion-MNIST, docs/results/anti-template/psnr.txt)")
    pattern_draws: int = documented_field(64, "mixture, drawn patterns: random sets drawn before the game; fit "
                                              "keeps the one least aligned with the classes' mean images "
                                              "(pattern_draw.py)")
    label_weight: float = documented_field(1.0, "mixture: weight of CE(selector logits, label) in the GAN "
                                                "game; 0 = the paper's loss only")
    selector_epochs: int = documented_field(15, "mixture: at most this many epochs of fitting the selector "
                                                "to the labels after the GAN game (selector_fit.py); 0 = none")
    selector_lr: float = documented_field(3e-3, "mixture: Adam one-cycle peak learning rate of the selector fit")
    selector_target: float = documented_field(0.995, "mixture: the selector fit stops once this share of the "
                                                      "training images get their label's pattern")
    selector_augment: str = documented_field("", "mixture: comma-separated augmentations of the selector fit's "
                                                 "batches (the agreement is counted on the images as given); "
                                                 "'' = none")

    def __post_init__(self) -> None:
        if isinstance(self.generator, dict):             # as a checkpoint's JSON holds it
            self.generator = GeneratorConfig(**self.generator)

    def with_options(self, **options) -> "ConfounderGANConfig":
        """A copy with `options` set; a generator field's name (kind, width, view_size, ...) sets the generator's."""
        own, generator = set(option_names(type(self))), set(option_names(GeneratorConfig))
        unknown = sorted(set(options) - own - generator)
        if unknown:
            raise ConfigurationError(f"ConfounderGAN takes no option {', '.join(unknown)}; it takes "
                                     f"{', '.join(sorted(own | generator))}")
        shape = replace(self.generator, **{k: v for k, v in options.items() if k in generator})
        return replace(self, generator=shape, **{k: v for k, v in options.items() if k in own})

    def to_dict(self) -> dict:
        return asdict(self)

    def validate(self) -> "ConfounderGANConfig":
        """ConfigurationError naming the first field out of its range (the generator's included)."""
        if not isinstance(self.generator, GeneratorConfig):
            raise ConfigurationError(f"generator must be a GeneratorConfig, got {type(self.generator).__name__}")
        self.generator.validate()
        check_fields(self, {"epochs": 0, "fit_batch_size": 1, "f_epochs": 0, "selector_epochs": 0, "pattern_draws": 1},
                     positive=("lr_g", "lr_d", "c_ratio", "f_lr", "selector_lr", "selector_target", "surrogate_lr"),
                     non_negative=("alpha", "adv_weight", "label_weight", "f_weight", "surrogate_weight",
                                   "pattern_lr", "template_threshold"))
        check_fields(self, {"surrogate_width": 1})
        if self.f_width is not None:
            check_fields(self, {"f_width": 1})
        if self.selector_target > 1:
            raise ConfigurationError(f"selector_target is a share of images, in (0, 1]; got {self.selector_target}")
        if self.f_weight == 0 and self.surrogate_weight == 0:
            raise ConfigurationError("f_weight and surrogate_weight are both 0: nothing would read the noise; "
                                     "set one of them above 0")
        for name in ("surrogate_augment", "selector_augment"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise ConfigurationError(f"{name} is a comma-separated string, got {value!r}")
            check_augmentations(augment_names(value), f" in {name}")
        if self.patterns not in PATTERN_SOURCES:
            raise ConfigurationError(f"patterns must be one of {', '.join(PATTERN_SOURCES)}, got {self.patterns!r}")
        if not isinstance(self.f_arch, str):
            raise ConfigurationError(f"f_arch must be a network name, got {self.f_arch!r}")
        return self


def option_names(config_class) -> list[str]:
    """The fields of a config a user sets: the documented ones (the others come from the data or are nested)."""
    return [f.name for f in fields(config_class) if "help" in f.metadata]
