"""One upload protected into lossless PNGs in the request's work folder: the code behind both the page and the API.

Output names follow `imageprivacy protect` (protections/unlearnable/output_plan.py): the same
relative path and stem with .png (`a/cat.jpg` -> `a/cat.png`). Where `protect` refuses two inputs
that would share one output (it writes into the user's folder), the zip out is new, so here the .png
input keeps the plain name and the other gets its full name plus .png (`x.jpg.png`, then
`x.jpg.2.png`, ...), names compared case-insensitively.
Methods that choose their noise by class read each image's class from its first folder in the
zip, `<class>/.../image` (folder_labels.py), as `protect` reads it from INPUT/<class>/.
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from imageprivacy.data.image_files import decode_image, write_png
from imageprivacy.data.png_output import DEFAULT_COMPRESS_LEVEL
from imageprivacy.errors import CorruptImageError
from imageprivacy.protections.base import Protection
from imageprivacy.protections.unlearnable.folder_labels import labels_from_folders
from imageprivacy.web.image_protection import budget_levels, largest_change, protect_pixels
from imageprivacy.web.image_report import amplified_noise, preview_png, psnr_db
from imageprivacy.web.upload_reading import Upload


@dataclass
class ProtectedFile:
    source: str                  # the upload's file name, or the image's path inside the zip
    path: str                    # the PNG's path in the result (inside the zip out)
    png: Path                    # the PNG as written in the work folder
    width: int
    height: int
    input_mode: str
    output_mode: str
    psnr_db: float | None        # None: the image came out unchanged
    max_change_levels: int
    budget_levels: int
    previews: dict[str, bytes] | None = None   # "original" and "noise" PNGs, for the page

    def summary(self) -> dict:
        """What the API reports of this file, without the pixels."""
        return {key: getattr(self, key) for key in ("source", "path", "width", "height", "input_mode", "output_mode",
                                                    "psnr_db", "max_change_levels", "budget_levels")}


def output_names(rels: list[str]) -> dict[str, str]:
    """Where each input's PNG goes (policy in the module docstring)."""
    taken, targets = set(), {}
    for rel in sorted(rels, key=lambda r: (PurePosixPath(r).suffix.lower() != ".png", r)):
        path = PurePosixPath(rel)
        names = itertools.chain([path.with_suffix(".png"), path.with_name(path.name + ".png")],
                                (path.with_name(f"{path.name}.{k}.png") for k in itertools.count(2)))
        targets[rel] = next(name for name in names if name.as_posix().casefold() not in taken).as_posix()
        taken.add(targets[rel].casefold())
    return targets


def protect_upload(protection: Protection, upload: Upload, work: Path, gate: threading.Semaphore,
                   previews: bool = False) -> list[ProtectedFile]:
    """Protect every image of `upload` into PNGs under `work`, in upload order; `gate` bounds parallel protections."""
    labels = [None] * len(upload.rels)
    if protection.needs_labels_to_protect:   # refused before any work, naming the file without a class
        labels = labels_from_folders(upload.rels, protection.class_names, type(protection).__name__)
    targets = output_names(upload.rels)
    done = []
    for index, (rel, label) in enumerate(zip(upload.rels, labels)):
        data = upload.read(index)          # size-checked; refusals name the file already
        try:
            image = decode_image(data, rel)
        except CorruptImageError as err:
            raise CorruptImageError(f"cannot read image {rel}: {getattr(err, 'reason', err)}") from err
        with gate:
            protected = protect_pixels(protection, image, label, rel)
        png = write_png(work / targets[rel], protected, image.alpha, original_mode=image.mode,
                        icc_profile=image.icc_profile, transparency=image.transparent_color,
                        compress_level=DEFAULT_COMPRESS_LEVEL)     # protect's default: the same bytes
        budget = budget_levels(protection)
        done.append(ProtectedFile(
            source=rel, path=targets[rel], png=png, width=image.size[0], height=image.size[1], input_mode=image.mode,
            output_mode=("L", "RGB")[protected.shape[0] == 3] + ("A" if image.alpha is not None else ""),
            psnr_db=psnr_db(image.pixels, protected), max_change_levels=largest_change(image.pixels, protected),
            budget_levels=budget,
            previews={"original": preview_png(image.pixels, image.alpha),
                      "noise": preview_png(amplified_noise(image.pixels, protected, budget), sharp=True)}
            if previews else None))
    return done
