"""What `pip install trackwell` costs a training node: the base install (the client) against
`trackwell[server]`, which is what the base install was before the split (less psutil, which
nothing used).

Builds two fresh venvs in a temp dir with real dependency resolution (`pip install <repo>` and
`pip install '<repo>[server]'`) and prints, for each: distributions installed, their size on
disk, and the median of N fresh interpreters for `import trackwell` (wall time in the child and
`-X importtime`'s cumulative figure), `import` + offline `init` + `finish`, `trackwell.Api`
(loads the HTTP client) and `trackwell --help` as a whole process.

    python bench/bench_install.py [--trials 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEEDED = {"pip", "setuptools", "wheel"}  # what `python -m venv` puts there, not ours

# Sizes from each distribution's RECORD (bytecode pip compiled at install included).
SIZES = """
import json
from importlib.metadata import distributions
seeded = set(json.loads({seeded!r}))
sizes = {{}}
for dist in distributions():
    name = dist.metadata["Name"]
    if name.lower() in seeded:
        continue
    total = 0
    for f in dist.files or []:
        path = f.locate()
        if path.is_file():
            total += path.stat().st_size
    sizes[name] = total
print(json.dumps(sizes))
"""

CHILD = {
    "import trackwell": "import trackwell",
    "import + offline init + finish": (
        "import trackwell\n"
        "trackwell.init(project='bench', mode='offline', dir={dir!r}, settings={{'quiet': True}}).finish()"),
    "import + trackwell.Api": "import trackwell\ntrackwell.Api",
}
TIMED = "import time\nt0 = time.perf_counter()\n{code}\nprint(time.perf_counter() - t0)"


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("TRACKWELL_", "PYTHONPATH", "VIRTUAL_ENV"))}


def make_venv(path: Path, requirement: str) -> float:
    """A fresh venv with `requirement` installed; returns pip's wall time."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, env=_env())
    t0 = time.perf_counter()
    subprocess.run([str(path / "bin" / "python"), "-m", "pip", "install", "-q", requirement],
                   check=True, env=_env(), stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _python(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(venv / "bin" / "python"), *args], cwd=cwd, capture_output=True, text=True,
                          check=True, env=_env())


def import_time_us(venv: Path, cwd: Path) -> int:
    """`-X importtime`'s cumulative microseconds for the trackwell package."""
    err = _python(venv, "-X", "importtime", "-c", "import trackwell", cwd=cwd).stderr
    line = next(x for x in reversed(err.splitlines()) if x.rstrip().endswith("| trackwell"))
    return int(line.split("|")[1])


def _timed_process(venv: Path, workdir: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([str(venv / "bin" / "trackwell"), "--help"], check=True, capture_output=True,
                   cwd=workdir, env=_env())
    return time.perf_counter() - t0


def measure(venvs: dict[str, Path], trials: int, root: Path) -> dict[str, dict[str, float]]:
    """Trials alternate between the venvs, so load on a shared machine hits both alike."""
    samples: dict[str, dict[str, list[float]]] = {label: {} for label in venvs}
    workdirs = {label: root / f"work-{venv.name}" for label, venv in venvs.items()}
    for label, venv in venvs.items():
        workdirs[label].mkdir(exist_ok=True)
        _python(venv, "-c", "import trackwell", cwd=workdirs[label])  # warm the disk cache once
    for _ in range(trials):
        for label, venv in venvs.items():
            workdir, got = workdirs[label], samples[label]
            for name, code in CHILD.items():
                timed = TIMED.format(code=code.format(dir=str(workdir)))
                got.setdefault(name, []).append(float(_python(venv, "-c", timed, cwd=workdir).stdout.split()[-1]))
            got.setdefault("-X importtime (cumulative)", []).append(import_time_us(venv, workdir) / 1e6)
            got.setdefault("`trackwell --help` process", []).append(_timed_process(venv, workdir))
    return {label: {name: statistics.median(xs) * 1e3 for name, xs in got.items()}
            for label, got in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--keep", type=Path, default=None, help="Build the venvs here and keep them.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-install-") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        installs = {"base (after)": str(REPO), "[server] (before)": f"{REPO}[server]"}
        venvs = {label: root / label.split()[0].strip("[]") for label in installs}
        rows: dict[str, dict[str, float]] = {}
        largest: dict[str, list[tuple[str, int]]] = {}
        for label, requirement in installs.items():
            venv = venvs[label]
            if not (venv / "bin" / "trackwell").exists():  # --keep reuses what it built
                pip_s = make_venv(venv, requirement)
            else:
                pip_s = float("nan")
            sizes: dict[str, int] = json.loads(
                _python(venv, "-c", SIZES.format(seeded=json.dumps(sorted(SEEDED))), cwd=root).stdout)
            rows[label] = {"distributions (trackwell included)": len(sizes),
                           "installed size (MB)": sum(sizes.values()) / 1e6,
                           "pip install wall time (s)": pip_s}
            largest[label] = sorted(sizes.items(), key=lambda kv: -kv[1])[:6]
        for label, figures in measure(venvs, args.trials, root).items():
            rows[label].update(figures)

    labels = list(rows)
    print(f"pip install trackwell: base vs [server] (median of {args.trials} fresh interpreters; ms unless said)")
    print(f"  {'':38s}" + "".join(f"{label:>20s}" for label in labels))
    for metric in rows[labels[0]]:
        print(f"  {metric:38s}" + "".join(f"{rows[label][metric]:20,.{0 if metric.startswith('dist') else 1}f}"
                                          for label in labels))
    for label in labels:
        top = ", ".join(f"{name} {size / 1e6:.1f}" for name, size in largest[label])
        print(f"  largest in {label} (MB): {top}")


if __name__ == "__main__":
    main()
