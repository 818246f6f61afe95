"""Scripts run as real processes with the system monitor on (the root conftest turns it off for
every other test: its records arrive on their own clock)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

SRC = str(Path(__file__).resolve().parents[2] / "src")


def run_script(code: str, cwd: Path, *, timeout: float = 120, stdout: Any = subprocess.PIPE,
               **env: str) -> subprocess.CompletedProcess[bytes]:
    """``code`` as ``cwd/train.py`` in a fresh interpreter, monitor on unless ``env`` says."""
    script = cwd / "train.py"
    script.write_text(textwrap.dedent(code))
    full = {**os.environ, "PYTHONPATH": SRC, "TRACKWELL_DISABLE_STATS": "0", "TRACKWELL_DISABLE_META": "0", **env}
    return subprocess.run([sys.executable, str(script)], cwd=cwd, stdout=stdout, stderr=subprocess.PIPE,
                          env=full, timeout=timeout, check=False)
