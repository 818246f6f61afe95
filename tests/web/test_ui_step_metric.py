"""A chart of a metric defined with ``define_metric(..., step_metric=...)`` is drawn against that
step metric by default, in Chromium against a server fed by the real SDK; the x-axis control
switches it to ``_step`` (and the choice stays in the URL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import Seeded, shoot
from playwright.sync_api import expect

STEPS, EVERY = 100, 10


@pytest.fixture(scope="module")
def epochs_run(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``val/loss`` and ``epoch`` logged every 10th step, ``train/loss`` every step."""
    import trackwell

    run = trackwell.init(project="step-metric", name="epochs", settings={
        "base_url": seeded.url, "dir": str(tmp_path_factory.mktemp("epochs")), "quiet": True})
    run.define_metric("val/*", step_metric="epoch")
    for step in range(STEPS):
        row: dict[str, float] = {"train/loss": 1.0 / (step + 1)}
        if step % EVERY == EVERY - 1:
            row.update({"epoch": step // EVERY, "val/loss": 2.0 / (step + 1)})
        run.log(row)
    run.finish()
    yield run.id


def chart(page: Any, metric: str) -> Any:
    return page.locator(f'.chart[data-metric="{metric}"]')


def x_at_right_edge(page: Any, metric: str) -> str:
    """The legend's x value with the cursor at the plot's right edge (the last point's x)."""
    over = chart(page, metric).locator(".u-over")
    over.scroll_into_view_if_needed()
    box = over.bounding_box()
    over.hover(position={"x": box["width"] - 1, "y": box["height"] / 2})
    legend = chart(page, metric).locator(".legend-x")
    expect(legend).to_be_visible()
    return str(legend.inner_text())


def test_a_step_metric_is_the_default_x_axis(logged_in_page: Any, seeded: Seeded, epochs_run: str) -> None:
    page = logged_in_page
    page.goto(f"{seeded.project_url('step-metric')}/runs/{epochs_run}")
    page.get_by_role("tab", name="Charts").click()
    val = chart(page, "val/loss")
    expect(val).to_have_attribute("data-state", "drawn")
    expect(val.locator(".chart-plot")).to_have_attribute("aria-label", "val/loss over epoch for 1 run")
    assert val.get_attribute("data-drawn") == str(STEPS // EVERY)
    assert x_at_right_edge(page, "val/loss") == f"epoch {STEPS // EVERY - 1}"
    # a metric without a step metric stays on _step
    expect(chart(page, "train/loss").locator(".chart-plot")).to_have_attribute(
        "aria-label", "train/loss over _step for 1 run")
    shoot(page, "step-metric-default")

    page.get_by_label("X-axis").select_option("_step")
    expect(val.locator(".chart-plot")).to_have_attribute("aria-label", "val/loss over _step for 1 run")
    expect(val).to_have_attribute("data-state", "drawn")
    assert x_at_right_edge(page, "val/loss") == f"_step {STEPS - 1}"
    assert parse_qs(urlsplit(page.url).query)["x"] == ["_step"]

    page.get_by_label("X-axis").select_option("")  # back to each chart's step metric
    expect(val.locator(".chart-plot")).to_have_attribute("aria-label", "val/loss over epoch for 1 run")
    assert "x" not in parse_qs(urlsplit(page.url).query)


def test_the_workspace_uses_the_step_metric_too(logged_in_page: Any, seeded: Seeded, epochs_run: str) -> None:
    page = logged_in_page
    page.goto(f"{seeded.project_url('step-metric')}/workspace?runs={epochs_run}")
    val = chart(page, "val/loss")
    expect(val).to_have_attribute("data-state", "drawn")
    expect(val.locator(".chart-plot")).to_have_attribute("aria-label", "val/loss over epoch for 1 run")
    assert x_at_right_edge(page, "val/loss") == f"epoch {STEPS // EVERY - 1}"
