"""The server serves the web UI's build: index.html at every UI route, hashed assets cached for a
year, the API's errors untouched, and a page saying how to build the UI when there is no build.

A small stand-in build (TRACKWELL_UI_DIR) keeps these tests independent of npm; the browser tests
(test_ui_runs.py) run the real one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servers import LiveServer, start_server

INDEX = '<!doctype html><html><body><div id="root">trackwell-ui-marker</div>' \
        '<script type="module" src="/assets/index-Ab12Cd34.js"></script></body></html>'
SCRIPT = "console.log('trackwell');"


def _serve(tmp_path_factory: pytest.TempPathFactory, dist: Path) -> Iterator[LiveServer]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TRACKWELL_UI_DIR", str(dist))  # the server subprocess inherits it
        server = start_server(tmp_path_factory.mktemp("ui-server"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    dist = tmp_path_factory.mktemp("dist")
    (dist / "assets").mkdir()
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "index-Ab12Cd34.js").write_text(SCRIPT)
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    yield from _serve(tmp_path_factory, dist)


@pytest.fixture(scope="module")
def unbuilt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _serve(tmp_path_factory, tmp_path_factory.mktemp("empty-dist"))


def _is_index(response: httpx.Response) -> bool:
    return (response.status_code == 200 and response.headers["content-type"].startswith("text/html")
            and "trackwell-ui-marker" in response.text and response.headers["cache-control"] == "no-cache")


@pytest.mark.parametrize("path", ["/", "/login?next=%2Fadmin", "/settings", "/admin", "/admin/mnist",
                                  "/admin/mnist/workspace?runs=a,b", "/admin/mnist/runs/3kx9q2ab"])
def test_every_ui_route_is_the_index(built: LiveServer, path: str) -> None:
    assert _is_index(httpx.get(built.url + path, timeout=10))


def test_the_run_url_the_sdk_prints_opens_the_ui(built: LiveServer, tmp_path: Path) -> None:
    import trackwell

    run = trackwell.init(project="ui-serving", settings={"base_url": built.url, "dir": str(tmp_path)})
    url = run.url
    run.finish()
    assert url.startswith(built.url + f"/{built.entity}/ui-serving/runs/")
    assert _is_index(httpx.get(url, timeout=10))


def test_hashed_assets_are_cached_for_a_year(built: LiveServer) -> None:
    r = httpx.get(built.url + "/assets/index-Ab12Cd34.js", timeout=10)
    assert r.status_code == 200 and r.text == SCRIPT
    assert "javascript" in r.headers["content-type"]
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert httpx.get(built.url + "/assets/index-gone.js", timeout=10).status_code == 404


def test_top_level_build_files_are_served(built: LiveServer) -> None:
    r = httpx.get(built.url + "/favicon.svg", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg")


@pytest.mark.parametrize("method,path", [("GET", "/api/v1/no-such-thing"), ("GET", "/api"),
                                         ("POST", "/api/v1/no-such-thing"), ("GET", "/api/v2/runs")])
def test_unknown_api_paths_stay_json_404(built: LiveServer, method: str, path: str) -> None:
    r = httpx.request(method, built.url + path, headers=built.headers, timeout=10)
    assert r.status_code == 404 and r.headers["content-type"] == "application/json"
    assert "detail" in r.json()


def test_api_and_docs_are_not_shadowed(built: LiveServer) -> None:
    assert httpx.get(built.url + "/api/v1/health", timeout=10).json()["status"] == "ok"
    assert httpx.get(built.url + "/openapi.json", timeout=10).json()["info"]["title"] == "trackwell"
    # /docs is the server's own page; a build without Swagger UI's files (this stand-in) says how
    # to build them (the real build's: test_docs_offline.py)
    docs = httpx.get(built.url + "/docs", timeout=10)
    assert docs.status_code == 503 and "make ui" in docs.text and "/openapi.json" in docs.text
    assert httpx.get(built.url + "/docs/swagger-ui/swagger-ui-bundle.js", timeout=10).status_code == 404


def test_a_run_page_shows_nothing_without_the_api(built: LiveServer) -> None:
    """The page route is public but holds no data: the run is fetched by the app over the API."""
    r = httpx.get(built.url + "/admin/secret-project/runs/abc", timeout=10)
    assert _is_index(r) and "secret-project" not in r.text
    assert httpx.get(built.url + "/api/v1/runs/admin/secret-project/abc", timeout=10).status_code == 401


@pytest.mark.parametrize("path", ["/", "/admin/mnist/runs/3kx9q2ab"])
def test_without_a_build_the_page_says_how_to_build_it(unbuilt: LiveServer, path: str) -> None:
    r = httpx.get(unbuilt.url + path, timeout=10)
    assert r.status_code == 503 and r.headers["content-type"].startswith("text/html")
    assert "web UI was not built" in r.text and "make ui" in r.text and "npm run build" in r.text
    assert httpx.get(unbuilt.url + "/api/v1/health", timeout=10).status_code == 200


@pytest.mark.parametrize("path", ["/assets/index-Ab12Cd34.js", "/docs/swagger-ui/swagger-ui.css"])
def test_without_a_build_its_files_are_404_not_500(unbuilt: LiveServer, path: str) -> None:
    r = httpx.get(unbuilt.url + path, timeout=10)
    assert r.status_code == 404 and "not built" in r.text
