"""What every verb shares: the parser whose --help shows defaults, budgets written as fractions, devices."""
from __future__ import annotations

import argparse
import copy
import json
from dataclasses import fields
from fractions import Fraction

import torch

from imageprivacy.training.accelerator import PRECISIONS


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's formatter appends "(default: ...)" only to options that have a help text; this one to every
    option that has a default (flags and required options have none worth showing)."""

    def _format_action(self, action):
        shows = action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE)
        if not action.help and shows and action.default is not None and action.default is not False \
                and action.default is not argparse.SUPPRESS:
            action = copy.copy(action)
            action.help = "(default: %(default)s)"
        return super()._format_action(action)

    def _get_help_string(self, action):
        return action.help if action.required else super()._get_help_string(action)


class EpilogHelpFormatter(DefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """DefaultsHelpFormatter that prints the description and epilog as written (a table of exit codes)."""


class VerbParser(argparse.ArgumentParser):
    """The parser of `imageprivacy` and of every verb under it (add_subparsers makes its own kind)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)


def printable(text: str) -> str:
    """Text with file names as any terminal prints them: bytes of a name that are not UTF-8 (which Python
    keeps as surrogates) become \\xNN instead of a UnicodeEncodeError."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def json_object(text: str) -> dict:
    """A JSON object given on the command line, e.g. '{"emn": {"max_rounds": 20}}'."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not JSON: {text!r} ({err.msg})")
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"not a JSON object: {text!r}")
    return value


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


def budgets(text: str) -> tuple[float, ...]:
    """'8/255,16/255' -> a tuple of budgets (each as `budget` reads it)."""
    return tuple(budget(part) for part in text.split(",") if part.strip())


def float_list(text: str) -> tuple[float, ...]:
    """A comma-separated list of numbers (an argparse type)."""
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}")


def config_default(config_class, name: str):
    """A config dataclass field's default, so the command line and the Python API cannot drift apart."""
    return next(f.default for f in fields(config_class) if f.name == name)


def add_attacker_stopping(parser: argparse.ArgumentParser, config_class, attackers: str, score: str,
                          held_out_from: str) -> None:
    """--attack-epochs/--attack-patience/--attack-val-fraction: the early stopping of the fresh attackers that
    DPF and DeepObfuscator train (training/early_stopping.py), defaults from `config_class`."""
    parser.add_argument("--attack-epochs", type=int, default=config_default(config_class, "attack_epochs"),
                        help=f"cap on the epochs of {attackers} (early stopping)")
    parser.add_argument("--attack-patience", type=int, default=config_default(config_class, "attack_patience"),
                        help=f"they stop when their {score} has not improved for this many epochs")
    parser.add_argument("--attack-val-fraction", type=float,
                        default=config_default(config_class, "attack_val_fraction"),
                        help=f"share of {held_out_from} held out for that validation")


def device(text: str) -> str:
    if text.startswith("cuda") and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError("--device cuda asked for, but torch sees no CUDA GPU here")
    try:
        torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"unknown device {text!r} (cpu, cuda, cuda:1, ...)")
    return text


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", type=device, default="cpu", help="cpu, cuda, cuda:N")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--precision", choices=PRECISIONS, default=argparse.SUPPRESS,
                        help="training precision: auto = bf16 autocast on a CUDA GPU or a CPU with bf16 units "
                             "(AVX512-BF16, AMX), float32 elsewhere; float32 turns autocast off (default: "
                             "$IMAGEPRIVACY_PRECISION if set, else auto)")


def add_lanes(parser: argparse.ArgumentParser, parts: str) -> None:
    """--lanes: how many of `parts` run side by side (experiments/side_by_side.py)."""
    parser.add_argument("--lanes", type=int, default=None,
                        help=f"{parts} run side by side, each in a forked process (Linux, CPU); default: one per "
                             "core; 1 = one after the other in this process")


def progress_printer(quiet: bool = False):
    """A progress callback that prints one line per stage (with the minutes:seconds since it was made) and
    per epoch on stderr: a long job shows where its time goes."""
    import sys
    import time

    started = time.perf_counter()

    def progress(event: str, values: dict) -> None:
        if quiet:
            return
        if event == "stage":
            minutes, seconds = divmod(int(time.perf_counter() - started), 60)
            print(f"== [{minutes:02d}:{seconds:02d}] {values['stage']}", file=sys.stderr, flush=True)
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
