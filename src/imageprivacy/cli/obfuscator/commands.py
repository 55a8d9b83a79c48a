"""`imageprivacy obfuscator train|evaluate|encode`: DeepObfuscator, features that hide the image and an attribute."""
from __future__ import annotations

import argparse
import sys

from imageprivacy.attacks.obfuscator.reconstructors import RECONSTRUCTORS
from imageprivacy.cli.arguments import add_attacker_stopping, add_common, config_default, device, float_list, progress_printer
from imageprivacy.experiments.obfuscator.run import PAPER, ObfuscatorExperimentConfig
from imageprivacy.protections.obfuscator.adversarial_training import ATTRIBUTE_LOSSES


def _default(name: str):
    return config_default(ObfuscatorExperimentConfig, name)


# Command-line names of the config fields that --paper sets (the others are the field's name with dashes).
PAPER_FLAGS = {"lambda_attribute": "lambda1", "lambda_reconstruction": "lambda2"}


def _preset(name: str, text: str = "") -> dict:
    """add_argument keywords of a field --paper sets: no default here (config_from_args resolves it)."""
    shown = _default(name)
    return {"default": None, "help": f"{text}{'; ' if text else ''}default {shown if shown is not None else 0}, "
                                     f"with --paper {PAPER[name]}"}


def _reconstructors(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in RECONSTRUCTORS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown reconstructor(s) {unknown}; known: "
                                         f"{', '.join(RECONSTRUCTORS)}")
    return names


def _add_train(verbs) -> None:
    t = verbs.add_parser("train", help="pretrain O + C, AR and AC, then run Algorithm 1; writes RUN_DIR/obfuscator"
                                       ".safetensors and classifier.safetensors. Evaluation settings are stored for "
                                       "`obfuscator evaluate`")
    t.add_argument("data", help="fashion-mnist (default task: tops/bottoms/footwear/bags, private: the class), celeba "
                                "(default task Smiling, private Male), or any labelled data set with --task/--private")
    t.add_argument("--data-dir", default=None)
    t.add_argument("--size", type=int, default=None,
                   help="resize images to SIZE x SIZE (None: CelebA 64, others as stored)")
    t.add_argument("--task", default=None, help="attribute names (Smiling,High_Cheekbones), class groups "
                                                "(0,2,4,6/1,3/5,7,9/8) or 'class'; None: the data set's")
    t.add_argument("--private", default=None, help="attribute names (Male) or 'class'; None: the data set's")
    t.add_argument("--out", required=True, help="the run folder (re-running resumes it)")
    t.add_argument("--paper", action="store_true",
                   help="the paper's configuration (VGG16 split, 50k defender images, lambda 1, no code, no noise) "
                        "instead of the default 2-number release; flags given beside it still apply")
    t.add_argument("--defender-size", type=int, **_preset("defender_size", "0 = half the train split"))
    for part in ("attacker", "test"):
        t.add_argument(f"--{part}-size", type=int, default=_default(f"{part}_size") or 0, help="0 = all it can get")
    for name in ("width", "depth", "hidden", "pretrain_epochs", "adversary_epochs", "adversarial_epochs"):
        t.add_argument(f"--{name.replace('_', '-')}", type=int, **_preset(name))
    t.add_argument("--batch-size", type=int, default=_default("batch_size"))
    t.add_argument("--bottleneck", type=int, default=_default("bottleneck"),
                   help="end O with a 1x1 conv to this many channels: fewer released numbers (0 = none, the paper)")
    t.add_argument("--code", type=int, **_preset("code", "end O with a linear layer to this many numbers: the "
                                                         "release is a short code, not a feature map (0 = none)"))
    add_attacker_stopping(t, ObfuscatorExperimentConfig, "every fresh attacker", "validation score",
                          "the attacker part")
    t.add_argument("--lr", type=float, **_preset("lr", "Adam learning rate of Algorithm 1"))
    t.add_argument("--attack-lr", type=float, default=_default("attack_lr"),
                   help="Adam learning rate of the reconstructors")
    t.add_argument("--lambda1", type=float, **_preset("lambda_attribute", "weight of -L(AC)"))
    t.add_argument("--attribute-loss", choices=ATTRIBUTE_LOSSES, default=_default("attribute_loss"),
                   help="AC defence term: the paper's negative-ce (-L(AC)), conditional-prior (cross-entropy "
                        "to p(private | task), the guessing distribution) or guessing-hinge (-L(AC) clipped at the "
                        "guessing level); both bounded, see protections/obfuscator/attribute_defence.py")
    t.add_argument("--adversaries", type=int, default=_default("adversaries"),
                   help="K (AR, AC) pairs in Algorithm 1 (protections/obfuscator/adversary_ensemble.py)")
    t.add_argument("--reset-every", type=int, default=_default("reset_every"),
                   help="re-initialise each adversary every this many epochs, staggered (0 = never)")
    t.add_argument("--reset-warmup-steps", type=int, default=_default("reset_warmup_steps"),
                   help="batches a re-initialised adversary trains alone on the frozen O")
    t.add_argument("--feature-noise", type=float, **_preset(
        "feature_noise", "std of the Gaussian noise at O's output, after tanh (0 = none); also applied at release"))
    t.add_argument("--curve-feature-noise", type=float_list, **_preset(
        "curve_feature_noise", "noise-only baseline of the privacy-utility curve: O + C trained with these stds; "
                               "'' skips"))
    t.add_argument("--lambda2", type=float, **_preset("lambda_reconstruction", "weight of L(AR2) - L(AR1)"))
    t.add_argument("--lambdas", type=float_list, **_preset("lambdas", "trade-off curve points (lambda1 = lambda2), "
                                                                      "comma-separated; '' skips"))
    t.add_argument("--reconstructors", type=_reconstructors, default=_default("reconstructors"))
    t.add_argument("--side-reconstructors", type=_reconstructors, default=_default("side_reconstructors"),
                   help="reconstructors for the ablations and trade-off points")
    t.add_argument("--noise-threshold", type=float, default=_default("noise_threshold"),
                   help="noise baseline: smallest noise whose noisy image scores MS-SSIM <= this")
    t.add_argument("--no-ablations", action="store_true")
    t.add_argument("--no-noise-baseline", action="store_true")
    t.add_argument("--quiet", action="store_true")
    add_common(t)
    t.set_defaults(run=run_train)


