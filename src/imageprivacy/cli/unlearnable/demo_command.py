"""`imageprivacy demo`: the main job on the embedded default data, ending in a report."""
from __future__ import annotations


from imageprivacy.cli.arguments import add_common, add_lanes, budget, config_default, progress_printer


def add_parser(sub) -> None:
    from imageprivacy.experiments.unlearnable.demo import DemoConfig

    p = sub.add_parser("demo", help="train ConfounderGAN on Fashion-MNIST, attack it, write a report")
    p.add_argument("--data", default="fashion-mnist")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default="runs/demo", help="run folder (results.json, report.md, figures)")
    # DemoConfig's sizes keep the CPU demo within 10 minutes (docs/results/demo/results.json records its time).
    p.add_argument("--train-size", type=int, default=config_default(DemoConfig, "train_size"),
                   help="images every victim trains on; as many others fit confoundergan-new; 0 = half the set")
    p.add_argument("--test-size", type=int, default=config_default(DemoConfig, "test_size"), help="seeded test subset; 0 = the whole test set")
    p.add_argument("--epsilon", type=budget, default="16/255", help="L-inf budget")
    p.add_argument("--generator-epochs", type=int, default=None,
                   help="GAN epochs of ConfounderGAN; default: train-generator's")
    p.add_argument("--victim-epochs", type=int, default=config_default(DemoConfig, "victim_epochs"))
    p.add_argument("--victim-width", type=int, default=16, help="ResNet-18 width of the paper recipe (64 = full)")
    p.add_argument("--recipes", default="paper", help="comma list: paper, small-cnn, linear")
    p.add_argument("--methods", default="clean,classwise,emn,confoundergan,confoundergan-new",
                   help="confoundergan-new: a generator fitted on other images protects these")
    p.add_argument("--kind", default="mixture", choices=["mixture", "direct"])
    add_lanes(p, "methods")
    p.add_argument("--quiet", action="store_true")
    add_common(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from imageprivacy.experiments.unlearnable.demo import DemoConfig, run_confounder_demo
    from imageprivacy.report.unlearnable.demo_report import write_demo_report

    cfg = DemoConfig(data=args.data, data_dir=args.data_dir, train_size=args.train_size or None,
                     test_size=args.test_size or None,
                     epsilon=args.epsilon, generator_kind=args.kind, generator_epochs=args.generator_epochs,
                     victim_epochs=args.victim_epochs, victim_width=args.victim_width,
                     recipes=tuple(args.recipes.split(",")), methods=tuple(args.methods.split(",")),
                     device=args.device, seed=args.seed, lanes=args.lanes)
    run_confounder_demo(cfg, args.out, progress=progress_printer(args.quiet))
    report = write_demo_report(args.out)
    print(f"report: {report}")
    print(f"results: {report.parent / 'results.json'}")
    return 0
