"""Protect one image file or a folder of them (the job behind `imageprivacy protect`).

Outputs. Every image becomes a lossless PNG with the same relative path and name stem
(`a/b/cat.jpg` -> `OUTPUT/a/b/cat.png`), size, mode (grayscale or colour) and alpha (unchanged). For
a single-file INPUT, OUTPUT is the output file if it ends in .png, else a folder for `stem.png`.
If two inputs map to one output (`x.jpg` and `x.png`), a .png input keeps the plain name and the
other gets its full name plus .png (`x.jpg.png`; then `x.jpg.2.png`, ...); names are compared
case-insensitively, as macOS and Windows do. Originals are never touched: OUTPUT equal to INPUT,
OUTPUT inside an INPUT folder, and any output that is an input file are refused with ValueError.

Channels. When an image's channel count differs from `protection.channels`:
- 1-channel protection, colour image: each of R, G, B is protected as its own grayscale image.
- 3-channel protection, grayscale image: the image is replicated to 3 channels and protected; the
  output is the rounded mean of the 3 protected channels, clipped again to within
  `budget_in_levels(epsilon)` of the original (as `apply_noise_uint8` does).

Batching. Images (or channel parts) of the same (C, H, W) are protected together, up to
`batch_size` of them and BATCH_VALUES_LIMIT values, so many small images run fast and one large
image runs alone. Images wait for batch-mates only within PENDING_VALUES_LIMIT.

Resume and failures. An existing output that decodes with the size of its input is counted as
`resumed` and not redone (writes are atomic, so an output that exists is complete), unless
`overwrite_outputs`. A file that cannot be decoded is skipped with its reason and the job goes on.
An error of the protection itself or of writing an output stops the job: it is not about one file,
and a re-run resumes. Every protected image is checked against the budget before it is written.
"""
from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from imageprivacy.data.image_files import DecodedImage, iter_image_files, read_image, read_size, write_png
from imageprivacy.errors import CorruptImageError, MissingLabelsError, NotFittedError
from imageprivacy.protections.base import Progress, Protection, apply_noise_uint8, budget_in_levels

BATCH_VALUES_LIMIT = 1 << 24     # pixel values per protect() call (64 MB as float); a bigger image goes alone
PENDING_VALUES_LIMIT = 1 << 26   # uint8 values of decoded images waiting for batch-mates (64 MB)


@dataclass
class ProtectSummary:
    output: Path
    written: int = 0
    resumed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (relative path, reason)
    seconds: float = 0.0             # the whole job, wall clock
    protect_seconds: float = 0.0     # protecting, checking and writing only: the rate below

    @property
    def images_per_second(self) -> float:
        return self.written / self.protect_seconds if self.protect_seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        return not self.skipped


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
        raise ValueError(f"OUTPUT {dest} is INPUT: originals are never overwritten; choose another OUTPUT")
    if source.is_dir():
        if dest.resolve().is_relative_to(source.resolve()):
            raise ValueError(f"OUTPUT {dest} is inside INPUT {source}: a re-run would protect the outputs "
                             f"again; choose a folder outside it (e.g. {source.resolve()}-protected)")
        if dest.exists() and not dest.is_dir():
            raise ValueError(f"OUTPUT {dest} is a file; INPUT is a folder, so OUTPUT must be a folder")
        files = list(iter_image_files(source))
        targets = _collision_free([f.relative_to(source) for f in files])
        jobs = [OutputJob(f, f.relative_to(source).as_posix(), dest / targets[f.relative_to(source)])
                for f in files]
    else:
        if dest.suffix.lower() not in ("", ".png") and not dest.is_dir():
            raise ValueError(f"OUTPUT {dest} must be a .png file or a folder: protected images are written "
                             "as lossless PNG (JPEG would weaken the protection)")
        target = dest if dest.suffix.lower() == ".png" and not dest.is_dir() else dest / f"{source.stem}.png"
        jobs = [OutputJob(source, source.name, target)]
    inputs = {_identity(job.source) for job in jobs}
    for job in jobs:     # inode identity also catches symlinks, hard links and case-insensitive names
        if job.target.exists() and _identity(job.target) in inputs:
            raise ValueError(f"output {job.target} is the input file {job.rel}: originals are never overwritten")
    return jobs


def _identity(path: Path) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino


def _split(pixels: torch.Tensor, channels: int) -> list[torch.Tensor]:
    if pixels.shape[0] == channels:
        return [pixels]
    if channels == 1:
        return [pixels[i:i + 1] for i in range(pixels.shape[0])]   # each colour channel as a gray image
    return [pixels.expand(3, -1, -1)]                               # gray replicated to RGB


def _merge(original: torch.Tensor, parts: list[torch.Tensor], epsilon: float) -> torch.Tensor:
    if len(parts) > 1:
        return torch.cat(parts)
    if parts[0].shape[0] == original.shape[0]:
        return parts[0]
    mean = parts[0].float().mean(dim=0, keepdim=True).round()      # 3-channel protection, gray image
    return apply_noise_uint8(original, (mean - original.float()) / 255.0, epsilon)


