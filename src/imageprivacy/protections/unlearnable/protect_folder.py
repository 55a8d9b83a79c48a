"""Protect one image file or a folder of them (the job behind `imageprivacy protect`).

The promise: an image is reported done only when its protected PNG is on disk and the manifest says
it came from this very input under this very protection; a file the job did not write is never
overwritten; every input that is not protected is listed with its reason.

- Where outputs go and what is refused before any work: output_plan.py (the folder walk that lists
  unreadable folders, dangling links, loops, FIFOs and unsupported formats: data/image_scan.py).
- What is kept of each image (size, mode, alpha, tRNS colour, 16 bits, the channel policy) and the
  budget check before anything is written: protected_pixels.py.
- Batching of same-shape images: protect_batches.py.
- Resume: output_manifest.py. An output counts as done only when its hash, its source's path, size
  and hash, and the protection's identity (`protection_identity`) match the manifest; an output the
  tool wrote under other terms is redone; any other existing file is refused (listed) unless
  `overwrite_outputs`.
- Writing: output_writer.py (temporary files, umask, commits that keep the manifest true after a kill).

Labels. A method that chooses its noise by class (`needs_labels_to_protect`) takes each file's
label from its class folder, INPUT/<class>/... (see folder_labels.py).

Failures. A file that cannot be read or decoded is skipped with its reason and the job goes on;
frames past the first of an animation or multi-page file are not protected and listed as a
warning. An error of the protection itself or an OutputError (OUTPUT cannot be written) stops the
job: it is not about one file, and a re-run resumes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from imageprivacy.data.image_files import decode_image, encode_png, read_source
from imageprivacy.errors import ConfigurationError, CorruptImageError, NotFittedError
from imageprivacy.protections.base import Progress, Protection
from imageprivacy.protections.unlearnable.folder_labels import labels_from_folders
from imageprivacy.protections.unlearnable.output_manifest import Manifest, Verdict, output_problem
from imageprivacy.protections.unlearnable.output_plan import OutputJob, plan_outputs
from imageprivacy.protections.unlearnable.output_writer import OutputWriter, locked_output
from imageprivacy.protections.unlearnable.protect_batches import Batcher, Waiting
from imageprivacy.protections.unlearnable.protected_pixels import (budget_limit, check_budget,
                                                                   keep_transparent_color, merge)
from imageprivacy.protections.unlearnable.protection_identity import protection_identity, source_record

FOREIGN_REASON = ("an existing file that this tool did not write (not in OUTPUT's manifest, or changed since) "
                  "is in the way: not overwritten; move it away or pass --overwrite")


@dataclass
class ProtectSummary:
    output: Path
    written: int = 0
    resumed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)    # (relative path, reason): not protected
    warnings: list[tuple[str, str]] = field(default_factory=list)   # (relative path, what was not protected)
    identity: dict = field(default_factory=dict)                    # the protection the outputs were made with
    seconds: float = 0.0             # the whole job, wall clock
    protect_seconds: float = 0.0     # protecting, checking and writing only: the rate below

    @property
    def images_per_second(self) -> float:
        return self.written / self.protect_seconds if self.protect_seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        return not self.skipped and not self.warnings


def _warnings_of(image) -> list[str]:
    extra = [f"{image.frames - 1} extra frame(s) not protected: only the first was written"] if image.frames > 1 else []
    return extra + list(image.notes)


class _Job:
    """One run: reads, resumes or refuses each input, and writes what the batcher hands back."""

    def __init__(self, protection: Protection, summary: ProtectSummary, report: Progress, writer: OutputWriter,
                 overwrite: bool):
        self.protection, self.summary, self.report, self.writer = protection, summary, report, writer
        self.overwrite = overwrite

    def skip(self, rel: str, reason: str) -> None:
        self.summary.skipped.append((rel, reason))
        self.report("image", {"path": rel, "status": "skipped", "reason": reason})

    def warn(self, rel: str, messages: list[str]) -> None:
        self.summary.warnings += [(rel, message) for message in messages]

    def consider(self, job: OutputJob, label, batcher: Batcher) -> None:
        problem = output_problem(self.writer.manifest.root, job.target)
        if problem:
            return self.skip(job.rel, problem)
        try:
            data = read_source(job.source)
        except CorruptImageError as err:
            return self.skip(job.rel, getattr(err, "reason", str(err)))
        record = source_record(job.rel, data, self.summary.identity)
        verdict = self.writer.manifest.verdict(job.target_rel, job.target, record, self.overwrite)
        if verdict is Verdict.DONE:
            self.summary.resumed += 1
            self.warn(job.rel, self.writer.manifest.outputs[job.target_rel].get("warnings", []))
            return self.report("image", {"path": job.rel, "status": "resumed"})
        if verdict is Verdict.FOREIGN:
            return self.skip(job.rel, f"{job.target}: {FOREIGN_REASON}")
        if verdict is Verdict.BLOCKED:
            return self.skip(job.rel, f"{job.target} is a folder: not replaced")
        try:
            image = decode_image(data, job.source, keep_16_bit=True)
        except CorruptImageError as err:
            return self.skip(job.rel, getattr(err, "reason", str(err)))
        del data
        batcher.add((job, record), image, label)
        self.writer.commit_if_due()

    def finish(self, waiting: Waiting) -> None:
        (job, record), image = waiting.item, waiting.image
        bounded, epsilon = self.protection.bounded, self.protection.epsilon
        result = merge(image, waiting.parts, epsilon, bounded)
        if image.transparent_color is not None:
            result = keep_transparent_color(image.pixels, result, image.transparent_color)
        # An unbounded method (patches) may change any pixel it owns: only shape and dtype are checked.
        check_budget(image.pixels, result, budget_limit(image, epsilon, bounded), job.rel)
        warnings = _warnings_of(image)

        def encode(out):
            encode_png(out, result, image.alpha, original_mode=image.mode, icc_profile=image.icc_profile,
                       transparency=image.transparent_color)
        self.writer.stage(job.target_rel, job.target, encode, {**record, "warnings": warnings})
        self.summary.written += 1
        self.warn(job.rel, warnings)
        self.report("image", {"path": job.rel, "status": "written"})


def protect_path(protection: Protection, input_path: str | Path, output_path: str | Path, batch_size: int = 64,
                 progress: Progress | None = None, overwrite_outputs: bool = False,
                 use_folder_labels: bool = False, checkpoint_sha256: str | None = None) -> ProtectSummary:
    """Protect INPUT (an image file or a folder, recursively) into lossless PNGs at OUTPUT (see module docstring).

    `use_folder_labels`: give the method each file's class from INPUT/<class>/ even when it can do
    without (ConfounderGAN's label-aware path: each class's own pattern instead of the selector's pick).
    `checkpoint_sha256`: the hash of the checkpoint file the protection was loaded from, recorded in
    the manifest (without it, a hash of the protection's state).
    """
    if not protection.fitted:
        raise NotFittedError(f"{type(protection).__name__} must be fitted (or loaded) before protecting files")
    if protection.channels not in (1, 3):
        raise ConfigurationError(f"protections of 1 or 3 channels are supported, got {protection.channels}")
    if batch_size < 1:
        raise ConfigurationError(f"batch_size must be >= 1, got {batch_size}")
    started = time.perf_counter()
    plan = plan_outputs(input_path, output_path)
    labels = [None] * len(plan.jobs)
    use_labels = use_folder_labels or protection.needs_labels_to_protect
    if use_labels:   # refuse before any work, naming the file without a class
        labels = labels_from_folders([job.rel for job in plan.jobs], protection.class_names,
                                     type(protection).__name__)
    report = progress or (lambda event, values: None)
    summary = ProtectSummary(output=Path(output_path),
                             identity=protection_identity(protection, checkpoint_sha256, use_labels))
    with locked_output(plan.root):
        manifest = Manifest.load(plan.root)
        manifest.save()              # fails now, before any work, when OUTPUT cannot be written
        writer = OutputWriter(manifest)
        writer.clear_leftovers([job.target for job in plan.jobs])
        job_run = _Job(protection, summary, report, writer, overwrite_outputs)
        batcher = Batcher(protection, batch_size, job_run.finish, use_labels)
        report("start", {"total": len(plan.jobs) + len(plan.problems)})
        for rel, reason in plan.problems:
            job_run.skip(rel, reason)
        try:
            for job, label in zip(plan.jobs, labels):
                job_run.consider(job, label, batcher)
            batcher.flush_all()
        except BaseException:
            writer.close(failed=True)
            raise
        writer.close(failed=False)
    summary.protect_seconds = batcher.seconds
    summary.skipped.sort(key=lambda item: item[0].split("/"))
    summary.seconds = time.perf_counter() - started
    return summary
