"""Argument types shared by the verbs: budgets written as fractions, devices."""
from __future__ import annotations

import argparse
from fractions import Fraction

import torch


def budget(text: str) -> float:
    """'16/255', '0.0627' or '16' (levels, when > 1) -> a float in (0, 1]."""
    try:
        value = float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"not a budget: {text!r} (write 16/255 or 0.0627)")
    if value > 1:
        value /= 255.0
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"budget must be in (0, 1], got {text!r}")
    return value


def device(text: str) -> str:
    if text.startswith("cuda") and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError("--device cuda asked for, but torch sees no CUDA GPU here")
    try:
        torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"unknown device {text!r} (cpu, cuda, cuda:1, ...)")
    return text


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", type=device, default="cpu", help="cpu (default), cuda, cuda:N")
    parser.add_argument("--seed", type=int, default=0)


def progress_printer(quiet: bool = False):
    """A progress callback that prints one line per stage and epoch on stderr."""
    import sys

    def progress(event: str, values: dict) -> None:
        if quiet:
            return
        if event == "stage":
            print(f"== {values['stage']}", file=sys.stderr, flush=True)
        elif event == "epoch":
            shown = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                              for k, v in values.items() if v is not None and k not in ("epochs",))
            print(f"   epoch {values['epoch']}/{values['epochs']}: {shown}", file=sys.stderr, flush=True)
    return progress


def add_training_data(parser: argparse.ArgumentParser) -> None:
    """DATA and the options that pick the labelled images a method is fitted on."""
    parser.add_argument("data", help="a data set name (fashion-mnist, cifar10, svhn, bloodmnist, ...) or a folder "
                                     "with one subfolder per class")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--train-size", type=int, default=0, help="use a seeded subset of this size (0 = all)")
    parser.add_argument("--size", type=int, default=None, help="image folders: resize every image to SIZE x SIZE")


def load_training_data(args):
    from imageprivacy.data import load_dataset

    data = load_dataset(args.data, split="train", data_dir=args.data_dir, size=args.size)
    return data.random_subset(args.train_size, seed=args.seed) if args.train_size else data
