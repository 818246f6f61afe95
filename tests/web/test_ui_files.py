"""The run page's Files and Media tabs in Chromium, against a real server and a real SDK run that
saved a file and logged an image, a table (with an image cell) and a histogram."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import log_in_with_key, shoot
from servers import LiveServer, start_server

import trackwell


@pytest.fixture
def media_server(tmp_path: Path, ui_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LiveServer, str]]:
    monkeypatch.setenv("TRACKWELL_UI_DIR", str(ui_dir))
    server = start_server(tmp_path / "server")
    try:
        (tmp_path / "weights.bin").write_bytes(b"\x00" * 5000)
        run = trackwell.init(project="media", dir=tmp_path / "runs", reinit=True, name="pictures",
                             settings={"quiet": True, "console": "off", "base_url": server.url})
        run.save(str(tmp_path / "weights.bin"), policy="now")
        gradient = np.tile(np.linspace(0, 1, 64), (32, 1))
        table = trackwell.Table(columns=["id", "label", "picture"])
        table.add_data(7, "striped", trackwell.Image(gradient))
        for step in range(2):
            run.log({"sample": trackwell.Image(gradient * (step + 1) / 2, caption=f"sample {step}"),
                     "grad": trackwell.Histogram(np.random.default_rng(step).normal(size=500))})
        run.log({"preds": table, "tone": trackwell.Audio(np.zeros(800), sample_rate=8000, caption="silence"),
                 "report": trackwell.Html("<script>alert(1)</script><p>hi</p>")})
        run.finish()
        yield server, run.id
    finally:
        server.stop()


@pytest.fixture
def ui_dir(request: pytest.FixtureRequest) -> Path:
    """A developer's build (TRACKWELL_UI_DIR), else the package's (``ui_build``)."""
    given = os.environ.get("TRACKWELL_UI_DIR")
    return Path(given) if given else Path(request.getfixturevalue("ui_build"))


def test_files_and_media_tabs(page: Any, media_server: tuple[LiveServer, str]) -> None:
    server, run_id = media_server
    page.goto(f"{server.url}/login")
    log_in_with_key(page, server.url, server.api_key)
    page.wait_for_url(f"{server.url}/{server.entity}")
    run_url = f"{server.url}/{server.entity}/media/runs/{run_id}"

    page.goto(f"{run_url}?tab=files")
    link = page.get_by_role("link", name="weights.bin")
    link.wait_for()
    assert page.get_by_text("4.9 KiB").count() >= 1
    with page.expect_download() as download:
        link.click()
    assert Path(download.value.path()).read_bytes() == b"\x00" * 5000
    assert page.locator("a[href*='media/images/sample/']").count() == 2
    shoot(page, "run-files")

    page.get_by_role("tab", name="Media").click()
    sample = page.get_by_role("img", name="sample 1")
    sample.wait_for()
    page.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert page.get_by_role("img", name="sample 0").evaluate("i => [i.naturalWidth, i.naturalHeight]") == [64, 32]
    preds = page.get_by_role("region", name="preds")
    preds.get_by_role("cell", name="striped").wait_for()
    assert preds.get_by_role("img").count() == 1  # the table's image cell
    assert page.get_by_role("img", name="histogram of 64 bins", exact=False).count() == 2
    assert page.locator("audio[aria-label='silence']").count() == 1
    report = page.get_by_role("region", name="report").get_by_role("link")
    assert report.get_attribute("download") is not None  # a user's HTML is downloaded, never run here
    shoot(page, "run-media")
