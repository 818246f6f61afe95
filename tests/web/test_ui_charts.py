"""The charts, the workspace and the run page in Chromium, against a server seeded by real SDK
runs: a chart shows the points the run logged, the console shows and searches its output, the
workspace compares two runs, a drag-zoom fetches finer buckets for the zoomed steps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import STEPS, Seeded, shoot
from playwright.sync_api import expect
from servers import http

LONG_STEPS = 3000  # more steps than a chart's buckets: drawn downsampled until zoomed in


def chart(page: Any, metric: str) -> Any:
    return page.locator(f'.chart[data-metric="{metric}"]')


def drawn(page: Any, metric: str) -> int:
    """Points the chart drew, once it has drawn."""
    expect(chart(page, metric)).to_have_attribute("data-state", "drawn")
    return int(chart(page, metric).get_attribute("data-drawn"))


def marks(page: Any, name: str) -> list[dict[str, Any]]:
    return page.evaluate(f"performance.getEntriesByName({name!r}, 'mark').map(m => m.detail)")  # type: ignore[no-any-return]


def redrawn(page: Any, metric: str, change: Any) -> dict[str, Any]:
    """Do ``change`` and wait for the chart of ``metric`` to draw again: its new mark's detail."""
    before = sum(m["metric"] == metric for m in marks(page, "chart:drawn"))
    change()
    page.wait_for_function(f"performance.getEntriesByName('chart:drawn', 'mark')"
                           f".filter(m => m.detail.metric === {metric!r}).length > {before}")
    return [m for m in marks(page, "chart:drawn") if m["metric"] == metric][-1]


