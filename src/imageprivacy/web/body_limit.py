"""ASGI middleware that refuses a request body over a byte limit with 413, before it fills memory or disk.

Starlette's form parser bounds the number of parts but not the size of an uploaded file (it spools
it to a temporary file), so without this a 100 GB upload would fill the disk. A declared
Content-Length over the limit is refused before reading; a chunked body is counted as it arrives.
(FastAPI's own `max_body_size` is newer than the FastAPI 0.110 the `web` extra accepts, and
answers in its own JSON shape, not the {"error": ...} of every other refusal here.)
"""
from __future__ import annotations

import json

from imageprivacy.errors import UploadTooLargeError


def _message(limit: int) -> str:
    return f"the upload is larger than this server's limit of {limit / 2**20:g} MB (serve --max-upload-mb)"


async def _refuse(send, limit: int) -> None:
    body = json.dumps({"error": _message(limit)}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await _refuse(send, self.max_bytes)
        state = {"received": 0, "over": False}

        async def counting_receive():
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.max_bytes:
                    state["over"] = True
                    raise UploadTooLargeError(_message(self.max_bytes))
            return message

        async def guarded_send(message):
            if not state["over"]:          # the app's answer to a cut-off body is replaced by the 413
                await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not state["over"]:
                raise
        if state["over"]:
            await _refuse(send, self.max_bytes)
