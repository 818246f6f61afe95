"""The web UI's component tests (Vitest, `npm test` in web/), run by pytest so the README's test
command covers them."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from conftest import WEB


def test_vitest_component_tests_pass() -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is missing: install Node.js 20+ to run the web UI's Vitest tests (web/, `npm test`)")
    if not (WEB / "node_modules").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True, capture_output=True, timeout=600)
    result = subprocess.run([npm, "test", "--", "--reporter=dot"], cwd=WEB, capture_output=True, text=True,
                            timeout=600, env={**os.environ, "CI": "1", "NO_COLOR": "1"})
    assert result.returncode == 0, f"Vitest failed:\n{result.stdout[-8000:]}\n{result.stderr[-4000:]}"
    assert "passed" in result.stdout