@pytest.fixture(scope="module")
def long_run(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A run of LONG_STEPS steps in project "long"; its id."""
    import trackwell

    run = trackwell.init(project="long", name="long-run", settings={
        "base_url": seeded.url, "dir": str(tmp_path_factory.mktemp("long-run")), "quiet": True})
    for step in range(LONG_STEPS):
        run.log({"loss": 1.0 / (step + 1) + (step % 10) * 0.001})
    run.finish()
    yield run.id


def test_run_page_shows_the_run_and_a_chart_of_every_point(logged_in_page: Any, seeded: Seeded) -> None:
    page = logged_in_page
    run_id = seeded.runs["vision"]["resnet-a"]
    page.goto(f"{seeded.project_url('vision')}/runs/{run_id}")  # the URL the SDK prints
    expect(page.get_by_role("heading", level=1)).to_have_text("resnet-a")
    facts = page.locator(".facts")
    expect(facts).to_contain_text("finished")
    expect(facts).to_contain_text("resnet")  # group
    config = page.locator(".tree-root")
    expect(config).to_contain_text("lr")
    expect(config.get_by_text("arch")).to_be_visible()  # the first level is open
    summary = page.locator(".summary-table")
    expect(summary.get_by_role("row", name=re.compile(r"^loss "))).to_contain_text(str(STEPS))  # points
    shoot(page, "run-overview")

    page.get_by_role("tab", name="Charts").click()
    assert drawn(page, "loss") == STEPS and drawn(page, "acc") == STEPS
    assert chart(page, "loss").get_attribute("data-points") == str(STEPS)
    assert {"metric": "loss", "points": STEPS} in marks(page, "chart:drawn")
    expect(chart(page, "loss").locator(".chart-legend")).to_contain_text("resnet-a")
    shoot(page, "run-charts")

    assert redrawn(page, "loss", lambda: page.get_by_label("Log scale").check())["points"] == STEPS  # all > 0
    assert parse_qs(urlsplit(page.url).query)["log"] == ["1"]
    runtime_axis = redrawn(page, "loss", lambda: page.get_by_label("X-axis").select_option("_runtime"))
    assert runtime_axis["points"] == STEPS  # each step has its runtime
    acc_axis = redrawn(page, "loss", lambda: page.get_by_label("X-axis").select_option("acc"))
    assert acc_axis["points"] == STEPS  # another metric, logged at the same steps
    assert parse_qs(urlsplit(page.url).query)["x"] == ["acc"]
    expect(chart(page, "loss").get_by_role("img")).to_have_attribute("aria-label", re.compile("over acc"))


def test_console_text_is_shown_in_colour_and_searchable(logged_in_page: Any, seeded: Seeded) -> None:
    page = logged_in_page
    run_id = seeded.runs["vision"]["resnet-b"]
    page.goto(f"{seeded.project_url('vision')}/runs/{run_id}?tab=console")
    console = page.get_by_role("region", name="Console output")
    expect(console.get_by_text("resnet-b done")).to_be_visible()
    green = console.locator(".console-text span[style*='color']", has_text="resnet-b").first
    expect(green).to_be_visible()  # the ANSI green of the name, as a styled span, without the escape codes
    assert "\x1b" not in console.inner_text() and "[32m" not in console.inner_text()

    search = page.get_by_label("Search console")
    search.fill("step")
    expect(page.locator(".console-count")).to_have_text("1 of 3")
    expect(console.locator(".console-line.current")).to_contain_text("step 0 loss")
    search.press("Enter")
    expect(page.locator(".console-count")).to_have_text("2 of 3")
    expect(console.locator(".console-line.current")).to_contain_text("step 20 loss")
    page.get_by_role("button", name="Previous match").click()
    page.get_by_role("button", name="Previous match").click()
    expect(page.locator(".console-count")).to_have_text("3 of 3")  # wraps around
    expect(console.locator(".console-line.current mark")).to_have_text("step")
    shoot(page, "run-console")
    search.fill("no such text")
    expect(page.locator(".console-count")).to_have_text("no matches")


def test_workspace_compares_two_runs(logged_in_page: Any, seeded: Seeded) -> None:
    page = logged_in_page
    a, b = seeded.runs["nlp"]["bert-small"], seeded.runs["nlp"]["bert-large"]
    page.goto(f"{seeded.project_url('nlp')}/workspace?runs={a},{b}")
    assert drawn(page, "loss") == 2 * STEPS  # a line of every step per run
    legend = chart(page, "loss").locator(".chart-legend")
    expect(legend).to_contain_text("bert-small")
    expect(legend).to_contain_text("bert-large")
    expect(page.locator(".chart")).to_have_count(2)  # the union of the runs' metrics: loss, acc
    page.wait_for_function("performance.getEntriesByName('workspace:interactive', 'measure').length > 0")
    interactive = page.evaluate("performance.getEntriesByName('workspace:interactive', 'measure').map(m => m.detail)")
    assert interactive == [{"charts": 2, "runs": 2, "metrics": 2}]  # both charts were on screen and drew
    shoot(page, "workspace")

    page.get_by_label("Search metrics").fill("acc")
    expect(page.locator(".chart")).to_have_count(1)
    expect(chart(page, "acc")).to_be_visible()

    page.get_by_role("button", name="Remove bert-large from the charts").click()
    assert parse_qs(urlsplit(page.url).query)["runs"] == [a]
    expect(chart(page, "acc")).to_have_attribute("data-drawn", str(STEPS))


def test_drag_zoom_fetches_finer_buckets_for_the_steps(logged_in_page: Any, seeded: Seeded, long_run: str) -> None:
    page = logged_in_page
    asked: list[dict[str, list[str]]] = []
    page.on("request", lambda r: asked.append(parse_qs(urlsplit(r.url).query)) if "/buckets?" in r.url else None)
    page.goto(f"{seeded.project_url('long')}/runs/{long_run}?tab=charts")
    overview = drawn(page, "loss")
    assert overview < LONG_STEPS  # downsampled: about a bucket per pixel, a min/max band around it
    shoot(page, "chart-downsampled")
    plot = chart(page, "loss").locator(".u-over")
    box = plot.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.30, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.40, y, steps=5)
    page.mouse.up()

    expect(chart(page, "loss")).to_have_attribute("data-min-step", re.compile(r"\d+"))
    lo = int(chart(page, "loss").get_attribute("data-min-step"))
    hi = int(chart(page, "loss").get_attribute("data-max-step"))
    assert 0.25 * LONG_STEPS < lo < hi < 0.45 * LONG_STEPS
    zoomed = [q for q in asked if q.get("min_step") == [str(lo)] and q.get("max_step") == [str(hi)]]
    assert zoomed, f"no buckets request for steps {lo}-{hi}: {asked}"
    # the zoomed range has fewer steps than buckets: every step is drawn
    expect(chart(page, "loss")).to_have_attribute("data-drawn", str(hi - lo + 1))
    shoot(page, "chart-zoomed")

    page.get_by_role("button", name="Reset zoom").click()
    expect(chart(page, "loss")).not_to_have_attribute("data-min-step", re.compile(r".*"))
    expect(chart(page, "loss")).to_have_attribute("data-drawn", str(overview))



def test_charts_of_a_running_run_follow_its_new_points(logged_in_page: Any, seeded: Seeded,
                                                       tmp_path: Path) -> None:
    import trackwell

    page = logged_in_page
    run = trackwell.init(project="live", name="still-running",
                         settings={"base_url": seeded.url, "dir": str(tmp_path), "quiet": True})
    try:
        for step in range(10):
            run.log({"loss": 1.0 / (step + 1)})
        page.goto(f"{seeded.project_url('live')}/workspace?runs={run.id}")
        expect(chart(page, "loss")).to_have_attribute("data-points", "10", timeout=20_000)
        for step in range(10, 25):
            run.log({"loss": 1.0 / (step + 1)})
        # no reload: the workspace refetches while the run is running
        expect(chart(page, "loss")).to_have_attribute("data-points", "25", timeout=20_000)
    finally:
        run.finish()


def test_a_fork_links_to_its_parent_and_its_events_say_who(logged_in_page: Any, seeded: Seeded) -> None:
    page = logged_in_page
    parent = seeded.runs["vision"]["vit-a"]
    api = f"{seeded.url}/api/v1/runs/{seeded.entity}/vision"
    http.post(f"{api}/fork-of-vit/fork", json={"source": parent, "step": 30, "name": "vit-fork"},
              timeout=30).raise_for_status()
    http.post(f"{api}/fork-of-vit/stop", timeout=30).raise_for_status()

    page.goto(f"{seeded.project_url('vision')}/runs/fork-of-vit?tab=charts")
    expect(chart(page, "loss")).to_have_attribute("data-points", "31")  # the parent's steps 0..30
    page.get_by_role("tab", name="Events").click()
    events = page.locator(".run-events table")
    forked, stopped = events.locator("tr[data-kind=run_forked] td"), events.locator("tr[data-kind=run_killed] td")
    expect(forked).to_have_text([re.compile(r"\d"), "forked", seeded.entity, f"from {parent} at step 30"])
    expect(stopped).to_have_text([re.compile(r"\d"), "stopped", seeded.entity, re.compile(r"was running")])
    shoot(page, "run-events")

    page.get_by_role("tab", name="Overview").click()
    page.locator(".facts").get_by_role("link", name=parent).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("vit-a")


def test_console_pages_in_long_output(logged_in_page: Any, seeded: Seeded, tmp_path: Path) -> None:
    import trackwell

    run = trackwell.init(project="chatty", name="chatty", settings={"base_url": seeded.url, "dir": str(tmp_path),
                                                                     "quiet": True})
    for i in range(2500):
        print(f"line {i:04d} of the output")
    run.finish()
    page = logged_in_page
    page.goto(f"{seeded.project_url('chatty')}/runs/{run.id}?tab=console")
    scroll = page.locator(".console-scroll")
    expect(scroll).to_have_attribute("data-lines", "1000")  # the first page
    assert page.locator(".console-line").count() < 200  # only the rows on screen are in the page
    scroll.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    expect(scroll).to_have_attribute("data-lines", "2000")  # the next page, as the end came into view
    page.get_by_label("Search console").fill("line 2499")
    expect(page.locator(".console-count")).to_contain_text("no matches in 2,000 loaded lines")
    page.get_by_role("button", name="Load all lines").click()
    expect(page.locator(".console-count")).to_have_text("1 of 1")
    expect(page.locator(".console-line.current")).to_contain_text("line 2499 of the output")
