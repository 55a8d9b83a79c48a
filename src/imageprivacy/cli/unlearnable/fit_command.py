"""`imageprivacy fit METHOD DATA --out METHOD.safetensors`: fit any protection and save it for `protect`.

`train-generator` is the ConfounderGAN-specific form with named flags; `fit` reaches every method
in the registry (class-wise noise, class-wise patches, EMN, random noise, ConfounderGAN), with the
method's own constructor options as `--option name=value` (values read as JSON, else as text).
Under torchrun the methods that train do so data-parallel, and rank 0 writes (cli/data_parallel.py).
"""
from __future__ import annotations

import argparse
import json
import sys

from imageprivacy.cli.arguments import (add_common, add_training_data, budget, load_training_data,
                                        progress_printer)
from imageprivacy.cli.data_parallel import data_parallel


def option(text: str) -> tuple[str, object]:
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"options are NAME=VALUE, got {text!r}")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value            # plain text such as mode=classwise


def add_parser(sub) -> None:
    from imageprivacy.protections import PROTECTIONS

    p = sub.add_parser("fit", help="fit a protection method on labelled images and save it for `protect`")
    p.add_argument("method", choices=sorted(PROTECTIONS))
    add_training_data(p)
    p.add_argument("--out", required=True, help="the checkpoint (.safetensors)")
    p.add_argument("--epsilon", type=budget, default="8/255", help="L-inf budget")
    p.add_argument("--option", type=option, action="append", default=[], metavar="NAME=VALUE",
                   help="a constructor option of the method, e.g. mode=classwise (repeatable)")
    p.add_argument("--quiet", action="store_true")
    add_common(p)
    p.set_defaults(run=run, data_parallel=True)      # torchrun: cli/data_parallel.py


def run(args) -> int:
    from imageprivacy.protections import PROTECTIONS, save_protection

    cls = PROTECTIONS[args.method]
    with data_parallel(args) as writer:
        data = load_training_data(args)
        try:
            method = cls(epsilon=args.epsilon, device=args.device, seed=args.seed, **dict(args.option))
        except TypeError as err:          # an option the method does not take
            print(f"imageprivacy fit: error: {args.method}: {err}", file=sys.stderr)
            return 2
        method.fit(data, progress=progress_printer(args.quiet))
        if writer:
            path = save_protection(method, args.out)
            print(f"fitted {method!r} on {len(data)} images")
            print(f"checkpoint: {path}")
    return 0
