"""A flood of output through ``console="redirect"``: memory stays bounded (the reader waits
for the journal writer, as a slow terminal would make the program wait) and every line is
journaled. The issue's 1 GiB by default (~10 s); ``TRACKWELL_FLOOD_MB`` sets another size."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from system_helpers import run_script

from trackwell.schema import Console
from trackwell.sdk.journal import JournalReader

FLOOD_MB = int(os.environ.get("TRACKWELL_FLOOD_MB", "1024"))
RSS_LIMIT_MB = 150  # the interpreter, trackwell and msgspec take ~35 MB; the flood must not add its size

FLOOD = """
    import os, resource, sys, trackwell
    run = trackwell.init(mode="offline", settings={{"console": "redirect", "quiet": True}})
    chunk = b"".join(b"%07d " % i + b"x" * 1015 + b"\\n" for i in range(1024))  # 1 MiB of 1 KiB lines
    for _ in range({mb}):
        os.write(1, chunk)
    os.write(1, b"the end")
    run.finish()
    print("MAXRSS_MB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, file=sys.stderr)
"""


def test_flood_keeps_rss_bounded_and_loses_no_line(script_dir: Path) -> None:
    with open(os.devnull, "wb") as devnull:
        done = run_script(FLOOD.format(mb=FLOOD_MB), script_dir, stdout=devnull, timeout=600,
                          TRACKWELL_DISABLE_STATS="1", TRACKWELL_DISABLE_META="1")
    err = done.stderr.decode()
    assert done.returncode == 0, err
    rss = float(err.split("MAXRSS_MB ")[1].split()[0])
    print(f"peak RSS {rss:.0f} MB")
    assert rss < RSS_LIMIT_MB, f"peak RSS {rss:.0f} MB for a {FLOOD_MB} MiB flood"
    (journal,) = (script_dir / "trackwell").glob("offline-run-*/run-*.twj")
    count, last = 0, ""
    for rec, _ in JournalReader(journal).read():
        if isinstance(rec, Console):
            count += len(rec.lines)
            last = rec.lines[-1]
    assert count == FLOOD_MB * 1024 + 1 and last == "the end"
    subprocess.run(["rm", "-rf", str(script_dir / "trackwell")], check=True)  # the journal is ~FLOOD_MB big
