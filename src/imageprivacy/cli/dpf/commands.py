"""`imageprivacy dpf train|evaluate`: Deep Poisoning Functions, a privacy-safe release of features."""
from __future__ import annotations

import argparse

from imageprivacy.cli.arguments import add_attacker_stopping, add_common, config_default, device, float_list, progress_printer
from imageprivacy.data.class_groups import format_groups, parse_groups
from imageprivacy.errors import DatasetError
from imageprivacy.experiments.dpf.run import DPFExperimentConfig
from imageprivacy.protections.dpf.poisoning_function import OBJECTIVES, REFRESH_ON


def _default(name: str):
    return config_default(DPFExperimentConfig, name)


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
    t.add_argument("--hook", default=_default("hook"), help="where phi1 ends: conv2_1, conv2_3, conv3_1, conv4_1, ...")
    t.add_argument("--backbone", default=_default("backbone"))
    t.add_argument("--width", type=int, default=_default("width"), help="backbone width (64 = standard)")
    t.add_argument("--private-classes", type=_ints, default=_default("private_classes"))
    t.add_argument("--public-classes", type=_ints, default=None, help="None: every class not private")
    for part in ("private-train", "private-val", "public-train", "public-val"):
        t.add_argument(f"--{part}-size", type=int, default=_default(f"{part.replace('-', '_')}_size") or 0,
                       help="0 = every image of the part")
    for stage in ("phi", "psi", "dpf", "phi3"):
        t.add_argument(f"--{stage}-epochs", type=int, default=_default(f"{stage}_epochs"))
    add_attacker_stopping(t, DPFExperimentConfig, "the unseen and secondary reconstructors", "validation L1",
                          "Q-train")
    t.add_argument("--batch-size", type=int, default=_default("batch_size"))
    t.add_argument("--dpf-lambda", type=float, default=_default("dpf_lambda"))
    t.add_argument("--dpf-objective", choices=[o for o in OBJECTIVES if o != "random-labels"],
                   default=_default("dpf_objective"),
                   help="P's byproduct term: decorrelation (|corr| + SSIM of both signs, protections/dpf/"
                        "byproduct_losses.py) or the paper's ssim")
    t.add_argument("--dpf-ssim-weight", type=float, default=_default("dpf_ssim_weight"),
                   help="decorrelation: weight of the SSIM terms beside |corr|")
    t.add_argument("--dpf-decoders", type=_names, default=_default("dpf_decoders"),
                   help="the frozen reconstructors P is trained against (px2s2 = psi; the paper: px2s2 alone)")
    t.add_argument("--dpf-refresh-every", type=int, default=_default("dpf_refresh_every"),
                   help="retrain P's decoders from scratch every this many epochs of P (0 = never)")
    t.add_argument("--dpf-refresh-epochs", type=int, default=_default("dpf_refresh_epochs"))
    t.add_argument("--dpf-refresh-on", choices=REFRESH_ON, default=_default("dpf_refresh_on"),
                   help="retrain them on phi1's features (clean) or on P's (poisoned: an adversary holding P)")
    t.add_argument("--unseen", type=_names, default=_default("unseen_reconstructors"),
                   help="reconstructors P never sees (Fig. 7)")
    t.add_argument("--hook-depths", type=_names, default=_default("hook_depths"), help="Table 4 hooks; '' skips it")
    t.add_argument("--coarse-groups", type=_groups, default=format_groups(_default("coarse_groups")),
                   help="section 4.4 variant's coarse task, groups split by '/'; 'none' skips it")
    t.add_argument("--stationary", type=_names, default=_default("stationary"),
                   help="Table 3's stationary poisoning functions; '' skips them")
    t.add_argument("--curve-lambdas", type=float_list, default=_default("curve_lambdas"),
                   help="privacy-utility curve: P also trained at these lambdas ('' and --curve-noise '' skip it)")
    t.add_argument("--curve-noise", type=float_list, default=_default("curve_noise"),
                   help="... and Gaussian noise alone at these stds (x the features' std)")
    t.add_argument("--no-secondary-attack", action="store_true")
    t.add_argument("--quiet", action="store_true")
    add_common(t)
    t.set_defaults(run=run_train)
    e = verbs.add_parser("evaluate", help="the paper's tables for a trained run -> results.json and report.md")
    e.add_argument("run_dir")
    e.add_argument("--device", type=device, default=None, help="override the run's device")
    e.add_argument("--quiet", action="store_true")
    e.set_defaults(run=run_evaluate)


def config_from_args(args) -> DPFExperimentConfig:
    return DPFExperimentConfig(
        data=args.data, data_dir=args.data_dir, private_classes=args.private_classes,
        public_classes=args.public_classes, hook=args.hook, backbone=args.backbone, width=args.width,
        private_train_size=args.private_train_size or None, private_val_size=args.private_val_size or None,
        public_train_size=args.public_train_size or None, public_val_size=args.public_val_size or None,
        phi_epochs=args.phi_epochs, psi_epochs=args.psi_epochs, dpf_epochs=args.dpf_epochs,
        attack_epochs=args.attack_epochs, attack_patience=args.attack_patience,
        attack_val_fraction=args.attack_val_fraction, phi3_epochs=args.phi3_epochs, batch_size=args.batch_size,
        dpf_lambda=args.dpf_lambda, dpf_objective=args.dpf_objective, dpf_ssim_weight=args.dpf_ssim_weight,
        dpf_decoders=args.dpf_decoders, dpf_refresh_every=args.dpf_refresh_every,
        dpf_refresh_epochs=args.dpf_refresh_epochs, dpf_refresh_on=args.dpf_refresh_on,
        unseen_reconstructors=args.unseen, stationary=args.stationary, hook_depths=args.hook_depths,
        coarse_groups=args.coarse_groups, curve_lambdas=args.curve_lambdas, curve_noise=args.curve_noise,
        secondary_attack=not args.no_secondary_attack, device=args.device, seed=args.seed)


def run_train(args) -> int:
    from imageprivacy.experiments.dpf.experiment import train_dpf_run

    release = train_dpf_run(config_from_args(args), args.out, progress=progress_printer(args.quiet))
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
