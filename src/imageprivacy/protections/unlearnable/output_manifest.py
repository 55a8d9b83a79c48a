"""The record of what `imageprivacy protect` wrote into OUTPUT, so a re-run knows what it may keep or replace.

One small JSON file, `OUTPUT/.imageprivacy-manifest.json` (hidden: a folder walk never takes it for an
image), always replaced atomically (temporary file + os.replace). For every output it records the
source (path relative to INPUT, size, sha256 of its bytes), the protection's identity (method,
epsilon, sha256 of the checkpoint, whether labels came from folders), the PNG's zlib level
(`png_compression`) and the sha256 of the output. A record without the level (a manifest written
before it was recorded) stands for level 6, Pillow's default, which those outputs were written at.

What a re-run does with an existing output (`verdict`):
- DONE (kept, counted as resumed) only when the output's hash, the source's path, size and hash and
  the protection's identity and the PNG level all match the record;
- REDO when the output is one this tool wrote (its hash is the recorded one, or one it was about to
  replace, see `replaces`) but anything else differs: another source, another epsilon, another PNG
  level (same pixels, but the folder then holds the level asked for, and its records say so), ...;
- FOREIGN otherwise (not in the manifest, or changed since): never overwritten; listed instead.
`overwrite` turns every verdict but a folder in the way into REDO: the explicit way out.

Crash safety. The writer (output_writer.py) saves the manifest with the new records before it moves
the new outputs in place; each new record keeps the hash of the output it replaces in `replaces`.
Whatever a crash interrupts, every output on disk has a hash its record names, so it is never taken
for a file the user made.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from enum import Enum
from pathlib import Path

from imageprivacy.data.png_output import TEMP_SUFFIX, default_file_mode
from imageprivacy.errors import OutputError

MANIFEST_NAME = ".imageprivacy-manifest.json"
FORMAT = "imageprivacy-protect-manifest/1"
_SOURCE_FIELDS = ("source", "source_size", "source_sha256", "protection")
LEGACY_COMPRESS_LEVEL = 6      # what a record without `png_compression` was written at (module docstring)


def recorded_compression(record: dict) -> int:
    return record.get("png_compression", LEGACY_COMPRESS_LEVEL)


class Verdict(Enum):
    NEW = "new"            # no output yet
    DONE = "done"
    REDO = "redo"
    FOREIGN = "foreign"    # a file this tool did not write, or changed since
    BLOCKED = "blocked"    # a folder (or something os.replace cannot replace) where the output goes


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def output_problem(root: Path, target: Path) -> str | None:
    """Why an output cannot be written at `target` whatever the manifest says, or None.

    Nothing is written through a symlinked folder that leads out of OUTPUT (it could lead into INPUT).
    """
    # The folders between OUTPUT and the target, outermost first (built from the parts: pathlib's
    # is_relative_to on every parent up to / cost 0.1 ms a file, docs/results/protect-profile-processes/).
    parts = target.relative_to(root).parts if target.is_relative_to(root) else ()
    for parent in (root.joinpath(*parts[:depth]) for depth in range(1, len(parts))):
        if parent.is_symlink() and not (parent.is_dir() and Path(os.path.realpath(parent)).is_relative_to(
                Path(os.path.realpath(root)))):
            return f"{parent} is a symlink out of OUTPUT (or a dangling one): nothing is written through it"
        if not parent.exists():
            break
        if not parent.is_dir():
            return f"{parent} is a file, not a folder: the output cannot go under it"
    if target.is_dir():
        return f"{target} is a folder: not replaced"
    return None


class Manifest:
    def __init__(self, root: Path, outputs: dict[str, dict] | None = None):
        self.root, self.path, self.outputs = root, root / MANIFEST_NAME, outputs or {}
        self.changed = False     # since the last save: a save that would write the same text is skipped

    @classmethod
    def load(cls, root: Path) -> "Manifest":
        path = root / MANIFEST_NAME
        if not path.exists() and not path.is_symlink():
            return cls(root)
        try:
            if not stat.S_ISREG(os.lstat(path).st_mode):
                raise ValueError("not a regular file")
            data = json.loads(path.read_text())
            if data.get("format") != FORMAT or not isinstance(data.get("outputs"), dict):
                raise ValueError(f"format {data.get('format')!r}")
        except (OSError, ValueError, AttributeError) as err:
            raise OutputError(f"{path} is not a manifest this tool can read ({err}): move it away; the outputs "
                              "it described are then kept as files this tool did not write") from err
        return cls(root, data["outputs"])

    def verdict(self, target_rel: str, target: Path, source: dict, overwrite: bool) -> Verdict:
        """What to do with `target` for an input described by `source` (module docstring)."""
        try:
            info = os.lstat(target)
        except FileNotFoundError:
            return Verdict.NEW
        if stat.S_ISDIR(info.st_mode):
            return Verdict.BLOCKED
        if overwrite:
            return Verdict.REDO
        record = self.outputs.get(target_rel)
        if record is None or not stat.S_ISREG(info.st_mode):
            return Verdict.FOREIGN
        current = sha256_of_file(target)
        if current == record.get("output_sha256"):
            same = all(record.get(key) == source[key] for key in _SOURCE_FIELDS) \
                and recorded_compression(record) == recorded_compression(source)
            return Verdict.DONE if same else Verdict.REDO
        return Verdict.REDO if current in record.get("replaces", []) else Verdict.FOREIGN

    def record(self, target_rel: str, record: dict) -> None:
        """Record a new output; the hash of the one it replaces stays known until the next save after the move."""
        old = self.outputs.get(target_rel)
        replaces = [] if old is None else [old["output_sha256"], *old.get("replaces", [])]
        # No empty list for a new output: then the save after its move (`settle`) has nothing to change.
        self.outputs[target_rel] = {**record, **({"replaces": replaces[:4]} if replaces else {})}
        self.changed = True

    def settle(self, target_rels) -> None:
        """The outputs are in place: the hashes they replaced are no longer needed."""
        for rel in target_rels:
            if self.outputs[rel].pop("replaces", None) is not None:
                self.changed = True

    def save_if_changed(self) -> None:
        """`save`, unless nothing changed since the last one: the manifest of a large folder is long to write."""
        if self.changed:
            self.save()

    def save(self) -> None:
        """Write the manifest atomically (the umask applies); an OSError becomes an OutputError."""
        text = json.dumps({"format": FORMAT, "outputs": dict(sorted(self.outputs.items()))}, indent=1)
        try:
            handle, tmp = tempfile.mkstemp(dir=self.root, prefix=f"{MANIFEST_NAME}.", suffix=TEMP_SUFFIX)
            try:
                with os.fdopen(handle, "w") as out:
                    out.write(text)
                os.chmod(tmp, default_file_mode())
                os.replace(tmp, self.path)
                self.changed = False
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as err:
            raise OutputError(f"cannot write the manifest {self.path}: {err.strerror or err}; make OUTPUT "
                              "writable (and check free space) or choose another OUTPUT") from err
