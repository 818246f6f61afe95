"""``/docs`` works without internet: Swagger UI's files come from the server itself (the real UI
build, ``swagger-ui-dist`` copied in by vite.config.ts). Chromium is cut off from everything but
loopback: any request elsewhere is aborted and recorded, and the page must render the API anyway."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from servers import LiveServer, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, ui_build: Path) -> Iterator[LiveServer]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TRACKWELL_UI_DIR", str(ui_build))
        live = start_server(tmp_path_factory.mktemp("docs-server"))
    yield live
    live.stop()


def test_docs_render_with_no_network(server: LiveServer, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    outside: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{server.url}/docs")
        page.get_by_text("trackwell", exact=False).first.wait_for()
        # the operations the query API uses are listed, rendered from /openapi.json
        page.locator(".opblock-summary-path", has_text="/api/v1/runs/{entity}/{project}/{run_id}").first.wait_for()
        methods = {m.strip() for m in page.locator(".opblock-summary-method").all_inner_texts()}
        assert {"GET", "PUT", "PATCH", "DELETE", "POST"} <= methods, methods
    finally:
        context.close()
    assert outside == [], f"/docs tried to load from outside the server: {outside}"
    assert not errors, errors


def test_docs_files_are_served_by_the_server(server: LiveServer) -> None:
    page = httpx.get(f"{server.url}/docs", timeout=10)
    assert page.status_code == 200 and "/docs/swagger-ui/swagger-ui-bundle.js" in page.text
    assert "https://" not in page.text and "cdn" not in page.text  # nothing named from outside
    bundle = httpx.get(f"{server.url}/docs/swagger-ui/swagger-ui-bundle.js", timeout=10)
    assert bundle.status_code == 200 and len(bundle.content) > 100_000
    assert httpx.get(f"{server.url}/docs/swagger-ui/swagger-ui.css", timeout=10).status_code == 200
