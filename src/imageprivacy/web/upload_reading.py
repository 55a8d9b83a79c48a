"""One uploaded file as the images to protect: a single image, or the image files of a zip of a folder.

Everything that could hurt the server is refused before it is decoded, with a typed error that the
app answers with a 4xx (app.py): an image over the megapixel limit (its header is read first:
Pillow's Image.open decodes nothing), a zip with more entries or more uncompressed bytes than
allowed (the declared sizes are summed before any entry is read, and no entry is read past the
size it declares), an entry that climbs out of its folder (`../`) or has an absolute path, an
entry twice, an encrypted entry. In a zip, folders, hidden files and folders (as `protect` skips
them, data/image_files.py; macOS's `__MACOSX/._*` among them) and files that are not images are
left out.
"""
from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from imageprivacy.data.image_formats import IMAGE_SUFFIXES, is_image_file
from imageprivacy.errors import CorruptImageError, UnsafeArchiveError, UploadTooLargeError
from imageprivacy.web.upload_limits import UploadLimits

_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")     # a local file header, or the end record of an empty zip
_DRIVE = re.compile(r"^[A-Za-z]:")
_NAME_BYTES = 255                                    # the longest file name Linux, macOS and Windows all take


def member_path(name: str) -> PurePosixPath:
    """The relative path a zip entry (or a file name the page sends) stands for; refused if it leaves its folder."""
    unified = name.replace("\\", "/")        # zips made on Windows may use backslashes
    path = PurePosixPath(unified)
    if unified.startswith("/") or _DRIVE.match(unified) or ".." in path.parts or not path.parts:
        raise UnsafeArchiveError(f"zip entry {name!r} is not a path inside the zip (absolute, or climbs out "
                                 "with '..'); nothing was unpacked")
    if any(len(part.encode()) > _NAME_BYTES for part in path.parts):
        raise UnsafeArchiveError(f"zip entry {name[:80]!r}... has a name longer than {_NAME_BYTES} bytes")
    return path


def client_file_name(filename: str | None) -> str:
    """The name part of the file name a client sent (browsers send no folders), or 'image' if it has none."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    if name in ("", ".", "..") or len(name.encode()) > _NAME_BYTES:
        return "image"
    return name


def _wanted(path: PurePosixPath) -> bool:
    return is_image_file(path) and not any(part.startswith(".") or part == "__MACOSX" for part in path.parts)


def check_image_size(rel: str, data: bytes, limits: UploadLimits) -> None:
    """Refuse an image over the megapixel limit from its header alone, and a file that is no image."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
    except Image.DecompressionBombError as err:
        raise UploadTooLargeError(f"{rel} is too large to decode ({err})") from err
    except UnidentifiedImageError as err:
        raise CorruptImageError(f"{rel} is not an image this server reads ({', '.join(sorted(IMAGE_SUFFIXES))}, "
                                "or a .zip of them)") from err
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as err:
        raise CorruptImageError(f"cannot read image {rel}: {type(err).__name__}: {err}") from err
    if width * height > limits.max_pixels:
        raise UploadTooLargeError(f"{rel} is {width}x{height} = {width * height / 1e6:.1f} megapixels, over this "
                                  f"server's limit of {limits.max_megapixels:g} (serve --max-megapixels)")


@dataclass
class Upload:
    """The images of one upload: `rels[i]` is the i-th image's path, `read(i)` its bytes, size-checked."""

    rels: list[str]
    is_zip: bool
    _single: bytes | None = None
    _archive: zipfile.ZipFile | None = None
    _entries: list[zipfile.ZipInfo] | None = None
    _limits: UploadLimits = UploadLimits()

    def read(self, index: int) -> bytes:
        rel = self.rels[index]
        data = self._single if self._archive is None else _read_entry(self._archive, self._entries[index], rel)
        check_image_size(rel, data, self._limits)
        return data


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, rel: str) -> bytes:
    try:
        with archive.open(info) as entry:
            data = entry.read(info.file_size + 1)     # one byte more than declared shows a lie
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError) as err:
        raise UnsafeArchiveError(f"zip entry {rel} cannot be unpacked: {type(err).__name__}: {err}") from err
    if len(data) > info.file_size:
        raise UnsafeArchiveError(f"zip entry {rel} holds more than the {info.file_size} bytes its header declares")
    return data


def _open_zip(stream: BinaryIO, limits: UploadLimits) -> Upload:
    try:
        archive = zipfile.ZipFile(stream)
        files = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, struct.error) as err:
        raise UnsafeArchiveError(f"the upload is not a readable zip ({type(err).__name__}: {err})") from err
    if len(files) > limits.max_files:
        raise UploadTooLargeError(f"the zip holds {len(files)} files, over this server's limit of "
                                  f"{limits.max_files} (serve --max-files)")
    declared = sum(info.file_size for info in files)
    if declared > limits.max_bytes:
        raise UploadTooLargeError(f"the zip unpacks to {declared / 2**20:.1f} MB, over this server's limit of "
                                  f"{limits.max_upload_mb:g} MB (serve --max-upload-mb)")
    paths = [member_path(info.filename) for info in archive.infolist()]   # folders too: all must stay inside
    images = [(info, path) for info, path in zip(archive.infolist(), paths) if not info.is_dir() and _wanted(path)]
    seen = set()
    for info, path in images:
        if info.flag_bits & 0x1:
            raise UnsafeArchiveError(f"zip entry {path} is encrypted; zip the photos without a password")
        if path.as_posix().casefold() in seen:
            raise UnsafeArchiveError(f"the zip holds {path} twice")
        seen.add(path.as_posix().casefold())
    if not images:
        raise UnsafeArchiveError(f"the zip holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return Upload([path.as_posix() for _, path in images], True, _archive=archive,
                  _entries=[info for info, _ in images], _limits=limits)


def open_upload(filename: str | None, stream: BinaryIO, limits: UploadLimits) -> Upload:
    """The upload `stream` named `filename` (as the client sent it) as an Upload; a zip by name or signature."""
    head = stream.read(4)
    stream.seek(0)
    name = client_file_name(filename)
    if name.lower().endswith(".zip") or head.startswith(_ZIP_SIGNATURES):
        return _open_zip(stream, limits)
    return Upload([name], False, _single=stream.read(), _limits=limits)
