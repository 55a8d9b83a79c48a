"""`imageprivacy bench`: the fast research bench (experiments/unlearnable/bench.py), mean and spread over seeds."""
from __future__ import annotations

from imageprivacy.cli.arguments import add_common, add_lanes, budget, json_object, progress_printer


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="score a ConfounderGAN configuration in minutes: victims of three "
                                     "recipes on clean, class-wise and ConfounderGAN data, over seeds")
    p.add_argument("--data", default="fashion-mnist")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default="runs/bench", help="run folder (results.json)")
    p.add_argument("--train-size", type=int, default=10_000)
    p.add_argument("--test-size", type=int, default=2_000)
    p.add_argument("--epsilon", type=budget, default="16/255")
    p.add_argument("--seeds", default="0,1", help="comma-separated seeds (data subset, fits and victims)")
    p.add_argument("--methods", default="clean,classwise,confoundergan")
    p.add_argument("--recipes", default="paper,small-cnn,linear")
    p.add_argument("--victim-epochs", type=int, default=5)
    p.add_argument("--victim-width", type=int, default=16, help="ResNet-18 width of the paper recipe")
    p.add_argument("--options", type=json_object, default={},
                   help='per-method options as JSON, e.g. \'{"confoundergan": {"epochs": 1}}\'')
    add_lanes(p, "(seed, method) parts")
    p.add_argument("--quiet", action="store_true")
    add_common(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from imageprivacy.experiments.unlearnable.bench import BenchConfig, run_bench

    cfg = BenchConfig(data=args.data, data_dir=args.data_dir, train_size=args.train_size, test_size=args.test_size,
                      epsilon=args.epsilon, seeds=tuple(int(s) for s in args.seeds.split(",")),
                      methods=tuple(args.methods.split(",")), recipes=tuple(args.recipes.split(",")),
                      victim_epochs=args.victim_epochs, victim_width=args.victim_width, options=args.options,
                      device=args.device, lanes=args.lanes)
    results = run_bench(cfg, args.out, progress=progress_printer(args.quiet))
    for row in results.get("summary", []):
        final, best = row["final_test_acc"], row["best_test_acc"]
        print(f"{row['method']:>14} {row['recipe_name']:>9}: final {final['mean']:.3f} "
              f"[{final['min']:.3f}, {final['max']:.3f}]  best {best['mean']:.3f}")
    print(f"results: {args.out}/results.json")
    return 0
