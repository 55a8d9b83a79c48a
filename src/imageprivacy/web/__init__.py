"""The local web page and HTTP API over `protect` (`imageprivacy serve`): app.py builds the FastAPI app.

A floor above protections/ and below cli/: it serves any image protection a checkpoint holds, for
every method alike, so it has no method folders. Nothing here imports fastapi but app.py and
body_limit.py's users, so the serve verb can say how to install the `web` extra when it is missing.
"""
