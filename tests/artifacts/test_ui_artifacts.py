"""The artifacts pages in Chromium: a project's collections, a collection's versions with their
aliases and who logged them, a version's files downloadable. The UI is built from this checkout
(vite, into a temp dir) and served by a real server through TRACKWELL_UI_DIR."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import LiveServer, start_server

import trackwell

WEB = Path(__file__).resolve().parents[2] / "web"
CHROMIUM = Path(os.environ.get("TRACKWELL_TEST_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    npx = shutil.which("npx")
    if npx is None or not (WEB / "node_modules").exists():
        pytest.skip("building the UI needs Node.js and web/node_modules")
    out = tmp_path_factory.mktemp("ui")
    built = subprocess.run([npx, "vite", "build", "--outDir", str(out), "--emptyOutDir"], cwd=WEB,
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    saved = os.environ.get("TRACKWELL_UI_DIR")
    os.environ["TRACKWELL_UI_DIR"] = str(out)
    try:
        live = start_server(tmp_path_factory.mktemp("ui-server"))
    finally:
        os.environ.pop("TRACKWELL_UI_DIR") if saved is None else os.environ.update(TRACKWELL_UI_DIR=saved)
    yield live
    live.stop()


@pytest.fixture
def page(ui_server: LiveServer) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        context = browser.new_context(accept_downloads=True)
        context.set_default_timeout(15_000)
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.goto(f"{ui_server.url}/login")
        tab.get_by_role("tab", name="API key").click()
        tab.get_by_label("API key").fill(ui_server.api_key)
        tab.get_by_role("button", name="Sign in").click()
        tab.wait_for_url(f"{ui_server.url}/{ui_server.entity}")
        yield tab
        browser.close()
        assert not errors, errors


def test_collections_versions_and_files(ui_server: LiveServer, page: Any, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from playwright.sync_api import expect

    monkeypatch.setenv("TRACKWELL_BASE_URL", ui_server.url)
    run = trackwell.init(project="ui-art", dir=str(tmp_path), settings={"quiet": True, "console": "off"})
    for text in ("first", "second"):
        art = trackwell.Artifact("weights", "model", metadata={"text": text})
        with art.new_file("model/w.txt") as f:
            f.write(text)
        run.log_artifact(art, aliases=["prod"] if text == "first" else []).wait(30)
    run.finish()

    page.goto(f"{ui_server.url}/{ui_server.entity}/ui-art")
    page.get_by_role("link", name="Artifacts").click()
    row = page.get_by_role("row").filter(has_text="weights")
    expect(row).to_contain_text("model")
    expect(row).to_contain_text("2")
    row.get_by_role("link", name="weights").click()
    versions = page.get_by_role("table", name="Versions")
    expect(versions.get_by_role("row").filter(has_text="v0")).to_contain_text("prod")
    expect(versions.get_by_role("row").filter(has_text="v1")).to_contain_text("latest")
    expect(versions.get_by_role("row").filter(has_text="v1")).to_contain_text(run.id)
    page.get_by_role("button", name="v0").click()
    expect(page.get_by_role("heading", name="Files of weights:v0")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="model/w.txt").click()
    assert Path(download.value.path()).read_text() == "first"
