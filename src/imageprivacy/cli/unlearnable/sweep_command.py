"""`imageprivacy sweep`: victim accuracy vs epsilon for every protection and victim recipe."""
from __future__ import annotations

from imageprivacy.cli.arguments import add_common, budgets, progress_printer


def add_parser(sub) -> None:
    p = sub.add_parser("sweep", help="victim accuracy vs epsilon x protection x victim recipe, with PSNR/SSIM")
    p.add_argument("data", nargs="?", default="fashion-mnist")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default="runs/sweep")
    p.add_argument("--train-size", type=int, default=5_000, help="0 = the whole training set")
    p.add_argument("--test-size", type=int, default=0, help="seeded test subset; 0 = the whole test set")
    p.add_argument("--epsilons", type=budgets, default="8/255,16/255,32/255")
    p.add_argument("--methods", default="clean,random,classwise,confoundergan")
    p.add_argument("--recipes", default="paper,small-cnn,linear")
    p.add_argument("--victim-epochs", type=int, default=5)
    p.add_argument("--victim-width", type=int, default=16)
    p.add_argument("--generator-epochs", type=int, default=None,
                   help="GAN epochs of ConfounderGAN; default: train-generator's")
    p.add_argument("--quiet", action="store_true")
    add_common(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from imageprivacy.experiments.unlearnable.epsilon_sweep import SweepConfig, run_sweep
    from imageprivacy.report.unlearnable.sweep_report import write_sweep_report

    cfg = SweepConfig(data=args.data, data_dir=args.data_dir, train_size=args.train_size or None,
                      test_size=args.test_size or None,
                      epsilons=args.epsilons,
                      methods=tuple(args.methods.split(",")), recipes=tuple(args.recipes.split(",")),
                      victim_epochs=args.victim_epochs, victim_width=args.victim_width,
                      generator_epochs=args.generator_epochs, device=args.device, seed=args.seed)
    run_sweep(cfg, args.out, progress=progress_printer(args.quiet))
    report = write_sweep_report(args.out)
    print(f"report: {report}")
    return 0
