"""The web UI in Chromium: sign in, the projects page, the runs table (sort, filter, paging, columns,
grouping, selection, keyboard, live state) and settings, against a server seeded by real SDK runs."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import (
    PASSWORD,
    PASSWORD_USER,
    RUN_PLAN,
    TEAM,
    Seeded,
    log_in_with_key,
    seed_project,
    shoot,
)
from playwright.sync_api import expect
from servers import http

ROW = "[role=grid] [role=rowgroup] + [role=rowgroup] [role=row]"
TABLE = "table"  # this module's own project (the vision runs again): nothing else adds runs to it


@pytest.fixture(scope="module", autouse=True)
def table_runs(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return seed_project(seeded, TABLE, RUN_PLAN["vision"], tmp_path_factory.mktemp("table-runs"))


def run_names(page: Any) -> list[str]:
    return [n.strip() for n in page.locator(f"{ROW} .col-name").all_inner_texts()]


def query_of(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_a_page_asks_for_sign_in_and_returns_there(page: Any, seeded: Seeded) -> None:
    page.goto(seeded.project_url(TABLE) + "?order=name")
    page.wait_for_url(re.compile(r"/login\?next="))
    shoot(page, "login")
    log_in_with_key(page, seeded.url, "tw_notakey0_" + "x" * 43)
    expect(page.get_by_role("alert")).to_contain_text("key")  # the server's reason
    log_in_with_key(page, seeded.url, seeded.api_key)
    page.wait_for_url(seeded.project_url(TABLE) + "?order=name")
    expect(page.locator(ROW)).to_have_count(4)


def test_password_sign_in_lands_on_the_own_entity_and_logs_out(page: Any, seeded: Seeded) -> None:
    page.goto(seeded.url + "/")
    page.wait_for_url("**/login")
    page.get_by_label("Username").fill(PASSWORD_USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{seeded.url}/{PASSWORD_USER}")
    expect(page.get_by_role("heading", level=1)).to_have_text(PASSWORD_USER)
    expect(page.get_by_text("No projects you can read here")).to_be_visible()
    page.goto(seeded.project_url(TABLE))  # the admin's private project: alice may not read it
    expect(page.get_by_role("alert")).to_contain_text("not found")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    page.goto(seeded.url + "/settings")
    page.wait_for_url("**/login?next=%2Fsettings")


def test_projects_page_lists_projects_and_entities(logged_in_page: Any, seeded: Seeded) -> None:
    page = logged_in_page
    table = page.get_by_role("table", name=f"Projects of {seeded.entity}")
    expect(table.get_by_role("row", name=re.compile(rf"^{TABLE} 4 private"))).to_be_visible()
    expect(table.get_by_role("row", name=re.compile(r"^nlp 2 private"))).to_be_visible()
    listed = http.get(f"{seeded.url}/api/v1/projects/{seeded.entity}", timeout=10).json()["projects"]
    expect(table.get_by_role("row")).to_have_count(1 + len(listed))  # a header, then every project
    expect(page.get_by_role("navigation", name="Other entities").get_by_role("link", name=TEAM)).to_be_visible()
    expect(page.get_by_label("Entity", exact=True).locator("option")).to_have_text([seeded.entity, TEAM])
    shoot(page, "projects")
    page.get_by_role("link", name=TABLE, exact=True).click()
    page.wait_for_url(seeded.project_url(TABLE))
    expect(page.locator(ROW)).to_have_count(4)


def test_runs_table_sorts_on_the_server(logged_in_page: Any, seeded: Seeded) -> None:
    page = logged_in_page
    page.goto(seeded.project_url(TABLE))
    expect(page.locator(ROW)).to_have_count(4)
    expect(page.locator(f"{ROW} .badge")).to_have_text(["failed", "finished", "finished", "finished"])  # newest first
    by_loss = sorted(seeded.runs[TABLE], key=lambda n: seeded.final_loss[seeded.runs[TABLE][n]])

    page.get_by_role("button", name="summary loss", exact=True).click()
    page.wait_for_url(re.compile(r"order=-summary\.loss"))
    expect(page.locator(f"{ROW} .col-name")).to_have_text(by_loss[::-1])
    header = page.get_by_role("columnheader", name=re.compile("loss"))
    expect(header).to_have_attribute("aria-sort", "descending")
    page.get_by_role("button", name="summary loss", exact=True).click()
    page.wait_for_url(re.compile(r"order=summary\.loss"))
    expect(page.locator(f"{ROW} .col-name")).to_have_text(by_loss)
    expect(header).to_have_attribute("aria-sort", "ascending")
    page.get_by_role("button", name="Name", exact=True).click()
    expect(page.locator(f"{ROW} .col-name")).to_have_text(sorted(by_loss))
    shoot(page, "runs-table")


def test_runs_table_filters_with_the_builder(logged_in_page: Any, seeded: Seeded) -> None:
    page = logged_in_page
    page.goto(seeded.project_url(TABLE))
    expect(page.locator(ROW)).to_have_count(4)
    page.get_by_role("button", name="+ Add filter").click()
    page.get_by_label("Field of condition 1").fill("config.batch")
    page.get_by_label("Operator of condition 1").select_option(label="≤")
    page.get_by_label("Value of condition 1").fill("32")
    page.get_by_role("button", name="+ Add filter").click()
    page.get_by_label("Field of condition 2").fill("tags")
    page.get_by_label("Operator of condition 2").select_option(label="has")
    page.get_by_label("Value of condition 2").fill("train")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(f"{ROW} .col-name")).to_have_text(["vit-a", "resnet-a"])
    applied = json.loads(query_of(page)["filters"][0])
    assert applied == {"$and": [{"config.batch": {"$lte": 32}}, {"tags": "train"}]}
    shoot(page, "runs-filtered")

    page.reload()  # the filter lives in the URL: a shareable view
    expect(page.locator(f"{ROW} .col-name")).to_have_text(["vit-a", "resnet-a"])
    expect(page.get_by_label("Value of condition 1")).to_have_value("32")

    page.get_by_role("button", name="Edit as JSON").click()
    page.get_by_label(re.compile("Filter JSON")).fill('{"state": "failed"}')
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(f"{ROW} .col-name")).to_have_text(["vit-eval"])

    page.get_by_role("button", name="Edit as rows").click()
    page.get_by_label("Field of condition 1").fill("nonsense")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("alert")).to_contain_text("unknown filter field 'nonsense'")


def test_open_a_run_and_compare_two_in_the_workspace(logged_in_page: Any, seeded: Seeded) -> None:
    page = logged_in_page
    page.goto(seeded.project_url(TABLE) + "?order=name")
    expect(page.locator(ROW)).to_have_count(4)
    page.get_by_role("checkbox", name="Select run resnet-a").check()
    page.get_by_role("checkbox", name="Select run vit-a").check()
    expect(page.get_by_text("2 selected")).to_be_visible()
    page.get_by_role("link", name="Compare 2 in workspace").click()
    page.wait_for_url(re.compile(r"/workspace\?runs="))
    assert urlsplit(page.url).path == f"/{seeded.entity}/{TABLE}/workspace"
    ids = set(query_of(page)["runs"][0].split(","))
    assert ids == {seeded.runs[TABLE]["resnet-a"], seeded.runs[TABLE]["vit-a"]}

    page.go_back()
    page.get_by_role("link", name="resnet-b").click()
    page.wait_for_url(f"{seeded.project_url(TABLE)}/runs/{seeded.runs[TABLE]['resnet-b']}")


def test_keyboard_moves_between_rows_selects_and_opens(logged_in_page: Any, seeded: Seeded) -> None:
    page = logged_in_page
    page.goto(seeded.project_url(TABLE) + "?order=name")
    expect(page.locator(ROW)).to_have_count(4)
    page.locator(ROW).first.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press(" ")
    expect(page.get_by_role("checkbox", name="Select run resnet-b")).to_be_checked()
    page.keyboard.press("End")
    expect(page.locator(ROW).last).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{seeded.project_url(TABLE)}/runs/{seeded.runs[TABLE]['vit-a']}")


def test_columns_and_grouping(logged_in_page: Any, seeded: Seeded) -> None:
    page = logged_in_page
    page.goto(seeded.project_url(TABLE) + "?order=name")
    expect(page.locator(ROW)).to_have_count(4)
    page.get_by_text("Columns (").click()
    page.get_by_role("checkbox", name="config.model.arch").check()
    page.get_by_role("checkbox", name="Tags").uncheck()
    expect(page.get_by_role("columnheader", name=re.compile("arch"))).to_be_visible()
    expect(page.locator(f"{ROW} .col-config_model_arch")).to_have_text(["resnet", "resnet", "vit", "vit"])
    expect(page.get_by_role("columnheader", name="Tags")).to_have_count(0)
    page.reload()  # kept per project in this browser
    expect(page.locator(f"{ROW} .col-config_model_arch")).to_have_count(4)

    page.get_by_label("Group by").select_option("job_type")
    groups = page.locator(f"{ROW}.group-row")
    # groups in the order of their first run (by name here)
    expect(groups).to_have_text([re.compile(r"job_type: train \(3\)"), re.compile(r"job_type: eval \(1\)")])
    expect(page.locator(f"{ROW}:not(.group-row)")).to_have_count(4)
    groups.first.get_by_role("button").click()  # collapse train
    expect(page.locator(f"{ROW}:not(.group-row)")).to_have_count(1)
    shoot(page, "runs-grouped")


def test_paging_loads_more_runs_as_the_table_scrolls(logged_in_page: Any, seeded: Seeded) -> None:
    page = logged_in_page
    total = 450  # over two pages of 200
    api = f"{seeded.url}/api/v1/runs/{seeded.entity}/many"
    for i in range(total):
        http.put(f"{api}/run{i:05d}", json={"config": {"i": i}}, timeout=10).raise_for_status()
    page.goto(f"{seeded.url}/{seeded.entity}/many?order=config.i")
    count = page.locator(".page-title .count")
    expect(count).to_have_text(re.compile(r"^200\+ runs loaded of 450"))
    grid = page.get_by_role("grid", name="Runs")
    for _ in range(20):
        if count.inner_text().startswith(f"{total} runs"):
            break
        grid.evaluate("g => { g.scrollTop = g.scrollHeight; }")
        page.wait_for_timeout(200)
    expect(count).to_have_text(re.compile(rf"^{total} runs loaded of {total}"))
    grid.evaluate("g => { g.scrollTop = g.scrollHeight; }")
    expect(page.locator(f"{ROW}[aria-rowindex='{total + 1}'] .col-config_i")).to_have_text(str(total - 1))
    # virtualized: far fewer rows in the page than runs loaded
    assert page.locator(ROW).count() < 100


def test_running_runs_update_live(logged_in_page: Any, seeded: Seeded, tmp_path: Any) -> None:
    import trackwell

    run = trackwell.init(project="live-table", name="still-going", settings={"base_url": seeded.url, "dir": str(tmp_path),
                                                                        "quiet": True})
    try:
        run.log({"loss": 1.0})
        page = logged_in_page
        page.goto(f"{seeded.url}/{seeded.entity}/live-table")
        expect(page.locator(f"{ROW} .badge")).to_have_text(["running"])
    finally:
        run.finish()
    # no reload: the table polls the runs it shows as running
    expect(page.locator(f"{ROW} .badge")).to_have_text(["finished"], timeout=20_000)


def test_settings_keys_and_team_members(logged_in_page: Any, seeded: Seeded) -> None:
    page = logged_in_page
    page.get_by_role("link", name="Settings").click()
    page.wait_for_url(f"{seeded.url}/settings")
    keys = page.get_by_role("region", name="API keys")
    keys.get_by_label("Name").fill("from-the-ui")
    keys.get_by_label("read-only").check()
    keys.get_by_role("button", name="Create key").click()
    new_key = keys.get_by_label("New API key").inner_text().strip()
    assert new_key.startswith("tw_")
    whoami = http.get(f"{seeded.url}/api/v1/auth/whoami", headers={"Authorization": f"Bearer {new_key}"}, timeout=10)
    assert whoami.status_code == 200 and whoami.json()["key"]["read_only"] is True
    prefix = whoami.json()["key"]["prefix"]
    row = keys.get_by_role("row", name=re.compile(prefix))
    expect(row).to_contain_text("read-only")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=f"Revoke key {prefix}").click()
    expect(row).to_contain_text("revoked")
    gone = http.get(f"{seeded.url}/api/v1/auth/whoami", headers={"Authorization": f"Bearer {new_key}"}, timeout=10)
    assert gone.status_code == 401

    teams = page.get_by_role("region", name="Teams")
    expect(teams.get_by_label("Team", exact=True)).to_have_value(TEAM)
    teams.get_by_label("User").fill(PASSWORD_USER)
    teams.get_by_label("Role", exact=True).select_option("viewer")
    teams.get_by_role("button", name="Add member").click()
    expect(teams.get_by_label(f"Role of {PASSWORD_USER}")).to_have_value("viewer")
    teams.get_by_label(f"Role of {PASSWORD_USER}").select_option("member")
    expect(teams.get_by_label(f"Role of {PASSWORD_USER}")).to_have_value("member")  # shown once the server answered
    shoot(page, "settings")
    members = {m["user"]: m["role"] for m in http.get(f"{seeded.url}/api/v1/teams/{TEAM}", timeout=10).json()["members"]}
    assert members[PASSWORD_USER] == "member"
    page.once("dialog", lambda dialog: dialog.accept())
    teams.get_by_role("button", name=f"Remove {PASSWORD_USER}").click()
    expect(teams.get_by_label(f"Role of {PASSWORD_USER}")).to_have_count(0)
    members = {m["user"] for m in http.get(f"{seeded.url}/api/v1/teams/{TEAM}", timeout=10).json()["members"]}
    assert PASSWORD_USER not in members


def test_a_lost_session_sends_the_browser_to_sign_in(logged_in_page: Any, seeded: Seeded) -> None:
    page = logged_in_page
    page.goto(seeded.project_url(TABLE) + "?order=name")
    expect(page.locator(ROW)).to_have_count(4)
    page.context.clear_cookies()  # the session ended (expired, or logged out elsewhere)
    page.get_by_role("button", name="Refresh").click()
    page.wait_for_url(re.compile(r"/login\?next=%2F"))
    assert query_of(page)["next"] == [f"/{seeded.entity}/{TABLE}?order=name"]


def test_a_server_without_auth_needs_no_sign_in(page: Any, seeded: Seeded, tmp_path: Any) -> None:
    from servers import start_server

    server = start_server(tmp_path / "open", "--auth", "none")
    try:
        page.goto(server.url + "/")
        page.wait_for_url(f"{server.url}/{server.entity}")
        expect(page.get_by_role("heading", level=1)).to_have_text(server.entity)
        expect(page.get_by_role("button", name="Log out")).to_have_count(0)
        page.get_by_role("link", name="Settings").click()
        page.get_by_role("region", name="API keys").get_by_role("button", name="Create key").click()
        expect(page.get_by_label("New API key")).to_contain_text("tw_")  # a state change without a CSRF token
    finally:
        server.stop()
