"""A large file (sparse, 256 MiB) goes up in streamed parts and comes back streamed, with the
client's and the server's memory bounded: neither holds the file, nor more than a part of it.
(The 2 GiB variant: bench/bench_files.py --mib 2048.)"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from servers import LiveServer, http

from trackwell.schema import Batch, FileSaved, RunStart, encode

SIZE = 256 * 2**20

_CLIENT = r"""
import json, resource, sys
from pathlib import Path
from trackwell.transport import Client
from trackwell.transport._files import upload_blob
import trackwell

url, entity, path, digest, out = sys.argv[1:]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with Client(url) as client:
    upload_blob(client, entity, "big", Path(path), digest, Path(path).stat().st_size)
uploaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
input()  # the test records the run file
trackwell.Api(base_url=url).run(f"{entity}/big/r1").file("big.bin").download(out)
done = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before": before, "uploaded": uploaded, "done": done}))
"""


def vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_large_file_up_and_down_in_bounded_memory(live_server: LiveServer, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(SIZE)  # sparse: no disk blocks, real bytes (zeros) on read
        f.seek(SIZE // 2)
        f.write(b"middle")
    sha = hashlib.sha256()
    with open(big, "rb") as f:
        while chunk := f.read(2**20):
            sha.update(chunk)
    digest = sha.hexdigest()
    server_before = vm_hwm_kib(live_server.process.pid)
    child = subprocess.Popen([sys.executable, "-c", _CLIENT, live_server.url, live_server.entity, str(big), digest,
                              str(tmp_path / "out")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    try:
        records = [RunStart(seq=1, ts=1.0, entity=live_server.entity, project="big", run_id="r1"),
                   FileSaved(seq=2, ts=1.0, name="big.bin", digest=digest, size=SIZE)]
        ack = http.post(f"{live_server.url}/api/v1/runs/{live_server.entity}/big/r1/records",
                        content=encode(Batch(writer="w", records=records)),
                        headers={"Content-Type": "application/msgpack"})
        assert ack.status_code == 200
        child.stdin.write("\n")
        child.stdin.flush()
        rss = json.loads(child.stdout.readline())
    finally:
        child.wait(timeout=300)
    back = tmp_path / "out" / "big.bin"
    assert back.stat().st_size == SIZE
    with open(back, "rb") as f:
        f.seek(SIZE // 2)
        assert f.read(6) == b"middle"
    # KiB: the client grows by far less than the file (256 MiB); so does the server
    print(f"client peak RSS {rss['before'] // 1024} -> {rss['uploaded'] // 1024} (upload) -> "
          f"{rss['done'] // 1024} MiB (download); server {server_before // 1024} -> "
          f"{vm_hwm_kib(live_server.process.pid) // 1024} MiB")
    assert rss["uploaded"] - rss["before"] < 64 * 1024
    assert rss["done"] - rss["before"] < 96 * 1024  # the download path imports the query API too
    assert vm_hwm_kib(live_server.process.pid) - server_before < 96 * 1024
