"""``/docs``: the API's Swagger UI, with its files served by this server, so it loads without
internet (FastAPI's own /docs pulls them from a CDN and is blank offline).

The files come from the npm package ``swagger-ui-dist`` (Swagger UI's own distribution), which
the UI build copies into ``<ui dist>/swagger-ui/`` (``web/vite.config.ts``); see docs/api.md. A
server whose UI was not built answers ``/docs`` with a page saying how to build it and where the
OpenAPI schema is. Plain Starlette routes like the UI's: no data, so no authorization rule.
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route

from trackwell.server import ui

ASSETS = "swagger-ui"  # under the UI's build directory
_FILES = "/docs/swagger-ui"


def routes(dist: Path | None = None) -> list[Mount | Route]:
    dist = dist or ui.ui_dir()

    async def page(request: Request) -> Response:
        if not (dist / ASSETS / "swagger-ui-bundle.js").is_file():
            return _missing(dist)
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="trackwell API",
            swagger_js_url=f"{_FILES}/swagger-ui-bundle.js", swagger_css_url=f"{_FILES}/swagger-ui.css",
            swagger_favicon_url="data:,",  # nothing from outside, not even an icon
            # no badge from the public validator service
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True})

    return [Route("/docs", page, methods=["GET"], name="docs"),
            Mount(_FILES, ui.BuiltFiles(directory=dist / ASSETS, check_dir=False), name="docs-files")]


def _missing(dist: Path) -> HTMLResponse:
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>trackwell API: docs not built</title></head>
<body style="font:15px/1.5 system-ui,sans-serif;max-width:44rem;margin:4rem auto">
<h1>The API docs page was not built</h1>
<p>Swagger UI's files are built with the web UI, and <code>{html.escape(str(dist / ASSETS))}</code> has
none. Build them (Node.js 20 and npm needed) from the repository root, then reload:</p>
<pre>{html.escape(ui.BUILD_COMMAND)}</pre>
<p>The API's OpenAPI schema is served all the same: <a href="/openapi.json">/openapi.json</a>.</p>
</body></html>"""
    return HTMLResponse(body, status_code=503, headers={"Cache-Control": "no-store"})
