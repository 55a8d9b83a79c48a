"""One `protect` job as every engine runs it: checks and plan before any work, the lock, the manifest, the summary.

An engine (protect_folder.py on this machine, ray_engine.py on a Ray cluster) examines, protects and
writes the plan's jobs however it likes, and hands each input's Outcome (file_steps.py) to
`FolderJob.take`, in this process: the manifest and the commits stay with one owner, so the
crash-safety rules of output_writer.py hold whichever engine ran, and so do the summary, the
progress events and the exit code the command line derives from them.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from imageprivacy.data.png_output import check_compress_level
from imageprivacy.errors import ConfigurationError, NotFittedError
from imageprivacy.protections.base import Progress, Protection
from imageprivacy.protections.unlearnable.file_steps import Outcome
from imageprivacy.protections.unlearnable.folder_labels import labels_from_folders
from imageprivacy.protections.unlearnable.output_manifest import Manifest
from imageprivacy.protections.unlearnable.output_plan import OutputPlan, plan_outputs
from imageprivacy.protections.unlearnable.output_writer import OutputWriter, locked_output
from imageprivacy.protections.unlearnable.protection_identity import protection_identity


@dataclass
class ProtectSummary:
    output: Path
    written: int = 0
    resumed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)    # (relative path, reason): not protected
    warnings: list[tuple[str, str]] = field(default_factory=list)   # (relative path, what was not protected)
    identity: dict = field(default_factory=dict)                    # the protection the outputs were made with
    seconds: float = 0.0             # the whole job, wall clock
    protect_seconds: float = 0.0     # reading, protecting and writing only (no planning, no start-up): the rate

    @property
    def images_per_second(self) -> float:
        return self.written / self.protect_seconds if self.protect_seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        return not self.skipped and not self.warnings


@dataclass
class FolderJob:
    plan: OutputPlan
    labels: list                 # one per plan job: its class from INPUT/<class>/, or None
    use_labels: bool
    summary: ProtectSummary
    report: Progress
    writer: OutputWriter

    @property
    def manifest(self) -> Manifest:
        return self.writer.manifest

    def skip(self, rel: str, reason: str) -> None:
        self.summary.skipped.append((rel, reason))
        self.report("image", {"path": rel, "status": "skipped", "reason": reason})

    def take(self, outcome: Outcome) -> None:
        """Record what became of one input; a written one is committed with the next batch of commits."""
        rel = outcome.job.rel
        if outcome.status == "skipped":
            return self.skip(rel, outcome.reason)
        if outcome.status == "written":
            job = outcome.job
            self.writer.add(job.target_rel, job.target, outcome.tmp, outcome.digest, outcome.size, outcome.record)
            self.summary.written += 1
        else:
            self.summary.resumed += 1
        self.summary.warnings += [(rel, message) for message in outcome.warnings]
        self.report("image", {"path": rel, "status": outcome.status})
        self.writer.commit_if_due()


def check_protection(protection: Protection, batch_size: int) -> None:
    if not protection.fitted:
        raise NotFittedError(f"{type(protection).__name__} must be fitted (or loaded) before protecting files")
    if protection.channels not in (1, 3):
        raise ConfigurationError(f"protections of 1 or 3 channels are supported, got {protection.channels}")
    if batch_size < 1:
        raise ConfigurationError(f"batch_size must be >= 1, got {batch_size}")


def _path_order(item: tuple[str, str]) -> list[str]:
    return item[0].split("/")


@contextlib.contextmanager
def folder_job(protection: Protection, input_path: str | Path, output_path: str | Path, batch_size: int,
               progress: Progress | None, use_folder_labels: bool,
               checkpoint_sha256: str | None, png_compression: int) -> Iterator[FolderJob]:
    """Check, plan, lock OUTPUT and load its manifest; yield the job; then commit and sort the summary.

    Whatever stops the engine, what it handed to `take` is committed before the error goes on.
    """
    check_protection(protection, batch_size)
    check_compress_level(png_compression)
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
        job = FolderJob(plan, labels, use_labels, summary, report, writer)
        report("start", {"total": len(plan.jobs) + len(plan.problems)})
        for rel, reason in plan.problems:
            job.skip(rel, reason)
        try:
            yield job
        except BaseException:
            writer.close(failed=True)
            raise
        writer.close(failed=False)
    summary.skipped.sort(key=_path_order)
    summary.warnings.sort(key=_path_order)     # stable: one file's messages keep their order
    summary.seconds = time.perf_counter() - started
