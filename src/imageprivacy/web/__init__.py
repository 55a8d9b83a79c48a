"""The local web page and HTTP API over `protect` (`imageprivacy serve`); app.py builds the FastAPI app.

A floor above report/ and below cli/: it serves any image protection a checkpoint holds, for every
method alike, so it has no method folders. Only app.py imports FastAPI, so the serve verb can
check for the `web` extra before it imports the app.
"""
