"""`imageprivacy suite EXPERIMENTS --out DIR`: the ConfounderGAN paper's experiments, then their report."""
from __future__ import annotations

from imageprivacy.cli.arguments import add_common, add_lanes, budget, json_object, progress_printer


def add_parser(sub) -> None:
    from imageprivacy.experiments.unlearnable.suite_cells import EXPERIMENTS

    p = sub.add_parser("suite", help="the paper's experiments (in-distribution, mixed, curves-90, transfer, "
                                     "augment, defences) with baselines; writes results.json and a report")
    p.add_argument("experiments", help=f"comma list, or 'all': {', '.join(EXPERIMENTS)}")
    p.add_argument("data", nargs="?", default="fashion-mnist")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default="runs/suite")
    p.add_argument("--train-size", type=int, default=5_000, help="seeded subset; 0 = the whole training set")
    p.add_argument("--test-size", type=int, default=2_000, help="seeded subset; 0 = the whole test set")
    p.add_argument("--epsilon", type=budget, default=None, help="None: the paper's for the data")
    p.add_argument("--victim-epochs", type=int, default=5)
    p.add_argument("--victim-width", type=int, default=16, help="0 = the architectures' standard widths")
    p.add_argument("--options", type=json_object, default=None,
                   help='JSON: per-method options, e.g. \'{"emn": {"max_rounds": 20}}\' (replaces the defaults '
                        "of the methods it names)")
    p.add_argument("--methods", default=None,
                   help="comma list: only the cells whose training data comes from these methods (natural "
                        "always counts), e.g. emn,confoundergan; a later run without it adds the rest")
    add_lanes(p, "victims")
    p.add_argument("--quiet", action="store_true")
    add_common(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from imageprivacy.experiments.unlearnable.paper_suite import SuiteConfig, run_suite
    from imageprivacy.experiments.unlearnable.suite_cells import EXPERIMENTS
    from imageprivacy.report.unlearnable.suite_report import write_suite_report

    names = list(EXPERIMENTS) if args.experiments == "all" else args.experiments.split(",")
    cfg = SuiteConfig(data=args.data, data_dir=args.data_dir, train_size=args.train_size or None,
                      test_size=args.test_size or None, epsilon=args.epsilon, victim_epochs=args.victim_epochs,
                      victim_width=args.victim_width or None, device=args.device, seed=args.seed)
    if args.options:
        cfg.options = {**cfg.options, **args.options}
    methods = args.methods.split(",") if args.methods else None
    run_suite(cfg, names, args.out, progress=progress_printer(args.quiet), methods=methods, lanes=args.lanes)
    print(f"report: {write_suite_report(args.out)}")
    return 0
