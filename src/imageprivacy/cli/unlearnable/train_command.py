"""`imageprivacy train-generator DATA --out GEN.safetensors`: fit ConfounderGAN, save the generator."""
from __future__ import annotations

from imageprivacy.cli.arguments import (add_common, add_training_data, budget, load_training_data,
                                        progress_printer)


def add_parser(sub) -> None:
    p = sub.add_parser("train-generator", help="train a ConfounderGAN generator on labelled images")
    add_training_data(p)
    p.add_argument("--out", required=True, help="the generator checkpoint (.safetensors)")
    p.add_argument("--epsilon", type=budget, default=None,
                   help="L-inf budget, e.g. 16/255; None: the paper's, 8/255 for RGB, 16/255 for 28x28 or gray")
    p.add_argument("--epochs", type=int, default=5, help="generator epochs")
    p.add_argument("--f-epochs", type=int, default=2, help="epochs to pretrain the classifier f")
    p.add_argument("--f-width", type=int, default=16, help="ResNet-18 width of f (64 = the paper's)")
    p.add_argument("--kind", default="mixture", choices=["mixture", "direct"])
    p.add_argument("--alpha", type=float, default=1.0)
    p.add_argument("--c-ratio", type=float, default=0.8)
    p.add_argument("--quiet", action="store_true")
    add_common(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from imageprivacy.protections import ConfounderGAN, save_protection

    data = load_training_data(args)
    method = ConfounderGAN(epsilon=args.epsilon, kind=args.kind, epochs=args.epochs, f_epochs=args.f_epochs,
                           f_width=args.f_width, alpha=args.alpha, c_ratio=args.c_ratio, device=args.device,
                           seed=args.seed)
    method.fit(data, progress=progress_printer(args.quiet))
    path = save_protection(method, args.out)
    consistency = method.label_consistency(data)
    print(f"trained {method!r} on {len(data)} images")
    if consistency is not None:
        print(f"label consistency on the training images: {consistency:.3f}")
    print(f"generator: {path}")
    return 0
