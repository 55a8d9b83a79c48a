"""Where `imageprivacy protect` writes each image, and whether a re-run may skip it.

Outputs. Every image becomes a lossless PNG with the same relative path and name stem
(`a/b/cat.jpg` -> `OUTPUT/a/b/cat.png`), size, mode (grayscale or colour) and alpha (unchanged). For
a single-file INPUT, OUTPUT is the output file if it ends in .png, else a folder for `stem.png`.
If two inputs map to one output (`x.jpg` and `x.png`), a .png input keeps the plain name and the
other gets its full name plus .png (`x.jpg.png`; then `x.jpg.2.png`, ...); names are compared
case-insensitively, as macOS and Windows do. Originals are never touched: OUTPUT equal to INPUT,
OUTPUT inside an INPUT folder, and any output that is an input file are refused with ValueError.
"""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

from imageprivacy.data.image_files import iter_image_files, read_image, read_size
from imageprivacy.errors import ConfigurationError, CorruptImageError


@dataclass
class OutputJob:
    source: Path
    rel: str          # the input's path relative to INPUT (its name for a single file), for messages
    target: Path


def _collision_free(rels: list[Path]) -> dict[Path, Path]:
    taken, targets = set(), {}
    # .png inputs claim their own name first, so x.png -> x.png and x.jpg -> x.jpg.png in any order.
    for rel in sorted(rels, key=lambda r: (r.suffix.lower() != ".png", r.parts)):
        names = itertools.chain([rel.with_suffix(".png"), rel.with_name(rel.name + ".png")],
                                (rel.with_name(f"{rel.name}.{k}.png") for k in itertools.count(2)))
        targets[rel] = next(name for name in names if name.as_posix().casefold() not in taken)
        taken.add(targets[rel].as_posix().casefold())
    return targets


def plan_outputs(input_path: str | Path, output_path: str | Path) -> list[OutputJob]:
    """Where each input image goes (policy in the module docstring); raises ValueError on a refusal."""
    source, dest = Path(input_path), Path(output_path)
    if not source.exists():
        raise FileNotFoundError(f"input {source} does not exist")
    if source.resolve() == dest.resolve():
        raise ConfigurationError(f"OUTPUT {dest} is INPUT: originals are never overwritten; choose another OUTPUT")
    if source.is_dir():
        if dest.resolve().is_relative_to(source.resolve()):
            raise ConfigurationError(f"OUTPUT {dest} is inside INPUT {source}: a re-run would protect the outputs "
                             f"again; choose a folder outside it (e.g. {source.resolve()}-protected)")
        if dest.exists() and not dest.is_dir():
            raise ConfigurationError(f"OUTPUT {dest} is a file; INPUT is a folder, so OUTPUT must be a folder")
        files = list(iter_image_files(source))
        targets = _collision_free([f.relative_to(source) for f in files])
        jobs = [OutputJob(f, f.relative_to(source).as_posix(), dest / targets[f.relative_to(source)])
                for f in files]
    else:
        if dest.suffix.lower() not in ("", ".png") and not dest.is_dir():
            raise ConfigurationError(f"OUTPUT {dest} must be a .png file or a folder: protected images are written "
                             "as lossless PNG (JPEG would weaken the protection)")
        target = dest if dest.suffix.lower() == ".png" and not dest.is_dir() else dest / f"{source.stem}.png"
        jobs = [OutputJob(source, source.name, target)]
    inputs = {_identity(job.source) for job in jobs}
    for job in jobs:     # inode identity also catches symlinks, hard links and case-insensitive names
        if job.target.exists() and _identity(job.target) in inputs:
            raise ConfigurationError(f"output {job.target} is the input file {job.rel}: originals are never "
                                     "overwritten")
    return jobs


def _identity(path: Path) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino


def already_done(job: OutputJob) -> bool:
    if not job.target.is_file():
        return False
    try:
        return read_image(job.target).size == read_size(job.source)
    except CorruptImageError:
        return False      # redo it; an unreadable input is then skipped with its reason
