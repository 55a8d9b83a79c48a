"""`imageprivacy dpf train|evaluate`: Deep Poisoning Functions, a privacy-safe release of features."""
from __future__ import annotations

import argparse

from imageprivacy.cli.arguments import add_common, device, progress_printer
from imageprivacy.data.class_groups import FASHION_MNIST_GROUPS, format_groups, parse_groups
from imageprivacy.errors import DatasetError


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(c) for c in text.split(",") if c.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of class indices: {text!r}")


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def _groups(text: str) -> tuple[tuple[int, ...], ...] | None:
    """'0,2,4,6/1,3/5,7,9/8' -> ((0, 2, 4, 6), (1, 3), (5, 7, 9), (8,)); 'none' -> None."""
    if text.lower() == "none":
        return None
    try:
        return parse_groups(text)
    except (ValueError, DatasetError) as err:
        raise argparse.ArgumentTypeError(str(err))


def add_parser(sub) -> None:
    p = sub.add_parser("dpf", help="Deep Poisoning Functions: release poisoned features, then attack them")
    verbs = p.add_subparsers(dest="dpf_command", required=True)
    t = verbs.add_parser("train", help="train Phi on the private classes, psi on the public ones, then the DPF; "
                                       "write RUN_DIR/release/ (shareable) and RUN_DIR/private/ (keep). The "
                                       "evaluation settings below are stored for `dpf evaluate`")
    t.add_argument("data", help="a labelled data set with train and test splits (fashion-mnist, cifar10, ...)")
    t.add_argument("--data-dir", default=None)
    t.add_argument("--out", required=True, help="the run folder (re-running resumes it)")
    t.add_argument("--hook", default="conv3_1", help="where phi1 ends: conv2_1, conv2_3, conv3_1, conv4_1, ...")
    t.add_argument("--backbone", default="resnet18")
    t.add_argument("--width", type=int, default=16, help="backbone width (64 = standard)")
    t.add_argument("--private-classes", type=_ints, default=(0, 1, 2, 3, 4))
    t.add_argument("--public-classes", type=_ints, default=None, help="None: every class not private")
    for part, default in (("private-train", 5000), ("private-val", 1000), ("public-train", 5000), ("public-val", 1000)):
        t.add_argument(f"--{part}-size", type=int, default=default, help="0 = every image of the part")
    for stage in ("phi", "psi", "dpf", "attack", "phi3"):
        t.add_argument(f"--{stage}-epochs", type=int, default=5)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--dpf-lambda", type=float, default=1.0)
    t.add_argument("--unseen", type=_names, default=("px4s2", "rx2s2", "rx4s2", "rx4s4", "rx2s2-c"),
                   help="reconstructors P never sees (Fig. 7)")
    t.add_argument("--hook-depths", type=_names, default=("conv2_1", "conv2_3", "conv3_1", "conv4_1"),
                   help="Table 4 hooks; '' skips it")
    t.add_argument("--coarse-groups", type=_groups, default=format_groups(FASHION_MNIST_GROUPS),
                   help="section 4.4 variant's coarse task, groups split by '/'; 'none' skips it")
    t.add_argument("--stationary", type=_names, default=("gaussian-noise", "gaussian-filter", "mean-filter"),
                   help="Table 3's stationary poisoning functions; '' skips them")
    t.add_argument("--no-secondary-attack", action="store_true")
    t.add_argument("--quiet", action="store_true")
    add_common(t)
    t.set_defaults(run=run_train)
    e = verbs.add_parser("evaluate", help="the paper's tables for a trained run -> results.json and report.md")
    e.add_argument("run_dir")
    e.add_argument("--device", type=device, default=None, help="override the run's device")
    e.add_argument("--quiet", action="store_true")
    e.set_defaults(run=run_evaluate)


def run_train(args) -> int:
    from imageprivacy.experiments.dpf.experiment import train_dpf_run
    from imageprivacy.experiments.dpf.run import DPFExperimentConfig

    cfg = DPFExperimentConfig(
        data=args.data, data_dir=args.data_dir, private_classes=args.private_classes,
        public_classes=args.public_classes, hook=args.hook, backbone=args.backbone, width=args.width,
        private_train_size=args.private_train_size or None, private_val_size=args.private_val_size or None,
        public_train_size=args.public_train_size or None, public_val_size=args.public_val_size or None,
        phi_epochs=args.phi_epochs, psi_epochs=args.psi_epochs, dpf_epochs=args.dpf_epochs,
        attack_epochs=args.attack_epochs, phi3_epochs=args.phi3_epochs, batch_size=args.batch_size,
        dpf_lambda=args.dpf_lambda, unseen_reconstructors=args.unseen, stationary=args.stationary,
        hook_depths=args.hook_depths,
        coarse_groups=args.coarse_groups, secondary_attack=not args.no_secondary_attack, device=args.device,
        seed=args.seed)
    release = train_dpf_run(cfg, args.out, progress=progress_printer(args.quiet))
    print(f"release (shareable): {release}")
    print(f"private (keep):      {release.parent / 'private'}")
    print(f"next: imageprivacy dpf evaluate {args.out}")
    return 0


def run_evaluate(args) -> int:
    from imageprivacy.experiments.dpf.experiment import evaluate_dpf_run
    from imageprivacy.report.dpf.report import write_dpf_report

    evaluate_dpf_run(args.run_dir, progress=progress_printer(args.quiet), device=args.device)
    print(f"report: {write_dpf_report(args.run_dir)}")
    return 0
