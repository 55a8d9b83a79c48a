"""Every image file under a folder, and every entry that looks like an input but cannot be read, with why.

`scan_images` is what `imageprivacy protect` walks (protections/unlearnable/output_plan.py): a file it
cannot protect must be listed, never dropped, so the walk reports instead of raising:

- a folder it cannot list (permissions): "folder not readable", its images are named as not protected;
- a dangling symlink, a symlink loop (ELOOP), a link to a folder that holds INPUT itself, a second link
  to a folder already walked: each listed, none followed (symlinked folders are followed once: the
  (st_dev, st_ino) of every folder walked is kept);
- a FIFO, socket or device with an image name: listed and never opened (opening a FIFO blocks forever);
- a format this Pillow cannot read (.heic without the plugin, ...): listed with what to install.

Hidden files and folders (name starting with ".") are skipped, as everywhere in the package: they
hold tools' state (.git, .DS_Store, the protect manifest), not the user's photos.
"""
from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from imageprivacy.data.image_formats import is_image_file, looks_like_image, unsupported_reason


@dataclass
class ImageScan:
    files: list[tuple[Path, str]] = field(default_factory=list)      # (path as reached, posix path from root)
    problems: list[tuple[str, str]] = field(default_factory=list)    # (posix path from root, reason)


def file_kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _link_problem(path: str, err: OSError) -> str:
    if err.errno == errno.ELOOP:
        return "symlink loop: not followed"
    if err.errno == errno.ENOENT:
        return f"dangling symlink (to {os.readlink(path)!r}): nothing to protect"
    return f"cannot be read ({err.strerror or err})"


def scan_images(root: str | Path, exclude: Path | None = None) -> ImageScan:
    """Image files under `root` (sorted by path) and the problems above; `exclude`: a folder never entered (OUTPUT).

    Real folders are walked before symlinked ones, so a folder reached both ways is protected at its
    own path and the link is the one listed.
    """
    root = Path(root)
    scan = ImageScan()
    excluded = os.stat(exclude) if exclude is not None and exclude.is_dir() else None
    top = os.stat(root)
    visited = {(top.st_dev, top.st_ino): "."}
    pending, links = [(root, "")], []
    while pending or links:
        if not pending:                       # every real folder walked: now the symlinked ones
            entry, child = links.pop(0)
            reason = _folder_problem(entry, os.stat(entry.path), visited, excluded)
            if reason:
                scan.problems.append((child, reason))
                continue
            pending.append((Path(entry.path), child))
            visited[_key(os.stat(entry.path))] = child
        folder, rel = pending.pop()
        for entry in _listing(folder, rel, scan):
            child = f"{rel}/{entry.name}" if rel else entry.name
            try:
                info = os.stat(entry.path)                  # follows symlinks, as the user expects
            except OSError as err:
                scan.problems.append((child, _link_problem(entry.path, err)))
                continue
            if stat.S_ISDIR(info.st_mode):
                if entry.is_symlink():
                    links.append((entry, child))
                    continue
                reason = _folder_problem(entry, info, visited, excluded)
                if reason:
                    scan.problems.append((child, reason))
                else:
                    visited[_key(info)] = child
                    pending.append((Path(entry.path), child))
            elif stat.S_ISREG(info.st_mode):
                path = Path(entry.path)
                if is_image_file(path):
                    scan.files.append((path, child))
                elif unsupported_reason(path):
                    scan.problems.append((child, unsupported_reason(path)))
            elif looks_like_image(Path(entry.name)):
                scan.problems.append((child, f"{file_kind(info.st_mode)}, not a regular file: never opened"))
    scan.files.sort(key=lambda item: item[1].split("/"))
    scan.problems.sort(key=lambda item: item[0].split("/"))
    return scan


def _key(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino


def _listing(folder: Path, rel: str, scan: ImageScan) -> list[os.DirEntry]:
    """The folder's visible entries by name; an unreadable folder is a problem (its images go unprotected)."""
    try:
        with os.scandir(folder) as listing:
            return sorted((entry for entry in listing if not entry.name.startswith(".")), key=lambda e: e.name)
    except OSError as err:
        scan.problems.append((rel or ".", f"folder not readable ({err.strerror or err}): the images in it "
                                          "are not protected"))
        return []


def _folder_problem(entry: os.DirEntry, info: os.stat_result, visited: dict,
                    excluded: os.stat_result | None) -> str | None:
    if excluded is not None and _key(info) == _key(excluded):
        return "is the OUTPUT folder: its files are outputs, not protected again"
    if entry.is_symlink() and Path(os.path.realpath(Path(entry.path).parent)).is_relative_to(
            os.path.realpath(entry.path)):
        return "symlink loop: links to a folder that holds it; not followed"
    if _key(info) in visited:
        return f"symlink to a folder already walked ({visited[_key(info)]}): its images are protected there"
    return None
