"""The FastAPI app of `imageprivacy serve`: the page at `/`, `GET /health`, `POST /api/protect`, `POST /api/zip`.

- `POST /api/protect`, multipart field `file`: one image -> its protected PNG (same size, gray
  stays gray, alpha kept), with its PSNR and largest change in the X-Imageprivacy-* headers; a zip
  -> a zip of the protected PNGs at their paths. `?format=json` answers with the same protection
  as JSON (figures, base64 PNGs and previews): the page's call.
- `POST /api/zip`, fields `file` (PNGs, their paths as file names): one zip of them, the page's
  "download all"; the server keeps nothing between requests.
- Refusals are 4xx with {"error": reason}: 413 over a limit (upload_limits.py), 422 for what
  cannot be read or unpacked. Uploads live in memory or in a temporary folder removed before the
  response is sent; the log holds counts and timings only, never a file name.
- The endpoints that protect are plain `def`, so FastAPI runs them in its thread pool and
  `/health` (async, on the event loop) answers during a long batch; a semaphore lets
  PARALLEL_PROTECTIONS images be protected at once, which bounds memory under many requests.
"""
from __future__ import annotations

import base64
import logging
import tempfile
import threading
import time
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from imageprivacy.errors import ImagePrivacyError, UnsafeArchiveError, UploadTooLargeError
from imageprivacy.protections.base import Protection
from imageprivacy.protections.pixel_budget import REENCODING_WARNING
from imageprivacy.web.body_limit import BodyLimit
from imageprivacy.web.protect_job import protect_upload
from imageprivacy.web.protection_description import describe_protection
from imageprivacy.web.results_zip import build_zip, iter_file
from imageprivacy.web.upload_limits import UploadLimits
from imageprivacy.web.upload_reading import member_path, open_upload

PARALLEL_PROTECTIONS = 2        # torch already spreads one protection over the cores
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STATIC = resources.files("imageprivacy.web") / "static"
log = logging.getLogger("imageprivacy.web")


def _attachment(name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


def create_app(protection: Protection, checkpoint: str | Path | None = None,
               limits: UploadLimits | None = None) -> FastAPI:
    """The web app serving `protection` (fitted), described as loaded from `checkpoint`."""
    limits = limits or UploadLimits()
    health = {"status": "ok", "protection": describe_protection(protection, checkpoint),
              "limits": limits.as_dict(), "warning": REENCODING_WARNING}
    gate = threading.BoundedSemaphore(PARALLEL_PROTECTIONS)
    # No /docs: Swagger's page loads its scripts from a CDN, and this server works offline.
    app = FastAPI(title="imageprivacy", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BodyLimit, max_bytes=limits.max_bytes)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.exception_handler(ImagePrivacyError)
    async def refused(request: Request, err: ImagePrivacyError) -> JSONResponse:
        status = 413 if isinstance(err, UploadTooLargeError) else 422
        log.info("refused a request to %s (%d)", request.url.path, status)
        return JSONResponse({"error": " ".join(str(err).splitlines())}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, err: RequestValidationError) -> JSONResponse:
        fields = sorted({str(e.get("loc", ["", "?"])[-1]) for e in err.errors()})
        return JSONResponse({"error": f"bad request: check the field(s) {', '.join(fields)}; send the image "
                                      "(or zip) as the multipart form field 'file'"}, status_code=422)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    @app.get("/health")
    async def health_check() -> dict:
        return health

    @app.post("/api/protect")
    def protect(file: UploadFile = File(...), format: str = Query("file", pattern="^(file|json)$")):
        started = time.perf_counter()
        upload = open_upload(file.filename, file.file, limits)
        with tempfile.TemporaryDirectory(prefix="imageprivacy-web-") as work:
            results = protect_upload(protection, upload, Path(work), gate, previews=format == "json")
            if format == "json":
                response = JSONResponse({"items": [
                    {**r.summary(), "protected": _b64(r.png.read_bytes()),
                     "original_preview": _b64(r.previews["original"]), "noise_preview": _b64(r.previews["noise"])}
                    for r in results], "zip": upload.is_zip})
            elif upload.is_zip:
                spool = build_zip((r.path, r.png) for r in results)
                response = StreamingResponse(iter_file(spool), media_type="application/zip", headers={
                    "Content-Disposition": _attachment(f"{_stem(file.filename or 'images')}-protected.zip"),
                    "X-Imageprivacy-Images": str(len(results))})
            else:
                one = results[0]
                response = Response(one.png.read_bytes(), media_type="image/png", headers={
                    "Content-Disposition": _attachment(Path(one.path).name),
                    "X-Imageprivacy-PSNR-dB": "inf" if one.psnr_db is None else f"{one.psnr_db:.4f}",
                    "X-Imageprivacy-Max-Change": str(one.max_change_levels),
                    "X-Imageprivacy-Budget": str(one.budget_levels)})
        log.info("protected %d image(s) in %.2f s", len(results), time.perf_counter() - started)
        return response

    @app.post("/api/zip")
    def bundle(file: list[UploadFile] = File(...)):
        if len(file) > limits.max_files:
            raise UploadTooLargeError(f"{len(file)} files, over this server's limit of {limits.max_files}")
        paths = [member_path(f.filename or "").as_posix() for f in file]
        if len({p.casefold() for p in paths}) < len(paths):
            raise UnsafeArchiveError("two files have the same path")
        for f, path in zip(file, paths):
            if f.file.read(len(PNG_SIGNATURE)) != PNG_SIGNATURE or not path.lower().endswith(".png"):
                raise UnsafeArchiveError(f"{path} is not a PNG: only protected PNGs are bundled")
            f.file.seek(0)
        spool = build_zip((path, f.file) for f, path in zip(file, paths))
        log.info("bundled %d PNG(s)", len(paths))
        return StreamingResponse(iter_file(spool), media_type="application/zip",
                                 headers={"Content-Disposition": _attachment("protected.zip")})

    return app
