"""The web UI: the built single-page app (``web/``, built into ``server/ui/dist``) served at ``/``.

- ``/assets/...``: Vite's hashed files, cached for a year (a new build has new names).
- Any other GET outside the API (``/api``, ``/docs``, ``/openapi.json``): ``index.html``,
  revalidated on every load, so every page is a shareable URL (``/<entity>/<project>/runs/<id>``,
  which the SDK prints, included); the app routes in the browser.
- Without a build (a checkout where ``make ui`` was not run): an HTML page saying so and how to build.

These are plain Starlette routes, like FastAPI's /docs: they serve no data (the app fetches it from
the API, which authorizes every call), so the authorization route table does not list them.
``TRACKWELL_UI_DIR`` points the server at another build directory (tests, a UI developer's build).
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

UI_DIR_ENV = "TRACKWELL_UI_DIR"
BUILT_UI = Path(__file__).parent / "ui" / "dist"
BUILD_COMMAND = "make ui   (that is: cd web && npm ci && npm run build)"
_ASSETS_CACHE = "public, max-age=31536000, immutable"
_PAGE_CACHE = "no-cache"  # revalidate: a rebuilt UI shows at the next load


class _UiPath(Convertor[str]):
    """Any path but the API's and FastAPI's docs: an unknown API path keeps its JSON 404 (it never
    reaches the page route)."""

    regex = r"(?!(?:api|assets|docs|openapi\.json)(?:/|$)).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("trackwell_ui", _UiPath())


class BuiltFiles(StaticFiles):
    """Files of the UI build; a 404 (not a 500) while the build directory does not exist."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not Path(str(self.directory)).is_dir():
            response = PlainTextResponse("not found: the web UI was not built (make ui)", status_code=404)
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class _HashedAssets(BuiltFiles):
    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = _ASSETS_CACHE
        return response


def ui_dir() -> Path:
    return Path(os.environ.get(UI_DIR_ENV) or BUILT_UI)


def routes(dist: Path | None = None) -> list[Mount | Route]:
    """The UI's routes; add them after every other route (the page route matches any other path)."""
    dist = dist or ui_dir()

    async def page(request: Request) -> Response:
        name = request.path_params["path"]
        if name and "/" not in name and not name.startswith(".") and (dist / name).is_file():
            return FileResponse(dist / name, headers={"Cache-Control": _PAGE_CACHE})  # favicon and such
        index = dist / "index.html"
        if not index.is_file():
            return _not_built(dist)
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": _PAGE_CACHE})

    return [Mount("/assets", _HashedAssets(directory=dist / "assets", check_dir=False), name="ui-assets"),
            Route("/{path:trackwell_ui}", page, methods=["GET"], name="ui")]


def _not_built(dist: Path) -> HTMLResponse:
    where = html.escape(str(dist))
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>trackwell: web UI not built</title>
<style>body{{font:15px/1.5 system-ui,sans-serif;max-width:44rem;margin:4rem auto;padding:0 1rem}}
code,pre{{background:#f3f3f3;padding:.2rem .4rem;border-radius:4px}}</style></head>
<body><h1>The web UI was not built</h1>
<p>This trackwell server has no UI build in <code>{where}</code>. Build it (Node.js 20 and npm needed)
from the repository root, then reload this page:</p>
<pre>{html.escape(BUILD_COMMAND)}</pre>
<p>The REST API works without it: <a href="/docs">/docs</a>.</p></body></html>"""
    return HTMLResponse(body, status_code=503, headers={"Cache-Control": "no-store"})

