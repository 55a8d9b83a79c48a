"""`imageprivacy protect --generator GEN.safetensors INPUT OUTPUT`: protect image files before sharing them.

Exit codes: 0 every image was written or resumed; 1 some files were skipped (listed with their
reasons); 2 a usage error (missing INPUT, OUTPUT inside INPUT, ...; a missing or
unreadable generator raises CheckpointError, which `imageprivacy.cli.main` turns into 2).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imageprivacy.cli.arguments import device
from imageprivacy.data.image_files import IMAGE_SUFFIXES
from imageprivacy.protections.pixel_budget import REENCODING_WARNING as JPEG_WARNING


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def add_parser(sub) -> None:
    p = sub.add_parser("protect", help="protect an image file or a folder of images with a trained generator")
    p.add_argument("input", help="an image file, or a folder (searched recursively; hidden files are skipped)")
    p.add_argument("output", help="a folder for the protected PNGs (or a .png file when INPUT is one file)")
    p.add_argument("--generator", "--checkpoint", dest="generator", required=True,
                   help="a ConfounderGAN generator (train-generator) or any method's checkpoint (fit); methods "
                        "that choose noise by class read each image's class from INPUT/<class>/...")
    p.add_argument("--device", type=device, default="cpu", help="cpu, cuda, cuda:N")
    p.add_argument("--batch-size", type=_positive_int, default=64, help="same-size images protected together")
    p.add_argument("--labels-from-folders", action="store_true",
                   help="label-aware protection: take each image's class from INPUT/<class>/... (ConfounderGAN "
                        "then gives each class its own pattern); without it ConfounderGAN needs no labels")
    p.add_argument("--overwrite-outputs", action="store_true",
                   help="redo outputs that already exist; without it they are kept and a re-run resumes")
    p.set_defaults(run=run)


def _usage_error(message: str) -> int:
    print(f"imageprivacy protect: error: {message}", file=sys.stderr)
    return 2


def _progress_bar():
    """A progress(event, values) callback driving a tqdm bar on stderr, and the bar (to close)."""
    from tqdm import tqdm

    state = {"bar": None, "skipped": 0}

    def progress(event: str, values: dict) -> None:
        if event == "start":
            state["bar"] = tqdm(total=values["total"], unit="img", file=sys.stderr, dynamic_ncols=True)
        elif event == "image" and state["bar"] is not None:
            state["skipped"] += values["status"] == "skipped"
            if state["skipped"]:
                state["bar"].set_postfix(skipped=state["skipped"], refresh=False)
            state["bar"].update(1)
    return progress, state


def run(args) -> int:
    from imageprivacy.protections.unlearnable.protect_folder import plan_outputs, protect_path
    from imageprivacy.protections.checkpoint import load_protection

    if not Path(args.input).exists():
        return _usage_error(f"input {args.input} does not exist")
    try:    # refuse a bad OUTPUT before the (slower) generator load
        plan_outputs(args.input, args.output)
    except ValueError as err:
        return _usage_error(str(err))
    protection = load_protection(args.generator, device=args.device)
    progress, state = _progress_bar()
    try:
        summary = protect_path(protection, args.input, args.output, batch_size=args.batch_size,
                               progress=progress, overwrite_outputs=args.overwrite_outputs,
                               use_folder_labels=args.labels_from_folders)
    finally:
        if state["bar"] is not None:
            state["bar"].close()

    total = summary.written + summary.resumed + len(summary.skipped)
    if total == 0:
        print(f"no image files ({' '.join(sorted(IMAGE_SUFFIXES))}) found in {args.input}", file=sys.stderr)
        return 0
    print(f"{summary.written} written, {summary.resumed} already done (resumed), {len(summary.skipped)} skipped "
          f"in {summary.seconds:.1f} s; {summary.images_per_second:.1f} images/s")
    if summary.skipped:
        print("skipped (could not be read; the other images were protected):")
        for rel, reason in summary.skipped:
            print(f"  {rel}: {reason}")
    print(f"protected PNGs: {Path(args.output).resolve()}")
    print(JPEG_WARNING)
    return 0 if summary.ok else 1
