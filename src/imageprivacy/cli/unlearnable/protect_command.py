"""`imageprivacy protect --generator GEN.safetensors INPUT OUTPUT`: protect image files before sharing them.

Exit codes (EXIT_CODES, shown by --help): 0 every image protected; 1 some inputs not protected,
listed with their reasons; 2 a usage or configuration error; 3 OUTPUT cannot be written. Errors 2 and 3
are typed errors that `imageprivacy.cli.main` prints as one line (OutputError is 3).

`--engine local` (the default) runs on this machine (protections/unlearnable/protect_folder.py), in one
forked worker process per core on Linux with --device cpu (process_engine.py; `--workers N` sets how
many, 1 keeps it in this process);
`--engine ray` runs the same job, with the same outputs, manifest, summary and exit code, on a Ray
cluster (protections/unlearnable/ray_engine.py): a local one started for the job, or the one at
`--address`. Ray is the optional extra `imageprivacy[ray]`; without it `--engine ray` says how to
install it and exits 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imageprivacy.cli.arguments import EpilogHelpFormatter, device, printable
from imageprivacy.data.image_formats import IMAGE_SUFFIXES
from imageprivacy.data.png_output import DEFAULT_COMPRESS_LEVEL, check_compress_level

from imageprivacy.protections.pixel_budget import REENCODING_WARNING as JPEG_WARNING, budget_in_levels
EXIT_CODES = """exit codes:
  0  every image was protected (written now, or already done by an earlier run)
  1  some inputs were not protected, each listed with its reason (unreadable, not a regular file, an
     unsupported format, a file in OUTPUT this tool did not write, ...) or only partly (extra frames)
  2  usage or configuration error: a bad argument, INPUT missing, OUTPUT inside INPUT, two inputs with
     one output name, a damaged checkpoint (one line, no traceback)
  3  OUTPUT cannot be written: read-only, under a file, an existing file, no space (one line, what to fix)

A re-run resumes: OUTPUT/.imageprivacy-manifest.json records what was written from which input with
which generator; only outputs that match it are kept, and a file this tool did not write is never
overwritten unless --overwrite."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def add_parser(sub) -> None:
    p = sub.add_parser("protect", help="protect an image file or a folder of images with a trained generator",
                       epilog=EXIT_CODES, formatter_class=EpilogHelpFormatter)
    p.add_argument("input", help="an image file, or a folder (searched recursively, symlinked folders once; "
                                 "hidden files are skipped)")
    p.add_argument("output", help="a folder for the protected PNGs (or a .png file when INPUT is one file)")
    p.add_argument("--generator", "--checkpoint", dest="generator", required=True,
                   help="a ConfounderGAN generator (train-generator) or any method's checkpoint (fit); methods "
                        "that choose noise by class read each image's class from INPUT/<class>/...")
    p.add_argument("--device", type=device, default="cpu", help="cpu, cuda, cuda:N")
    p.add_argument("--batch-size", type=_positive_int, default=64, help="same-size images protected together")
    p.add_argument("--labels-from-folders", action="store_true",
                   help="label-aware protection: take each image's class from INPUT/<class>/... (ConfounderGAN "
                        "then gives each class its own pattern); without it ConfounderGAN needs no labels")
    p.add_argument("--overwrite", "--overwrite-outputs", dest="overwrite", action="store_true",
                   help="redo every output and replace any file in the way, even one this tool did not write")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local: this machine, in worker processes (Linux, --device cpu) or this process, with "
                        "reader and writer threads; ray: a Ray Data pipeline on a local Ray or the cluster at "
                        "--address (needs: pip install 'imageprivacy[ray]')")
    p.add_argument("--address", default=None,
                   help="--engine ray: the Ray cluster to join (e.g. auto, or ray://HOST:10001); INPUT and "
                        "OUTPUT must be paths every worker reaches. Default: start a local Ray")
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="protecting workers, one model copy each. --engine local: worker processes (default: "
                        "one per core on Linux with --device cpu, else 1; 1 protects in this process); --engine "
                        "ray: Ray workers (default: one per CPU of the cluster, or per GPU with --device cuda)")
    p.add_argument("--png-compression", type=int, default=DEFAULT_COMPRESS_LEVEL, metavar="0-9",
                   help="zlib level of the PNGs, 0 (none) to 9 (zlib's strongest); the pixels are the same at "
                        "every level. One 1024x1024 photo, 2 busy cores (benchmarks/png_levels.py): 0 0.03 s "
                        "3.15 MB, 1 0.07 s 2.06 MB, 6 (Pillow's default, written before) 0.18 s 2.20 MB, 9 the "
                        "same as 6; 9 pays off on smooth graphics, not on photos. A re-run redoes outputs "
                        "written at another level")
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


