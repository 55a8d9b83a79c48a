"""`imageprivacy train-generator DATA --out GEN.safetensors`: fit ConfounderGAN, save the generator.

Its flags are the documented fields of ConfounderGANConfig and of its generator's config, with their
defaults (protections/unlearnable/confoundergan_config.py): the command line repeats none of them.
Under torchrun it trains data-parallel and rank 0 writes the checkpoint (cli/data_parallel.py).
"""
from __future__ import annotations

import argparse
from dataclasses import fields

from imageprivacy.cli.arguments import (add_common, add_training_data, budget, load_training_data,
                                        progress_printer)
from imageprivacy.cli.data_parallel import data_parallel
from imageprivacy.nets.generator import GENERATORS, GeneratorConfig
from imageprivacy.protections.unlearnable.confoundergan_config import ConfounderGANConfig, option_names

OPTIONS = (GeneratorConfig, ConfounderGANConfig)


def add_config_flags(p: argparse.ArgumentParser) -> None:
    """--name for every documented config field: its default, its help; booleans as --name / --no-name."""
    for config in (cls() for cls in OPTIONS):
        documented = {f.name: f.metadata.get("help") for f in fields(config)}
        for name in option_names(type(config)):
            default, flag, text = getattr(config, name), "--" + name.replace("_", "-"), documented[name]
            if isinstance(default, bool):
                p.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=text)
            else:
                p.add_argument(flag, type=type(default), default=default, help=text,
                               choices=sorted(GENERATORS) if name == "kind" else None)


def add_parser(sub) -> None:
    p = sub.add_parser("train-generator", help="train a ConfounderGAN generator on labelled images")
    add_training_data(p)
    p.add_argument("--out", required=True, help="the generator checkpoint (.safetensors)")
    p.add_argument("--epsilon", type=budget, default=None,
                   help="L-inf budget, e.g. 16/255; None: the paper's, 8/255 for RGB, 16/255 for 28x28 or gray")
    add_config_flags(p)
    p.add_argument("--quiet", action="store_true")
    add_common(p)
    p.set_defaults(run=run, data_parallel=True)      # torchrun: cli/data_parallel.py


def run(args) -> int:
    from imageprivacy.protections import ConfounderGAN, save_protection

    with data_parallel(args) as writer:
        data = load_training_data(args)
        options = {name: getattr(args, name) for cls in OPTIONS for name in option_names(cls)}
        method = ConfounderGAN(epsilon=args.epsilon, device=args.device, seed=args.seed, **options)
        method.fit(data, progress=progress_printer(args.quiet))
        consistency = method.label_consistency(data)
        if writer:
            report(method, save_protection(method, args.out), consistency, len(data))
    return 0


def report(method, path, consistency: float | None, images: int) -> None:
    print(f"trained {method!r} on {images} images")
    if consistency is not None:
        print(f"label consistency on the training images: {consistency:.3f}")
    selector = method.fit_record.get("selector")
    if selector:
        verdict = "reached" if selector["reached"] else "NOT reached: raise --selector-epochs or --width"
        print(f"selector picks the label's pattern for {selector['agreement']:.4f} of the training images "
              f"(target {selector['target']}: {verdict})")
    patterns = method.fit_record.get("patterns")
    if patterns:
        # Lower is better: the share of images a pattern names by correlation alone (pattern_draw.py).
        match = f"template match {patterns['template_match_after_game']:.3f} of the training images"
        if patterns.get("source") == "anti-template":
            print(f"patterns: anti-template (each class's mean image taken away), {match}, noise on "
                  f"{patterns['pixels_with_noise']:.3f} of the pixels")
        else:
            print(f"patterns: the least aligned of {patterns['draws']} draws, {match} (median draw "
                  f"{patterns['median_match']:.3f}; chance is 1/classes)")
    print(f"generator: {path}")
