"""Browser tests of the web UI: Playwright driving Debian's Chromium (`/usr/bin/chromium`, headless;
`make test` installs it from the OS packages, never a downloaded browser) against a real server
seeded with real SDK runs.

Fixtures:
- ``ui_build``: the built UI (rebuilt with npm when web/src is newer than the build).
- ``browser``: one Chromium for the session.
- ``seeded``: a server with two projects of SDK runs (history, console output), a password user in
  a team, and the admin's key; see ``Seeded``.
- ``page`` / ``logged_in_page``: a fresh browser context (no cookies) per test; the latter signed in
  through the login page with the admin's key, on the admin's entity page.
- ``shoot(page, name)``: a screenshot to tests/web/artifacts/<name>.png.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from servers import LiveServer, http, start_server

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
DIST = REPO / "src" / "trackwell" / "server" / "ui" / "dist"
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = Path(os.environ.get("TRACKWELL_TEST_CHROMIUM", "/usr/bin/chromium"))

PASSWORD_USER, PASSWORD = "alice", "alice-password-1"
TEAM = "lab"
STEPS = 60  # history rows per seeded run


def _newest_source_mtime() -> float:
    sources = [p for p in (WEB / "src").rglob("*") if p.is_file()]
    sources += [WEB / name for name in ("index.html", "package-lock.json", "vite.config.ts")]
    return max(p.stat().st_mtime for p in sources if p.exists())


@pytest.fixture(scope="session")
def ui_build() -> Path:
    """The UI build the server serves, made (or remade when web/ changed since) with npm."""
    index = DIST / "index.html"
    if index.is_file() and index.stat().st_mtime >= _newest_source_mtime():
        return DIST
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("the web UI is not built and npm is missing: install Node.js 20+ and run `make ui`")
    if not (WEB / "node_modules").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True, capture_output=True)
    built = subprocess.run([npm, "run", "build"], cwd=WEB, capture_output=True, text=True)
    assert built.returncode == 0, f"`npm run build` failed:\n{built.stdout}\n{built.stderr}"
    return DIST


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `apt-get install chromium` (make test does it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]' (playwright)")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@dataclass
class Seeded:
    server: LiveServer
    entity: str  # the admin's own entity: the projects below live there
    runs: dict[str, dict[str, str]] = field(default_factory=dict)  # project -> run name -> run id
    final_loss: dict[str, float] = field(default_factory=dict)  # run id -> its last logged loss

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def api_key(self) -> str:
        return self.server.api_key

    def project_url(self, project: str) -> str:
        return f"{self.url}/{self.entity}/{project}"


# project -> (run name, config, group, job_type, exit code); losses fall with the learning rate
RUN_PLAN: dict[str, list[tuple[str, dict[str, Any], str, str, int]]] = {
    "vision": [
        ("resnet-a", {"lr": 0.1, "batch": 32, "model": {"arch": "resnet"}}, "resnet", "train", 0),
        ("resnet-b", {"lr": 0.01, "batch": 64, "model": {"arch": "resnet"}}, "resnet", "train", 0),
        ("vit-a", {"lr": 0.003, "batch": 32, "model": {"arch": "vit"}}, "vit", "train", 0),
        ("vit-eval", {"lr": 0.0003, "batch": 128, "model": {"arch": "vit"}}, "vit", "eval", 1),
    ],
    "nlp": [
        ("bert-small", {"lr": 0.02, "layers": 4}, "bert", "train", 0),
        ("bert-large", {"lr": 0.002, "layers": 24}, "bert", "train", 0),
    ],
}


def _log_run(url: str, workdir: Path, project: str, name: str, config: dict[str, Any], group: str,
             job_type: str, exit_code: int) -> tuple[str, float]:
    import trackwell

    run = trackwell.init(project=project, name=name, config=config, group=group, job_type=job_type,
                         tags=[job_type, config.get("model", {}).get("arch", project)],
                         settings={"base_url": url, "dir": str(workdir), "quiet": True})
    loss = 0.0
    for step in range(STEPS):
        loss = 1.0 / (step + 1) + config["lr"] * 10
        run.log({"loss": loss, "acc": step / STEPS})
        if step % 20 == 0:
            print(f"\x1b[32m{name}\x1b[0m step {step} loss {loss:.4f}")
    print(f"{name} done")
    run.finish(exit_code=exit_code)
    return run.id, loss


def seed_project(seeded: Seeded, project: str, plan: list[tuple[str, dict[str, Any], str, str, int]],
                 workdir: Path) -> dict[str, str]:
    """SDK runs of ``plan`` (see RUN_PLAN) in ``project``: run name -> id, also kept in ``seeded``.
    A test that needs a project's exact runs seeds its own: other tests add runs (forks) to theirs."""
    seeded.runs[project] = {}
    for name, config, group, job_type, exit_code in plan:
        run_id, loss = _log_run(seeded.url, workdir, project, name, config, group, job_type, exit_code)
        seeded.runs[project][name] = run_id
        seeded.final_loss[run_id] = loss
    return seeded.runs[project]


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory, ui_build: Path) -> Iterator[Seeded]:
    server = start_server(tmp_path_factory.mktemp("web-server"))
    try:
        seeded = Seeded(server, server.entity)
        workdir = tmp_path_factory.mktemp("web-runs")
        for project, plan in RUN_PLAN.items():
            seed_project(seeded, project, plan, workdir)
        api = f"{server.url}/api/v1"
        http.post(f"{api}/users", json={"name": PASSWORD_USER, "password": PASSWORD}, timeout=10).raise_for_status()
        http.post(f"{api}/teams", json={"name": TEAM}, timeout=10).raise_for_status()
        yield seeded
    finally:
        server.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def log_in_with_key(page: Any, url: str, key: str) -> None:
    page.get_by_role("tab", name="API key").click()
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def logged_in_page(page: Any, seeded: Seeded) -> Any:
    page.goto(f"{seeded.url}/login")
    log_in_with_key(page, seeded.url, seeded.api_key)
    page.wait_for_url(f"{seeded.url}/{seeded.entity}")
    return page


def shoot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