def describe(protection, checkpoint_sha256: str) -> str:
    """The one line that says what runs: method (kind), epsilon in 8-bit levels, the checkpoint's hash."""
    kind = getattr(protection, "kind", None)
    method = f"{protection.name} ({kind})" if isinstance(kind, str) else protection.name
    # A mixture generator may spend less than its budget (GeneratorConfig.amplitude): say what it writes,
    # in whole 8-bit levels as apply_noise_uint8 (protections/pixel_budget.py) rounds them.
    shape = getattr(getattr(protection, "config", None), "generator", None)
    amplitude = getattr(shape, "amplitude", 1.0) if kind == "mixture" else 1.0
    levels = min(round(amplitude * protection.epsilon * 255), budget_in_levels(protection.epsilon))
    spent = f" (its patterns write {levels}/255)" if amplitude < 1 else ""
    return (f"protecting with {method}, epsilon {protection.epsilon * 255:g}/255{spent}, "
            f"checkpoint sha256 {checkpoint_sha256[:12]}")


def rate(summary) -> str:
    """Images per second, or seconds per image when it is below one (a large photo): never '0.0 images/s'."""
    if not summary.written or summary.protect_seconds <= 0:
        return ""
    per_second = summary.images_per_second
    return f"; {per_second:.1f} images/s" if per_second >= 1 else f"; {1 / per_second:.1f} s/image"


def _protect(args, protection, checkpoint_sha256, progress):
    """The job, on the engine the arguments name."""
    options = dict(batch_size=args.batch_size, progress=progress, overwrite_outputs=args.overwrite,
                   use_folder_labels=args.labels_from_folders, checkpoint_sha256=checkpoint_sha256,
                   png_compression=args.png_compression)
    if args.engine == "ray":
        from imageprivacy.protections.unlearnable.ray_engine import protect_path_on_ray

        return protect_path_on_ray(protection, args.generator, args.input, args.output, device=args.device,
                                   workers=args.workers, address=args.address, **options)
    from imageprivacy.protections.unlearnable.protect_folder import protect_path

    return protect_path(protection, args.input, args.output, processes=args.workers, **options)


def run(args) -> int:
    from imageprivacy.protections.checkpoint import load_protection
    from imageprivacy.protections.unlearnable.protect_folder import plan_outputs
    from imageprivacy.protections.unlearnable.protection_identity import file_sha256
    from imageprivacy.protections.unlearnable.ray_engine import RAY_HINT, ray_installed

    if args.engine == "ray" and not ray_installed():
        print(RAY_HINT, file=sys.stderr)
        return 2
    if args.engine == "local" and args.address is not None:
        return _usage_error("--address is an option of --engine ray")
    check_compress_level(args.png_compression)     # ConfigurationError: one line, exit 2 (cli.main)
    if not Path(args.input).exists():
        return _usage_error(f"input {args.input} does not exist")
    try:    # refuse a bad OUTPUT before the (slower) generator load; OutputError (exit 3) goes to cli.main
        plan_outputs(args.input, args.output)
    except ValueError as err:
        return _usage_error(str(err))
    # With Ray, this copy only describes the job and its manifest record: the workers protect, on --device.
    protection = load_protection(args.generator, device="cpu" if args.engine == "ray" else args.device)
    checkpoint_sha256 = file_sha256(args.generator)
    print(describe(protection, checkpoint_sha256), flush=True)
    progress, state = _progress_bar()
    try:
        summary = _protect(args, protection, checkpoint_sha256, progress)
    finally:
        if state["bar"] is not None:
            state["bar"].close()

    if summary.written + summary.resumed + len(summary.skipped) == 0:
        print(f"no image files ({' '.join(sorted(IMAGE_SUFFIXES))}) found in {args.input}", file=sys.stderr)
        return 0
    print(f"{summary.written} written, {summary.resumed} already done (resumed), {len(summary.skipped)} not "
          f"protected in {summary.seconds:.1f} s{rate(summary)}")
    if summary.skipped:
        print("not protected (the other images were):")
        for rel, reason in summary.skipped:
            print(printable(f"  {rel}: {reason}"))
    if summary.warnings:
        print("protected, but not all of it:")
        for rel, message in summary.warnings:
            print(printable(f"  {rel}: {message}"))
    print(printable(f"protected PNGs: {Path(args.output).resolve()}"))
    print(JPEG_WARNING)
    return 0 if summary.ok else 1
