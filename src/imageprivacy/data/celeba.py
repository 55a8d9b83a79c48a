"""CelebA (Liu et al. 2015), aligned-and-cropped images with their 40 binary attributes.

Layout as distributed (Google Drive / Baidu of the CelebA project), unzipped into one folder:
    img_align_celeba/000001.jpg ...          178x218 JPEGs (a nested img_align_celeba/ is accepted)
    list_attr_celeba.txt                     line 1: image count; line 2: the 40 attribute names;
                                             then "000001.jpg -1  1  1 -1 ..." (-1 absent, 1 present)
    list_eval_partition.txt                  "000001.jpg 0": 0 train, 1 val, 2 test
Attributes become 0/1. `size` centre-crops every image to a square and resizes it (image_fitting);
None keeps the native size. Images are decoded one by one, resized as they are read, so a split of
160k photos never sits in memory at full size.
"""
from __future__ import annotations

from pathlib import Path

import torch

from imageprivacy.data.attribute_images import AttributeImageSet
from imageprivacy.data.image_fitting import fit_pixels
from imageprivacy.data.image_folder import Skipped, convert_channels, decode_readable
from imageprivacy.errors import DatasetError, InputShapeError

CELEBA_SPLITS = {"train": 0, "val": 1, "valid": 1, "test": 2}
CELEBA_HELP = ("download img_align_celeba.zip, list_attr_celeba.txt and list_eval_partition.txt from "
               "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html, unzip them into one folder and pass it as data_dir")


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise DatasetError(f"expected {path.name} in {path.parent}, not found; {CELEBA_HELP}")
    try:
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as err:
        raise DatasetError(f"cannot read {path}: {err}") from err


def read_attribute_table(path: Path) -> tuple[list[str], dict[str, list[int]]]:
    """(attribute names, {file name: 0/1 values}) from list_attr_celeba.txt."""
    lines = _lines(path)
    if len(lines) < 2 or not lines[0].strip().isdigit():
        raise DatasetError(f"{path} does not start with the image count and the attribute names")
    names = lines[1].split()
    table = {}
    for number, line in enumerate(lines[2:], start=3):
        fields = line.split()
        if len(fields) != len(names) + 1 or any(v not in ("-1", "1") for v in fields[1:]):
            raise DatasetError(f"{path} line {number}: expected a file name and {len(names)} values of -1 or 1")
        table[fields[0]] = [1 if v == "1" else 0 for v in fields[1:]]
    if int(lines[0]) != len(table):
        raise DatasetError(f"{path} announces {lines[0].strip()} images but lists {len(table)}")
    return names, table


def read_partition(path: Path, split: str) -> list[str]:
    """File names of one split, in file order, from list_eval_partition.txt."""
    wanted, files = CELEBA_SPLITS[split], []
    for number, line in enumerate(_lines(path), start=1):
        fields = line.split()
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise DatasetError(f"{path} line {number}: expected '<file name> 0|1|2', got {line!r}")
        if int(fields[1]) == wanted:
            files.append(fields[0])
    return files


def _image_dir(data_dir: Path) -> Path:
    folder = data_dir / "img_align_celeba"
    if (folder / "img_align_celeba").is_dir():        # the Kaggle zip nests the folder in itself
        folder = folder / "img_align_celeba"
    if not folder.is_dir():
        raise DatasetError(f"expected the image folder img_align_celeba/ in {data_dir}; {CELEBA_HELP}")
    return folder


def read_celeba(data_dir: str | Path, split: str = "train", size: int | None = 64) -> tuple[AttributeImageSet, Skipped]:
    """One CelebA split as (N, 3, size, size) uint8 with its attributes, plus (path, reason) of skipped files."""
    if split not in CELEBA_SPLITS:
        raise DatasetError(f"celeba has splits train, val, test, not {split!r}")
    if size is not None and (not isinstance(size, int) or size < 1):
        raise InputShapeError(f"size must be a positive int or None, got {size!r}")
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DatasetError(f"celeba folder {data_dir} does not exist; {CELEBA_HELP}")
    names, table = read_attribute_table(data_dir / "list_attr_celeba.txt")
    folder = _image_dir(data_dir)
    skipped: Skipped = []
    listed = []
    for file in read_partition(data_dir / "list_eval_partition.txt", split):
        if file not in table:
            skipped.append((str(folder / file), "in list_eval_partition.txt but not in list_attr_celeba.txt"))
        else:
            listed.append(folder / file)
    pixels, attributes = [], []
    for path in listed:                      # one at a time: only the resized copy is kept
        for _, decoded in decode_readable([path], None, skipped):
            pixels.append(convert_channels(decoded if size is None else fit_pixels(decoded, (size, size)), 3))
            attributes.append(table[path.name])
    if not pixels:
        raise DatasetError(f"no readable CelebA image for split {split!r} in {folder} ({len(skipped)} skipped)")
    shapes = {tuple(p.shape[1:]) for p in pixels}
    if len(shapes) > 1:
        raise DatasetError(f"CelebA images in {folder} differ in size {sorted(shapes)[:3]}; pass size=N")
    return AttributeImageSet(torch.stack(pixels), None, [], f"celeba/{split}", torch.tensor(attributes), names), skipped


def load_celeba(data_dir: str | Path, split: str = "train", size: int | None = 64) -> AttributeImageSet:
    """read_celeba without the skipped list (the registry warns about skipped files itself)."""
    return read_celeba(data_dir, split, size)[0]
