"""ISIC 2017 skin-lesion classification (Part 3): dermoscopy JPEGs plus a ground-truth CSV.

Layout as downloaded from https://challenge.isic-archive.com/data/#2017 and unzipped into one folder:
    ISIC-2017_Training_Data/ISIC_0000000.jpg ...       (+ *_superpixels.png, ignored)
    ISIC-2017_Training_Part3_GroundTruth.csv           image_id,melanoma,seborrheic_keratosis
and likewise Validation and Test_v2. The two 0/1 columns become one label: 0 nevus/other
(both 0), 1 melanoma, 2 seborrheic keratosis. Photos differ in size, so every image is resized.
"""
from __future__ import annotations

import csv
from pathlib import Path

import torch

from imageprivacy.data.image_folder import Skipped, convert_channels, decode_readable
from imageprivacy.data.imageset import ImageSet
from imageprivacy.errors import DatasetError, InputShapeError

ISIC2017_CLASSES = ["nevus/other", "melanoma", "seborrheic keratosis"]
ISIC2017_PARTS = {"train": "Training", "val": "Validation", "test": "Test_v2"}
ISIC_HELP = ("download the ISIC 2017 Part 3 data and ground truth from https://challenge.isic-archive.com/data/#2017, "
             "unzip them into one folder and pass it as data_dir")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def _read_ground_truth(csv_path: Path) -> list[tuple[str, float, float]]:
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = {"image_id", "melanoma", "seborrheic_keratosis"} - set(reader.fieldnames or [])
            if missing:
                raise DatasetError(f"{csv_path} lacks the column(s) {sorted(missing)}; expected "
                                   "image_id,melanoma,seborrheic_keratosis")
            # The official files write the flags as 0.0 / 1.0.
            return [(row["image_id"].strip(), float(row["melanoma"]), float(row["seborrheic_keratosis"]))
                    for row in reader]
    except (ValueError, TypeError) as err:
        raise DatasetError(f"{csv_path} has a row that is not image_id,0|1,0|1: {err}") from err
    except UnicodeDecodeError as err:
        raise DatasetError(f"{csv_path} is not a text CSV file: {err}") from err


def _find_image(folder: Path, image_id: str) -> Path | None:
    for suffix in _IMAGE_SUFFIXES:
        if (folder / f"{image_id}{suffix}").is_file():
            return folder / f"{image_id}{suffix}"
    return None


def read_isic2017(data_dir: str | Path, split: str = "train", size: int = 64) -> tuple[ImageSet, Skipped]:
    """ISIC 2017 Part 3 as (N, 3, size, size) uint8, plus (path, reason) of every row skipped."""
    if split not in ISIC2017_PARTS:
        raise DatasetError(f"isic2017 has splits {', '.join(ISIC2017_PARTS)}, not {split!r}")
    if not isinstance(size, int) or size < 1:
        raise InputShapeError(f"size must be a positive int, got {size!r}")
    data_dir, part = Path(data_dir), ISIC2017_PARTS[split]
    csv_path = data_dir / f"ISIC-2017_{part}_Part3_GroundTruth.csv"
    if not csv_path.is_file():
        raise DatasetError(f"expected the ground truth {csv_path.name} in {data_dir}, not found; {ISIC_HELP}")
    image_dir = data_dir / f"ISIC-2017_{part}_Data"
    image_dir = image_dir if image_dir.is_dir() else data_dir      # images may also lie beside the CSV
    skipped: Skipped = []
    labelled: list[tuple[Path, int]] = []
    for image_id, melanoma, keratosis in _read_ground_truth(csv_path):
        path = _find_image(image_dir, image_id)
        if path is None:
            skipped.append((str(image_dir / f"{image_id}.jpg"), "listed in the CSV but not found"))
            continue
        if melanoma and keratosis:
            skipped.append((str(path), "marked both melanoma and seborrheic keratosis"))
            continue
        labelled.append((path, 1 if melanoma else 2 if keratosis else 0))
    label_of = dict(labelled)
    decoded = decode_readable([path for path, _ in labelled], size, skipped)
    images = [convert_channels(pixels, 3) for _, pixels in decoded]
    labels = [label_of[path] for path, _ in decoded]
    if not images:
        raise DatasetError(f"no readable ISIC image for {csv_path.name} in {image_dir} "
                           f"({len(skipped)} rows skipped); {ISIC_HELP}")
    return ImageSet(torch.stack(images), torch.tensor(labels), list(ISIC2017_CLASSES), f"isic2017/{split}"), skipped


def load_isic2017(data_dir: str | Path, split: str = "train", size: int = 64) -> ImageSet:
    """read_isic2017 without the skipped list."""
    return read_isic2017(data_dir, split, size)[0]
