"""The run page's System tab and its Overview's environment table in Chromium, for a real SDK
run that sampled its machine: a chart per measure against time, the metadata as recorded."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import Seeded, shoot
from playwright.sync_api import expect
from servers import http


def _sampled(seeded: Seeded, workdir: Any, name: str, steps: int) -> str:
    """A run of project "sys" that sampled every 0.1 s while it logged ``steps`` steps 0.1 s apart
    (the tests' default turns the sampler off; this run turns it on); its id."""
    import trackwell

    run = trackwell.init(project="sys", name=name, settings={
        "base_url": seeded.url, "dir": str(workdir), "quiet": True, "console": "off",
        "x_disable_stats": False, "x_disable_meta": False, "stats_sampling_interval": 0.1})
    for step in range(steps):
        run.log({"loss": 1.0 / (step + 1)})
        time.sleep(0.1)
    run.finish()
    return run.id


@pytest.fixture(scope="module")
def sampled_run(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield _sampled(seeded, tmp_path_factory.mktemp("sampled"), "sampled", 15)


@pytest.fixture(scope="module")
def second_run(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield _sampled(seeded, tmp_path_factory.mktemp("sampled-2"), "sampled-2", 6)


def test_system_tab_charts_samples_against_time(logged_in_page: Any, seeded: Seeded, sampled_run: str) -> None:
    page = logged_in_page
    path = f"{seeded.entity}/sys/{sampled_run}"
    samples = http.get(f"{seeded.url}/api/v1/runs/{path}/system", timeout=10).json()
    assert samples["count"] >= 10
    page.goto(f"{seeded.project_url('sys')}/runs/{sampled_run}?tab=system")
    cpu = page.locator('.system-chart[data-metric="cpu_percent"]')
    expect(cpu).to_have_attribute("data-state", "drawn")
    assert cpu.get_attribute("data-points") == str(samples["count"])  # every sample, once
    expect(cpu.locator(".chart-title")).to_have_text("CPU utilization (%)")
    expect(cpu.get_by_role("img")).to_have_attribute("aria-label", "CPU utilization (%) over runtime")
    rss = page.locator('.system-chart[data-metric="proc/rss_mb"]')
    expect(rss).to_have_attribute("data-state", "drawn")
    last_rss = [v for v in samples["series"]["system/proc/rss_mb"] if v is not None][-1]
    expect(rss.locator(".legend-value")).to_have_text(re.compile(str(int(last_rss))))
    expect(page.get_by_text(f"{samples['count']} samples")).to_be_visible()
    shoot(page, "run-system")

    page.get_by_label("X-axis").select_option("wall")
    expect(cpu.get_by_role("img")).to_have_attribute("aria-label", "CPU utilization (%) over time")

    page.get_by_role("tab", name="Charts").click()  # the user's metrics: no system/ chart among them
    expect(page.locator('.chart[data-metric="loss"]')).to_have_attribute("data-state", "drawn")
    expect(page.locator('.chart[data-metric^="system/"]')).to_have_count(0)


def test_overview_shows_the_environment(logged_in_page: Any, seeded: Seeded, sampled_run: str) -> None:
    page = logged_in_page
    meta = http.get(f"{seeded.url}/api/v1/runs/{seeded.entity}/sys/{sampled_run}/metadata", timeout=10).json()["metadata"]
    page.goto(f"{seeded.project_url('sys')}/runs/{sampled_run}")
    table = page.get_by_role("region", name="Environment")
    expect(table.get_by_role("row", name=re.compile("^Host"))).to_contain_text(meta["host"])
    expect(table.get_by_role("row", name=re.compile("^Python"))).to_contain_text(meta["python"])
    expect(table.get_by_role("row", name=re.compile("^Executable"))).to_contain_text(meta["executable"])
    expect(table.get_by_role("row", name=re.compile("^CPU"))).to_contain_text(f"{meta['cpu_count']} logical")
    expect(table.get_by_role("row", name=re.compile("^GPUs"))).to_contain_text("none")  # no GPU on this machine
    shoot(page, "run-overview-environment")


def test_a_run_without_samples_says_how_to_get_them(logged_in_page: Any, seeded: Seeded) -> None:
    page = logged_in_page
    run_id = seeded.runs["vision"]["resnet-a"]  # seeded with the sampler off
    page.goto(f"{seeded.project_url('vision')}/runs/{run_id}?tab=system")
    expect(page.get_by_text("No system metrics for this run")).to_be_visible()


def test_workspace_system_section_compares_runs(logged_in_page: Any, seeded: Seeded, sampled_run: str,
                                                second_run: str) -> None:
    page = logged_in_page
    counts = [http.get(f"{seeded.url}/api/v1/runs/{seeded.entity}/sys/{r}/system", timeout=10).json()["count"]
              for r in (sampled_run, second_run)]
    page.goto(f"{seeded.project_url('sys')}/workspace?runs={sampled_run},{second_run}")
    expect(page.locator('.chart[data-metric="loss"]')).to_have_attribute("data-state", "drawn")
    expect(page.locator(".system-chart")).to_have_count(0)  # closed: nothing fetched or drawn
    page.get_by_text("System", exact=True).click()
    cpu = page.locator('.system-chart[data-metric="cpu_percent"]')
    expect(cpu).to_have_attribute("data-state", "drawn")
    assert cpu.get_attribute("data-points") == str(sum(counts))  # both runs' samples, each once
    expect(cpu.locator(".chart-legend li")).to_have_text([re.compile("^sampled "), re.compile("^sampled-2 ")])
    shoot(page, "workspace-system")