def add_parser(sub) -> None:
    p = sub.add_parser("obfuscator", help="DeepObfuscator: train an obfuscator for split inference, attack it, encode")
    verbs = p.add_subparsers(dest="obfuscator_command", required=True)
    _add_train(verbs)
    e = verbs.add_parser("evaluate", help="freeze the obfuscator, train fresh attackers, baselines and ablations -> "
                                          "results.json and report.md")
    e.add_argument("run_dir")
    e.add_argument("--device", type=device, default=None, help="override the run's device")
    e.add_argument("--release-only", action="store_true",
                   help="attack only what is released (the main setting, every reconstructor): no baselines, "
                        "ablations or curves")
    e.add_argument("--quiet", action="store_true")
    e.set_defaults(run=run_evaluate)
    c = verbs.add_parser("encode", help="what a phone sends: obfuscated features of IMAGES (a folder or a file) "
                                        "-> OUT (.safetensors with features and file names)")
    c.add_argument("run_dir")
    c.add_argument("images")
    c.add_argument("out")
    c.add_argument("--device", type=device, default="cpu")
    c.set_defaults(run=run_encode)


def _presets(args) -> dict:
    """The fields --paper sets: a flag given wins, then --paper, then the default."""
    found = {}
    for name in PAPER:
        given = getattr(args, PAPER_FLAGS.get(name, name))
        found[name] = given if given is not None else PAPER[name] if args.paper else _default(name)
    found["defender_size"] = found["defender_size"] or None          # 0 on the command line: half the split
    return found


def config_from_args(args) -> ObfuscatorExperimentConfig:
    return ObfuscatorExperimentConfig(
        data=args.data, data_dir=args.data_dir, size=args.size, task=args.task, private=args.private,
        attacker_size=args.attacker_size or None, test_size=args.test_size or None, bottleneck=args.bottleneck,
        batch_size=args.batch_size, attribute_loss=args.attribute_loss, adversaries=args.adversaries,
        reset_every=args.reset_every, reset_warmup_steps=args.reset_warmup_steps,
        attack_epochs=args.attack_epochs, attack_patience=args.attack_patience,
        attack_val_fraction=args.attack_val_fraction, attack_lr=args.attack_lr, reconstructors=args.reconstructors,
        side_reconstructors=args.side_reconstructors,
        ablations=not args.no_ablations, noise_baseline=not args.no_noise_baseline,
        noise_threshold=args.noise_threshold, device=args.device, seed=args.seed, **_presets(args))


def run_train(args) -> int:
    from imageprivacy.experiments.obfuscator.experiment import train_obfuscator_run

    run_dir = train_obfuscator_run(config_from_args(args), args.out, progress=progress_printer(args.quiet))
    print(f"obfuscator (phone): {run_dir / 'obfuscator.safetensors'}")
    print(f"classifier (cloud): {run_dir / 'classifier.safetensors'}")
    print(f"next: imageprivacy obfuscator evaluate {args.out}")
    return 0


def run_evaluate(args) -> int:
    from imageprivacy.experiments.obfuscator.experiment import evaluate_obfuscator_run
    from imageprivacy.report.obfuscator.report import write_obfuscator_report

    evaluate_obfuscator_run(args.run_dir, progress=progress_printer(args.quiet), device=args.device,
                            release_only=args.release_only)
    print(f"report: {write_obfuscator_report(args.run_dir)}")
    return 0


def run_encode(args) -> int:
    from imageprivacy.protections.obfuscator import Obfuscator, encode_files, write_features

    obfuscator = Obfuscator.load(args.run_dir, device=args.device)
    features, names, skipped = encode_files(obfuscator, args.images)
    out = write_features(args.out, features, names, skipped, obfuscator)
    print(f"features of {len(names)} image(s) {tuple(features.shape[1:])}: {out}")
    for path, reason in skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    if skipped:
        print(f"{len(skipped)} image(s) skipped; their features are not in {out}", file=sys.stderr)
    return 1 if skipped else 0
