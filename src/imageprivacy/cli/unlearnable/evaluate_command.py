"""`imageprivacy evaluate --train PROTECTED_DIR --test TEST_DATA`: what an unauthorized trainer learns.

Under torchrun the victim trains data-parallel and rank 0 writes the results (cli/data_parallel.py).
"""
from __future__ import annotations

import json

from imageprivacy.cli.arguments import add_common, budget, progress_printer
from imageprivacy.cli.data_parallel import data_parallel


def add_parser(sub) -> None:
    from imageprivacy.attacks.unlearnable.countermeasures import DEFENCES
    from imageprivacy.attacks.unlearnable.victim import VICTIM_RECIPES
    from imageprivacy.training.augment import AUGMENTATIONS
    from imageprivacy.training.mixing import MIXES

    p = sub.add_parser("evaluate", help="train a victim on (protected) images, report clean test accuracy")
    p.add_argument("--train", required=True, help="folder of images, one subfolder per class, or a data set name")
    p.add_argument("--test", required=True, help="a data set name (its test split) or a class-subfolder folder")
    p.add_argument("--data-dir", default=None, help="where the named test data set lives")
    p.add_argument("--recipe", default="paper", choices=sorted(VICTIM_RECIPES),
                   help="the trainer's recipe (architecture, optimiser, augmentation)")
    p.add_argument("--arch", default=None, help="override the recipe's architecture (resnet18, vgg11, ...)")
    p.add_argument("--width", type=int, default=None, help="network width (ResNet: 64 = standard)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--augment", default=None,
                   help=f"comma list overriding the recipe's ({', '.join(AUGMENTATIONS)}; '' = none)")
    p.add_argument("--mix", default=None, choices=MIXES, help="label-mixing augmentation")
    p.add_argument("--adversarial-epsilon", type=budget, default=None,
                   help="PGD adversarial training at this L-inf budget (e.g. 8/255)")
    p.add_argument("--defence", default="none", choices=sorted(DEFENCES),
                   help="a data-side defence applied to the training images first (ISS / APBench)")
    p.add_argument("--size", type=int, default=None, help="resize folder images to SIZE x SIZE")
    p.add_argument("--out", default=None, help="write the per-epoch results here as JSON")
    p.add_argument("--quiet", action="store_true")
    add_common(p)
    p.set_defaults(run=run, data_parallel=True)      # torchrun: cli/data_parallel.py


def run(args) -> int:
    from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
    from imageprivacy.data import load_dataset
    from imageprivacy.data.class_alignment import align_to
    from imageprivacy.experiments.provenance import provenance

    options = {"size": args.size} if args.size else {}
    with data_parallel(args) as writer:
        train = load_dataset(args.train, split="train", data_dir=args.data_dir, **options)
        test = load_dataset(args.test, split="test", data_dir=args.data_dir, **options)
        train = align_to(train, test)
        augment = None if args.augment is None else tuple(a for a in args.augment.split(",") if a)
        recipe = victim_recipe(args.recipe, epochs=args.epochs, width=args.width, arch=args.arch, augment=augment,
                               mix=args.mix, adversarial_epsilon=args.adversarial_epsilon)
        result = train_victim(train, test, recipe, device=args.device, seed=args.seed,
                              progress=progress_printer(args.quiet), defence=args.defence)
        if writer:
            report({"train": args.train, "test": args.test, **result, **provenance(args.device)}, args.out)
    return 0


def report(result: dict, out: str | None) -> None:
    from imageprivacy.experiments.provenance import write_results

    print("clean test accuracy per epoch: " + ", ".join(f"{a:.3f}" for a in result["test_acc"]))
    print(f"best {result['best_test_acc']:.3f} (epoch {result['best_epoch']}), final {result['final_test_acc']:.3f}")
    if out:
        print(f"results: {write_results(result, out)}")
    else:
        print(json.dumps({k: result[k] for k in ("best_test_acc", "final_test_acc")}))
