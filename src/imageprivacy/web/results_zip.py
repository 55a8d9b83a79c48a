"""The zips the server hands out: the protected PNGs of one zip upload, and the page's "download all".

PNGs are compressed already, so entries are stored, not deflated again. The zip is built in a
spooled temporary file: in memory while small, else an unnamed file on disk that vanishes when
closed (tempfile.SpooledTemporaryFile), so no upload outlives its response.
"""
from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

SPOOL_BYTES = 64 * 2**20         # zips up to this size never touch the disk
CHUNK_BYTES = 2**20


def build_zip(entries: Iterable[tuple[str, BinaryIO | Path]]) -> tempfile.SpooledTemporaryFile:
    """A zip of (path in the zip, file object or file) entries, rewound for reading."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, source in entries:
            with archive.open(name, "w", force_zip64=True) as target:
                if isinstance(source, Path):
                    with source.open("rb") as handle:
                        shutil.copyfileobj(handle, target, CHUNK_BYTES)
                else:
                    shutil.copyfileobj(source, target, CHUNK_BYTES)
    spool.seek(0)
    return spool


def iter_file(handle: BinaryIO) -> Iterator[bytes]:
    """The file's bytes in chunks, for a streamed response; the file is closed at the end."""
    try:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk
    finally:
        handle.close()
