"""`imageprivacy serve --generator GEN.safetensors`: the local web page and HTTP API over `protect` (web/app.py).

Needs the `web` extra (FastAPI, uvicorn, python-multipart); without it the verb says how to install
it and exits 2. Binds to 127.0.0.1 unless --host says otherwise: anyone who can reach the address
can have images protected by this machine.
"""
from __future__ import annotations

import importlib.util
import logging
import sys

from imageprivacy.cli.arguments import device
from imageprivacy.web.upload_limits import UploadLimits

INSTALL_HINT = "imageprivacy serve needs the web extra: pip install 'imageprivacy[web]'"


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if not value > 0:
            raise ValueError(text)
        return value
    parse.__name__ = f"positive {kind.__name__}"
    return parse


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="a local web page (and HTTP API) that protects photos with a generator")
    p.add_argument("--generator", "--checkpoint", dest="generator", required=True,
                   help="a ConfounderGAN generator (train-generator) or any method's checkpoint (fit)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every network interface)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--max-megapixels", type=_positive(float), default=UploadLimits.max_megapixels,
                   help="largest image accepted, in megapixels")
    p.add_argument("--max-files", type=_positive(int), default=UploadLimits.max_files,
                   help="most files in one uploaded zip")
    p.add_argument("--max-upload-mb", type=_positive(float), default=UploadLimits.max_upload_mb,
                   help="largest upload, and largest uncompressed size of a zip, in MB")
    p.add_argument("--device", type=device, default="cpu", help="cpu, cuda, cuda:N")
    p.set_defaults(run=run)


def _web_extra_installed() -> bool:
    multipart = importlib.util.find_spec("python_multipart") or importlib.util.find_spec("multipart")
    return bool(multipart) and all(importlib.util.find_spec(name) for name in ("fastapi", "uvicorn"))


def run(args) -> int:
    if not _web_extra_installed():
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    import uvicorn

    from imageprivacy.protections.checkpoint import load_protection
    from imageprivacy.web.app import create_app

    protection = load_protection(args.generator, device=args.device)
    limits = UploadLimits(args.max_megapixels, args.max_files, args.max_upload_mb)
    app = create_app(protection, args.generator, limits)
    # Counts and timings only (web/app.py logs no file names); uvicorn's access log is off for the same reason.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("imageprivacy.web")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"imageprivacy: protecting with {protection!r}")
    print(f"open http://{host}:{args.port}/ in a browser (Ctrl+C stops the server)", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"note: listening on {args.host}: other machines can reach this server", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")
    return 0
