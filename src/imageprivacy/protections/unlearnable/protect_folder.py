"""Protect one image file or a folder of them (the job behind `imageprivacy protect`).

Outputs: see output_plan.py (same relative path and stem, lossless PNG, originals never overwritten).

Channels. When an image's channel count differs from `protection.channels`:
- 1-channel protection, colour image: each of R, G, B is protected as its own grayscale image.
- 3-channel protection, grayscale image: the image is replicated to 3 channels and protected; the
  output is the rounded mean of the 3 protected channels, clipped again to within
  `budget_in_levels(epsilon)` of the original (as `apply_noise_uint8` does).

Batching. Images (or channel parts) of the same (C, H, W) are protected together, up to
`batch_size` of them and BATCH_VALUES_LIMIT values, so many small images run fast and one large
image runs alone. Images wait for batch-mates only within PENDING_VALUES_LIMIT.

Labels. A method that chooses its noise by class (`needs_labels_to_protect`) takes each file's
label from its class folder, INPUT/<class>/... (see folder_labels.py).

Budget. Bounded methods are checked against epsilon before anything is written; class-wise
patches replace pixels (`bounded = False`), so only their outputs' shape and type are checked.

Resume and failures. An existing output that decodes with the size of its input is counted as
`resumed` and not redone (writes are atomic, so an output that exists is complete), unless
`overwrite_outputs`. A file that cannot be decoded is skipped with its reason and the job goes on.
An error of the protection itself or of writing an output stops the job: it is not about one file,
and a re-run resumes. Every protected image is checked against the budget before it is written.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from imageprivacy.data.image_files import DecodedImage, read_image, write_png
from imageprivacy.errors import ConfigurationError, CorruptImageError, NotFittedError
from imageprivacy.protections.base import Progress, Protection
from imageprivacy.protections.pixel_budget import apply_noise_uint8, budget_in_levels
from imageprivacy.protections.unlearnable.folder_labels import labels_from_folders
from imageprivacy.protections.unlearnable.output_plan import OutputJob, already_done, plan_outputs

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


def _split(pixels: torch.Tensor, channels: int) -> list[torch.Tensor]:
    if pixels.shape[0] == channels:
        return [pixels]
    if channels == 1:
        return [pixels[i:i + 1] for i in range(pixels.shape[0])]   # each colour channel as a gray image
    return [pixels.expand(3, -1, -1)]                               # gray replicated to RGB


def _merge(original: torch.Tensor, parts: list[torch.Tensor], epsilon: float, bounded: bool) -> torch.Tensor:
    if len(parts) > 1:
        return torch.cat(parts)
    if parts[0].shape[0] == original.shape[0]:
        return parts[0]
    mean = parts[0].float().mean(dim=0, keepdim=True).round()      # 3-channel protection, gray image
    if not bounded:
        return mean.to(torch.uint8)
    return apply_noise_uint8(original, (mean - original.float()) / 255.0, epsilon)


def _check_budget(original: torch.Tensor, protected: torch.Tensor, epsilon: float, rel: str) -> None:
    limit = budget_in_levels(epsilon) if epsilon < 1.0 else 255
    worst = (protected.to(torch.int16) - original.to(torch.int16)).abs().max().item()
    if protected.shape != original.shape or protected.dtype != torch.uint8 or worst > limit:
        raise RuntimeError(f"bug: protected {rel} is {protected.dtype} {tuple(protected.shape)} and differs by "
                           f"{worst} levels (budget {limit}) from its {tuple(original.shape)} input; not written")


@dataclass
class _Waiting:
    job: OutputJob
    image: DecodedImage
    parts: list                 # the protected parts (see _split), filled in as their batches run
    missing: int


class _Batcher:
    """Collects same-shape inputs of the protection into batches; writes an image once all its parts are back."""

    def __init__(self, protection: Protection, batch_size: int, summary: ProtectSummary, report: Progress,
                 use_labels: bool = False):
        self.protection, self.batch_size, self.summary, self.report = protection, batch_size, summary, report
        self.use_labels = use_labels
        self.buckets: dict[tuple, list] = {}
        self.waiting_values = self.waiting_parts = 0

    def add(self, job: OutputJob, image: DecodedImage, label: int | None = None) -> None:
        parts = _split(image.pixels, self.protection.channels)
        waiting = _Waiting(job, image, [None] * len(parts), len(parts))
        for index, part in enumerate(parts):
            bucket = self.buckets.setdefault(tuple(part.shape), [])
            bucket.append((waiting, index, part, label))
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
        labels = None
        if self.use_labels:
            labels = torch.tensor([label for *_, label in entries], dtype=torch.long)
        protected = self.protection.protect(torch.stack([part for _, _, part, _ in entries]), labels)
        for (waiting, index, part, _), out in zip(entries, protected):
            waiting.parts[index], waiting.missing = out, waiting.missing - 1
            self.waiting_values, self.waiting_parts = self.waiting_values - part.numel(), self.waiting_parts - 1
            if waiting.missing == 0:
                self._write(waiting)
        self.summary.protect_seconds += time.perf_counter() - started

    def _write(self, waiting: _Waiting) -> None:
        image, job = waiting.image, waiting.job
        bounded = self.protection.bounded
        result = _merge(image.pixels, waiting.parts, self.protection.epsilon, bounded)
        # An unbounded method (patches) may change any pixel it owns: only shape and dtype are checked.
        _check_budget(image.pixels, result, self.protection.epsilon if bounded else 1.0, job.rel)
        write_png(job.target, result, image.alpha, original_mode=image.mode, icc_profile=image.icc_profile)
        self.summary.written += 1
        self.report("image", {"path": job.rel, "status": "written"})


def protect_path(protection: Protection, input_path: str | Path, output_path: str | Path, batch_size: int = 64,
                 progress: Progress | None = None, overwrite_outputs: bool = False,
                 use_folder_labels: bool = False) -> ProtectSummary:
    """Protect INPUT (an image file or a folder, recursively) into lossless PNGs at OUTPUT (see module docstring).

    `use_folder_labels`: give the method each file's class from INPUT/<class>/ even when it can do
    without (ConfounderGAN's label-aware path: each class's own pattern instead of the selector's pick).
    """
    if not protection.fitted:
        raise NotFittedError(f"{type(protection).__name__} must be fitted (or loaded) before protecting files")
    if protection.channels not in (1, 3):
        raise ConfigurationError(f"protections of 1 or 3 channels are supported, got {protection.channels}")
    if batch_size < 1:
        raise ConfigurationError(f"batch_size must be >= 1, got {batch_size}")
    started = time.perf_counter()
    jobs = plan_outputs(input_path, output_path)
    labels = [None] * len(jobs)
    use_labels = use_folder_labels or protection.needs_labels_to_protect
    if use_labels:   # refuse before any work, naming the file without a class
        labels = labels_from_folders([job.rel for job in jobs], protection.class_names,
                                     type(protection).__name__)
    report = progress or (lambda event, values: None)
    summary = ProtectSummary(output=Path(output_path))
    batcher = _Batcher(protection, batch_size, summary, report, use_labels)
    report("start", {"total": len(jobs)})
    for job, label in zip(jobs, labels):
        if not overwrite_outputs and already_done(job):
            summary.resumed += 1
            report("image", {"path": job.rel, "status": "resumed"})
            continue
        try:
            image = read_image(job.source)
        except CorruptImageError as err:
            summary.skipped.append((job.rel, getattr(err, "reason", str(err))))
            report("image", {"path": job.rel, "status": "skipped", "reason": summary.skipped[-1][1]})
            continue
        batcher.add(job, image, label)
    batcher.flush_all()
    summary.seconds = time.perf_counter() - started
    return summary
