"""Where `imageprivacy protect` writes each image, decided (and refused) before any work.

Outputs. Every image becomes a lossless PNG with the same relative path and name stem
(`a/b/cat.jpg` -> `OUTPUT/a/b/cat.png`), size and mode (see protect_folder.py for what is kept). For a
single-file INPUT, OUTPUT is the output file if it ends in .png, else a folder for `stem.png`. The
manifest (output_manifest.py) lives in the folder that holds the outputs (`root`).

Refused before any work:
- OUTPUT equal to INPUT or inside an INPUT folder, an output that is an input file (ConfigurationError);
- two inputs mapping to one output (`x.jpg` and `x.png`; names compared case-insensitively, as macOS
  and Windows do): ConfigurationError naming both, since renaming one of them is the user's choice;
- outputs that cannot exist: OUTPUT under a regular file, OUTPUT an existing file where a folder is
  needed (or a non-PNG file), an output file that is also the folder of other outputs (`x.jpg` beside a
  folder `x.png/`): OutputError.
Inputs that cannot be read (image_scan.py) are kept as `problems`, listed by the job, not refused.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from imageprivacy.data.image_formats import unsupported_reason
from imageprivacy.data.image_scan import file_kind, scan_images
from imageprivacy.errors import ConfigurationError, OutputError


@dataclass
class OutputJob:
    source: Path
    rel: str          # the input's path relative to INPUT (its name for a single file), for messages
    target: Path
    target_rel: str   # the output's path relative to the plan's root: its key in the manifest


@dataclass
class OutputPlan:
    root: Path                                        # the folder that holds the outputs and the manifest
    jobs: list[OutputJob] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)   # (input, why it is not protected)


def _check_output_place(dest: Path, folder_needed: bool) -> None:
    """OutputError unless `dest` can be (or is) what it must be: a folder, or (single input) a folder or a .png."""
    if dest.exists() and not dest.is_dir():
        if folder_needed or dest.suffix.lower() != ".png":
            what = "INPUT is a folder, so OUTPUT must be a folder" if folder_needed else \
                "OUTPUT must be a .png file or a folder"
            raise OutputError(f"OUTPUT {dest} is an existing file; {what}: choose another OUTPUT")
    for parent in dest.parents:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise OutputError(f"OUTPUT {dest} is under {parent}, which is a file, not a folder: "
                                  "choose another OUTPUT")
            return


def _refuse_collisions(jobs: list[OutputJob]) -> None:
    owners: dict[str, OutputJob] = {}
    for job in jobs:
        key = job.target_rel.casefold()
        if key in owners:
            raise ConfigurationError(f"{owners[key].rel} and {job.rel} would both be written to {job.target_rel}: "
                                     "rename one of them (outputs are PNGs named after their input)")
        owners[key] = job
    for job in jobs:
        for folder in PurePosixPath(job.target_rel).parents:
            if str(folder).casefold() in owners:
                other = owners[str(folder).casefold()]
                raise OutputError(f"the output of {other.rel} would be the file {other.target_rel}, which must be "
                                  f"the folder of {job.rel}'s output: rename {other.rel} or that folder")


def plan_outputs(input_path: str | Path, output_path: str | Path) -> OutputPlan:
    """Where each input image goes (policy in the module docstring)."""
    source, dest = Path(input_path), Path(output_path)
    if not source.exists():
        what = "is a dangling symlink" if source.is_symlink() else "does not exist"
        raise ConfigurationError(f"input {source} {what}")
    if source.resolve() == dest.resolve():
        raise ConfigurationError(f"OUTPUT {dest} is INPUT: originals are never overwritten; choose another OUTPUT")
    if source.is_dir():
        if dest.resolve().is_relative_to(source.resolve()):
            raise ConfigurationError(f"OUTPUT {dest} is inside INPUT {source}: a re-run would protect the outputs "
                                     f"again; choose a folder outside it (e.g. {source.resolve()}-protected)")
        _check_output_place(dest, folder_needed=True)
        scan = scan_images(source, exclude=dest)
        plan = OutputPlan(dest, problems=scan.problems)
        for path, rel in scan.files:
            target_rel = PurePosixPath(rel).with_suffix(".png").as_posix()
            plan.jobs.append(OutputJob(path, rel, dest / target_rel, target_rel))
    else:
        if dest.suffix.lower() not in ("", ".png") and not dest.exists():
            raise ConfigurationError(f"OUTPUT {dest} must be a .png file or a folder: protected images are written "
                                     "as lossless PNG (JPEG would weaken the protection)")
        _check_output_place(dest, folder_needed=False)
        target = dest if dest.suffix.lower() == ".png" and not dest.is_dir() else dest / f"{source.stem}.png"
        plan = OutputPlan(target.parent)
        kind = os.stat(source).st_mode
        if not source.is_file():
            plan.problems.append((source.name, f"{file_kind(kind)}, not a regular file: never opened"))
        elif unsupported_reason(source):
            plan.problems.append((source.name, unsupported_reason(source)))
        else:
            plan.jobs.append(OutputJob(source, source.name, target, target.name))
    _refuse_collisions(plan.jobs)
    inputs = {_identity(job.source) for job in plan.jobs}
    for job in plan.jobs:     # inode identity also catches symlinks, hard links and case-insensitive names
        if job.target.exists() and _identity(job.target) in inputs:
            raise ConfigurationError(f"output {job.target} is the input file {job.rel}: originals are never "
                                     "overwritten")
    return plan


def _identity(path: Path) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino
