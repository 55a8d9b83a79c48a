"""The two halves of protecting one file, which every engine runs: examine an input, write its protected output.

`examine` (before the protection): whether the output can go where it must (output_manifest.output_problem),
the input's bytes and their record (protection_identity.source_record), what the manifest says of an
existing output (Manifest.verdict), and the decoded image when there is work to do. `write_protected`
(after it): the pixels to write (protected_pixels.py), the budget check, and the PNG in a temporary file
beside its target (output_writer.write_temporary), at the zlib level its record names, so the manifest
always says how an output was encoded; moving it in place is the committer's (OutputWriter).

Both only read the manifest, and each touches only its own input and output, so many threads, or
workers on other machines (ray_worker.py), may run them at once; what they find comes back as an
`Outcome` that the one process owning the manifest records (folder_job.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from imageprivacy.data.image_files import DecodedImage, decode_image, encode_png, read_source
from imageprivacy.errors import CorruptImageError
from imageprivacy.protections.base import Protection
from imageprivacy.protections.unlearnable.output_manifest import Manifest, Verdict, output_problem
from imageprivacy.protections.unlearnable.output_plan import OutputJob
from imageprivacy.protections.unlearnable.output_writer import write_temporary
from imageprivacy.protections.unlearnable.protected_pixels import (budget_limit, check_budget,
                                                                   keep_transparent_color, merge)
from imageprivacy.protections.unlearnable.protection_identity import source_record

FOREIGN_REASON = ("an existing file that this tool did not write (not in OUTPUT's manifest, or changed since) "
                  "is in the way: not overwritten; move it away or pass --overwrite")


@dataclass
class Outcome:
    """What became of one input: "written" (a temporary file to commit), "resumed" or "skipped"."""
    job: OutputJob
    status: str
    reason: str = ""                                   # why it was skipped
    warnings: list[str] = field(default_factory=list)  # what of it was not protected (extra frames, ...)
    record: dict | None = None                         # written: the manifest record, output hash excluded
    tmp: Path | None = None                            # written: the temporary file, its hash and size
    digest: str = ""
    size: int = 0


@dataclass
class Decoded:
    """An input with work to do: its record and its pixels, for the protection."""
    job: OutputJob
    label: int | None
    record: dict
    image: DecodedImage


def _reason(err: CorruptImageError) -> str:
    return getattr(err, "reason", str(err))


def examine(job: OutputJob, label: int | None, manifest: Manifest, identity: dict, overwrite: bool,
            png_compression: int) -> Outcome | Decoded:
    """An Outcome when the input needs no protection (skipped, or already done at this PNG level), else its
    Decoded pixels."""
    problem = output_problem(manifest.root, job.target)
    if problem:
        return Outcome(job, "skipped", problem)
    try:
        data = read_source(job.source)
    except CorruptImageError as err:
        return Outcome(job, "skipped", _reason(err))
    record = source_record(job.rel, data, identity, png_compression)
    verdict = manifest.verdict(job.target_rel, job.target, record, overwrite)
    if verdict is Verdict.DONE:
        return Outcome(job, "resumed", warnings=list(manifest.outputs[job.target_rel].get("warnings", [])))
    if verdict is Verdict.FOREIGN:
        return Outcome(job, "skipped", f"{job.target}: {FOREIGN_REASON}")
    if verdict is Verdict.BLOCKED:
        return Outcome(job, "skipped", f"{job.target} is a folder: not replaced")
    try:
        image = decode_image(data, job.source, keep_16_bit=True)
    except CorruptImageError as err:
        return Outcome(job, "skipped", _reason(err))
    return Decoded(job, label, record, image)


def warnings_of(image: DecodedImage) -> list[str]:
    extra = [f"{image.frames - 1} extra frame(s) not protected: only the first was written"] if image.frames > 1 else []
    return extra + list(image.notes)


def write_protected(decoded: Decoded, parts: list, protection: Protection) -> Outcome:
    """Merge the protected parts, check the budget (a RuntimeError, before anything is written), write the PNG."""
    image, job = decoded.image, decoded.job
    bounded, epsilon = protection.bounded, protection.epsilon
    result = merge(image, parts, epsilon, bounded)
    if image.transparent_color is not None:
        result = keep_transparent_color(image.pixels, result, image.transparent_color)
    # An unbounded method (patches) may change any pixel it owns: only shape and dtype are checked.
    check_budget(image.pixels, result, budget_limit(image, epsilon, bounded), job.rel)
    warnings = warnings_of(image)

    def encode(out):
        encode_png(out, result, image.alpha, original_mode=image.mode, icc_profile=image.icc_profile,
                   transparency=image.transparent_color, compress_level=decoded.record["png_compression"])
    tmp, digest, size = write_temporary(job.target, encode)
    return Outcome(job, "written", warnings=warnings, record={**decoded.record, "warnings": warnings}, tmp=tmp,
                   digest=digest, size=size)


def decoded_values(item: Outcome | Decoded) -> int:
    """Pixel values an examined input holds in memory (0 for an Outcome): what the read-ahead is bounded by."""
    return item.image.pixels.numel() if isinstance(item, Decoded) else 0
