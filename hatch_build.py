"""Hatch build hook: a wheel carries the web UI's build, so `pip install trackwell` serves the UI
without Node. The build (`web/` -> `src/trackwell/server/ui/dist/`, gitignored) is made here when it
is missing and npm is on the PATH; without npm the wheel builds anyway, and its server says at `/`
that the UI was not built and how to build it. TRACKWELL_SKIP_UI_BUILD=1 skips the npm step."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

UI_INDEX = Path("src/trackwell/server/ui/dist/index.html")


class UiBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        web = root / "web"
        if (root / UI_INDEX).is_file() or not (web / "package.json").is_file():
            return  # built already (make ui), or an sdist without the UI's sources
        if os.environ.get("TRACKWELL_SKIP_UI_BUILD") in ("1", "true"):
            return
        npm = shutil.which("npm")
        if npm is None:
            self.app.display_warning("npm not found: this build of trackwell has no web UI "
                                     "(install Node.js 20+ and run `make ui` before building)")
            return
        self.app.display_info("building the web UI (cd web && npm ci && npm run build)")
        for step in (["ci", "--no-audit", "--no-fund"], ["run", "build"]):
            subprocess.run([npm, *step], cwd=web, check=True)
