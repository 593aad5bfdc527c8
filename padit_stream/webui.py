"""The operator console: the single-page app built from ``ui/`` served at ``/``.

``make ui`` (``npm ci && npm run build`` in ``ui/``) writes the build into
``padit_stream/ui_dist``; the wheel carries it as package data. The app talks to
``/api/v1`` with the token the user enters, so these static files need no token: they hold
no data. Without a build, ``/`` answers 404 with the command that makes one.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path

from faust.web import Request, Response, View

from padit_stream.stream import Stream

__all__ = ["UI_DIST", "AssetView", "IndexView", "register"]

logger = logging.getLogger(__name__)

UI_DIST = Path(__file__).resolve().parent / "ui_dist"

_NOT_BUILT = """<!doctype html><html><head><meta charset="utf-8"><title>PADIT</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>The PADIT console is not built</h1>
<p>This worker serves the API at <code>/api/v1</code>, but its package has no dashboard
build. Run <code>make ui</code> (or <code>npm ci &amp;&amp; npm run build</code> in
<code>ui/</code>) and restart the worker.</p></body></html>"""

# Vite puts a content hash in every asset's name, so a browser may keep one for good;
# index.html names the current hashes and must be asked for again each time.
_IMMUTABLE = "public, max-age=31536000, immutable"
_NO_CACHE = "no-cache"


def _headers(cache: str) -> dict[str, str]:
    return {"Cache-Control": cache, "X-Content-Type-Options": "nosniff"}


class IndexView(View):
    """``GET /``: the console's page (it routes itself in the URL's fragment)."""

    async def get(self, request: Request) -> Response:
        index = UI_DIST / "index.html"
        try:
            body = index.read_bytes()
        except FileNotFoundError:
            return self.html(_NOT_BUILT, status=404, headers=_headers(_NO_CACHE))
        return self.bytes(body, content_type="text/html", headers=_headers(_NO_CACHE))


class AssetView(View):
    """``GET /assets/{name}``: the build's scripts, styles and fonts."""

    async def get(self, request: Request, name: str) -> Response:
        assets = UI_DIST / "assets"
        # One plain file name: no separators, no dot-dot, nothing outside the folder.
        path = assets / name
        if "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
            return self.json(
                {"error": {"code": "not_found", "message": f"no asset {name!r}", "fields": []}},
                status=404,
            )
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return self.bytes(
            path.read_bytes(), content_type=content_type, headers=_headers(_IMMUTABLE)
        )


def register(stream: Stream) -> None:
    """Add the console's routes to ``stream.app``.

    They are added when the app is built, before Faust mounts its own index blueprint at
    ``/`` as the web server starts; the router answers with the first route that matches.
    """
    page = stream.app.page
    page("/")(IndexView)
    page("/assets/{name}")(AssetView)
    if not (UI_DIST / "index.html").is_file():
        logger.warning("console not built: %s has no index.html (run `make ui`)", UI_DIST)
