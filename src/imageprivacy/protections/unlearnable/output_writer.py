"""Writing protect's outputs so that OUTPUT and its manifest always agree, whenever the job is stopped.

Each output is encoded into a hidden temporary file beside its target (mkstemp: mode 0600, a name
ending in TEMP_SUFFIX that no folder walk takes for an image), hashed as it is written
(`write_temporary`: any thread or machine that reaches the folder may do this part). Staged outputs are
committed together, at most every COMMIT_SECONDS or COMMIT_BYTES and at the end: the manifest is
saved with their records first (output_manifest.py), then each temporary file gets the mode a plain
write would give (the umask applies) and is moved onto its target with os.replace. Saving the
manifest once per commit instead of once per image keeps a folder of 100k images from rewriting a
growing file 100k times; a kill -9 loses at most the staged work, whose temporary files the next
run removes (`clear_leftovers`).

One job at a time per OUTPUT: the folder is locked (flock) while a job writes there, where the
platform has flock.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from imageprivacy.data.png_output import TEMP_SUFFIX, default_file_mode
from imageprivacy.errors import OutputError
from imageprivacy.protections.unlearnable.output_manifest import Manifest

try:
    import fcntl
except ImportError:          # Windows: no flock; two jobs into one OUTPUT are then the user's risk
    fcntl = None

COMMIT_SECONDS = 5.0
COMMIT_BYTES = 256 << 20


def output_failure(path: Path, err: OSError) -> OutputError:
    """One line that says what failed and what to fix."""
    fix = {13: "make it writable or choose another OUTPUT", 28: "free some space or choose another OUTPUT",
           30: "the file system is read-only: choose another OUTPUT"}.get(err.errno, "choose another OUTPUT")
    return OutputError(f"cannot write {path}: {err.strerror or err}; {fix}")


@contextlib.contextmanager
def locked_output(root: Path) -> Iterator[None]:
    """Create OUTPUT if needed and hold its lock for the job; OutputError if it cannot be made or is busy."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        handle = os.open(root, os.O_RDONLY)
    except OSError as err:
        raise output_failure(root, err) from err
    try:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                raise OutputError(f"another imageprivacy protect is writing to {root}: wait for it to end "
                                  "or choose another OUTPUT") from err
        yield
    finally:
        os.close(handle)


class _HashingFile:
    """What encode_png writes to: passes the bytes on and hashes them, so an output is never read back.

    It has no fileno(), so Pillow writes through write() (ImageFile._save); the bytes are the same.
    """

    def __init__(self, raw: BinaryIO):
        self.raw, self.digest, self.size = raw, hashlib.sha256(), 0

    def write(self, data) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


def write_temporary(target: Path, encode: Callable[[BinaryIO], None]) -> tuple[Path, str, int]:
    """Encode one output into a new hidden temporary file beside `target`: (its path, sha256, size).

    OutputError when the folder cannot be made or written; the temporary file is then removed.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX)
    except OSError as err:
        raise output_failure(target, err) from err
    tmp = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            hashing = _HashingFile(out)
            encode(hashing)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise output_failure(target, err) from err
        raise
    return tmp, hashing.digest.hexdigest(), hashing.size


@dataclass
class _Staged:
    target_rel: str
    target: Path
    tmp: Path
    record: dict


class OutputWriter:
    def __init__(self, manifest: Manifest):
        self.manifest, self.staged, self.staged_bytes = manifest, [], 0
        self.mode, self.last_commit = default_file_mode(), time.monotonic()

    def clear_leftovers(self, targets: list[Path]) -> None:
        """Remove the temporary files a killed job left in the folders this job writes to (only those names)."""
        for folder in {self.manifest.root, *(t.parent for t in targets)}:
            with contextlib.suppress(OSError), os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX) \
                            and entry.is_file(follow_symlinks=False):
                        os.unlink(entry.path)

    def stage(self, target_rel: str, target: Path, encode: Callable[[BinaryIO], None], record: dict) -> None:
        """Encode one output into its temporary file; it reaches `target` at the next commit."""
        self.add(target_rel, target, *write_temporary(target, encode), record)

    def add(self, target_rel: str, target: Path, tmp: Path, digest: str, size: int, record: dict) -> None:
        """Stage a temporary file `write_temporary` wrote (here or on another machine) for the next commit."""
        self.staged.append(_Staged(target_rel, target, tmp, {**record, "output_sha256": digest}))
        self.staged_bytes += size

    def commit_if_due(self) -> None:
        if self.staged and (self.staged_bytes >= COMMIT_BYTES or time.monotonic() - self.last_commit >= COMMIT_SECONDS):
            self.commit()

    def commit(self) -> None:
        """Records first (saved), then every staged output moved in place; see the module docstring."""
        staged, self.staged, self.staged_bytes = self.staged, [], 0
        self.last_commit = time.monotonic()
        if not staged:
            return
        moved = []
        try:
            for item in staged:
                self.manifest.record(item.target_rel, item.record)
            self.manifest.save()
            for item in staged:
                try:
                    os.chmod(item.tmp, self.mode)
                    os.replace(item.tmp, item.target)
                except OSError as err:
                    raise output_failure(item.target, err) from err
                moved.append(item.target_rel)
        finally:
            for item in staged[len(moved):]:
                item.tmp.unlink(missing_ok=True)
        self.manifest.settle(moved)

    def close(self, failed: bool) -> None:
        """Commit what is staged and save the manifest; after a failure, an error here does not hide the first."""
        try:
            self.commit()
            self.manifest.save_if_changed()
        except BaseException:
            for item in self.staged:
                item.tmp.unlink(missing_ok=True)
            if not failed:
                raise