def _check_budget(original: torch.Tensor, protected: torch.Tensor, epsilon: float, rel: str) -> None:
    limit = budget_in_levels(epsilon)
    worst = (protected.to(torch.int16) - original.to(torch.int16)).abs().max().item()
    if protected.shape != original.shape or protected.dtype != torch.uint8 or worst > limit:
        raise RuntimeError(f"bug: protected {rel} is {protected.dtype} {tuple(protected.shape)} and differs by "
                           f"{worst} levels (budget {limit}) from its {tuple(original.shape)} input; not written")


def _already_done(job: OutputJob) -> bool:
    if not job.target.is_file():
        return False
    try:
        return read_image(job.target).size == read_size(job.source)
    except CorruptImageError:
        return False      # redo it; an unreadable input is then skipped with its reason


@dataclass
class _Waiting:
    job: OutputJob
    image: DecodedImage
    parts: list                 # the protected parts (see _split), filled in as their batches run
    missing: int


class _Batcher:
    """Collects same-shape inputs of the protection into batches; writes an image once all its parts are back."""

    def __init__(self, protection: Protection, batch_size: int, summary: ProtectSummary, report: Progress):
        self.protection, self.batch_size, self.summary, self.report = protection, batch_size, summary, report
        self.buckets: dict[tuple, list] = {}
        self.waiting_values = self.waiting_parts = 0

    def add(self, job: OutputJob, image: DecodedImage) -> None:
        parts = _split(image.pixels, self.protection.channels)
        waiting = _Waiting(job, image, [None] * len(parts), len(parts))
        for index, part in enumerate(parts):
            bucket = self.buckets.setdefault(tuple(part.shape), [])
            bucket.append((waiting, index, part))
            self.waiting_values, self.waiting_parts = self.waiting_values + part.numel(), self.waiting_parts + 1
            if len(bucket) >= self.batch_size or (len(bucket) + 1) * part.numel() > BATCH_VALUES_LIMIT:
                self.flush(tuple(part.shape))
        # Many different sizes: do not hold them all; protect the fullest batch so far.
        while self.waiting_values > PENDING_VALUES_LIMIT or self.waiting_parts > 4 * self.batch_size:
            self.flush(max(self.buckets, key=lambda shape: len(self.buckets[shape])))

    def flush_all(self) -> None:
        while self.buckets:
            self.flush(next(iter(self.buckets)))

    def flush(self, shape: tuple) -> None:
        started = time.perf_counter()
        entries = self.buckets.pop(shape)
        protected = self.protection.protect(torch.stack([part for _, _, part in entries]))
        for (waiting, index, part), out in zip(entries, protected):
            waiting.parts[index], waiting.missing = out, waiting.missing - 1
            self.waiting_values, self.waiting_parts = self.waiting_values - part.numel(), self.waiting_parts - 1
            if waiting.missing == 0:
                self._write(waiting)
        self.summary.protect_seconds += time.perf_counter() - started

    def _write(self, waiting: _Waiting) -> None:
        image, job = waiting.image, waiting.job
        result = _merge(image.pixels, waiting.parts, self.protection.epsilon)
        _check_budget(image.pixels, result, self.protection.epsilon, job.rel)
        write_png(job.target, result, image.alpha, original_mode=image.mode, icc_profile=image.icc_profile)
        self.summary.written += 1
        self.report("image", {"path": job.rel, "status": "written"})


def protect_path(protection: Protection, input_path: str | Path, output_path: str | Path, batch_size: int = 64,
                 progress: Progress | None = None, overwrite_outputs: bool = False) -> ProtectSummary:
    """Protect INPUT (an image file or a folder, recursively) into lossless PNGs at OUTPUT (see module docstring)."""
    if not protection.fitted:
        raise NotFittedError(f"{type(protection).__name__} must be fitted (or loaded) before protecting files")
    if protection.channels not in (1, 3):
        raise ValueError(f"protections of 1 or 3 channels are supported, got {protection.channels}")
    if protection.needs_labels_to_protect:
        raise MissingLabelsError(f"{type(protection).__name__} chooses its noise by class; image files have no labels")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    started = time.perf_counter()
    jobs = plan_outputs(input_path, output_path)
    report = progress or (lambda event, values: None)
    summary = ProtectSummary(output=Path(output_path))
    batcher = _Batcher(protection, batch_size, summary, report)
    report("start", {"total": len(jobs)})
    for job in jobs:
        if not overwrite_outputs and _already_done(job):
            summary.resumed += 1
            report("image", {"path": job.rel, "status": "resumed"})
            continue
        try:
            image = read_image(job.source)
        except CorruptImageError as err:
            summary.skipped.append((job.rel, getattr(err, "reason", str(err))))
            report("image", {"path": job.rel, "status": "skipped", "reason": summary.skipped[-1][1]})
            continue
        batcher.add(job, image)
    batcher.flush_all()
    summary.seconds = time.perf_counter() - started
    return summary
