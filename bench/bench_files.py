"""Run files and blobs: upload and download throughput against a real `trackwell server`
subprocess, compared with `cp` of the same file on this machine, with the client's and the
server's peak memory; and dedup of many small files saved by one run.

Targets (issue 12): upload and download at >= 70 % of `cp`; memory bounded whatever the size.

    python bench/bench_files.py [--mib 1024] [--small 10000]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from _server import start_server

import trackwell
from trackwell import _credentials
from trackwell.transport import Client
from trackwell.transport._files import upload_blob


def vm_hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_file(path: Path, mib: int) -> str:
    sha = hashlib.sha256()
    block = os.urandom(1024 * 1024)
    with open(path, "wb") as f:
        for i in range(mib):
            chunk = block[:-8] + i.to_bytes(8, "little")  # every MiB differs: no dedup inside the file
            sha.update(chunk)
            f.write(chunk)
    return sha.hexdigest()


def timed(fn: object, *args: object) -> float:
    t0 = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024, help="size of the large file")
    parser.add_argument("--small", type=int, default=10_000, help="small files saved by one run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-files-") as tmp:
        work = Path(tmp)
        proc, url = start_server(work / "server")
        try:
            big = work / "big.bin"
            digest = make_file(big, args.mib)
            size = big.stat().st_size
            subprocess.run(["sync"], check=True)
            cp = timed(subprocess.run, ["cp", str(big), str(work / "copy.bin")])
            (work / "copy.bin").unlink()
            # the server fsyncs a blob before it is visible: cp + sync is the like-for-like figure
            cp_sync = timed(subprocess.run, ["sh", "-c", f"cp '{big}' '{work / 'copy.bin'}' && sync"])
            (work / "copy.bin").unlink()
            client = Client(url)
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            entity = _credentials.load(url).entity  # type: ignore[union-attr]  # the bootstrapped admin's
            server_cpu, client_cpu = cpu_seconds(proc.pid), time.process_time()
            up = timed(upload_blob, client, entity, "files", big, digest, size)
            server_cpu, client_cpu = cpu_seconds(proc.pid) - server_cpu, time.process_time() - client_cpu
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            mib = size / 2**20
            print(f"file: {mib:.0f} MiB; cp {mib / cp:.0f} MiB/s, cp + sync {mib / cp_sync:.0f} MiB/s")
            print(f"upload   {mib / up:.0f} MiB/s ({100 * cp / up:.0f} % of cp, {100 * cp_sync / up:.0f} % of cp + sync); "
                  f"CPU: server {server_cpu:.1f} s, client {client_cpu:.1f} s (load average {os.getloadavg()[0]:.1f})")
            # a run that names the blob as its file, to download it the way users do
            run = trackwell.init(project="files", dir=work / "runs", reinit=True,
                                 settings={"quiet": True, "console": "off", "base_url": url})
            os.link(big, Path(run.dir) / "big.bin")
            run.finish()  # staged (hashed + copied), and the server says it has the bytes
            remote = trackwell.Api(base_url=url).run(f"{run.entity}/files/{run.id}").file("big.bin")
            server_cpu, client_cpu = cpu_seconds(proc.pid), time.process_time()
            down = timed(remote.download, work / "back", True)
            server_cpu, client_cpu = cpu_seconds(proc.pid) - server_cpu, time.process_time() - client_cpu
            print(f"download {mib / down:.0f} MiB/s ({100 * cp / down:.0f} % of cp); "
                  f"CPU: server {server_cpu:.1f} s, client {client_cpu:.1f} s")
            print(f"client peak RSS {rss_after:.0f} MiB (before the upload {rss_before:.0f} MiB); "
                  f"server peak RSS {vm_hwm_mib(proc.pid):.0f} MiB")
            client.close()
            small_files(work, url, args.small)
        finally:
            proc.terminate()
            proc.wait()


def small_files(work: Path, url: str, n: int) -> None:
    """``n`` small files, half of them duplicates of the other half's bytes, saved by one run."""
    src = work / "small"
    src.mkdir()
    for i in range(n):
        (src / f"f{i:05d}.txt").write_text(f"content {i % (n // 2)}\n")
    run = trackwell.init(project="small", dir=work / "runs", reinit=True,
                         settings={"quiet": True, "console": "off", "base_url": url})
    t0 = time.perf_counter()
    run.save(str(src / "*.txt"), base_path=str(src), policy="now")
    saved = time.perf_counter() - t0
    run.finish()
    total = time.perf_counter() - t0
    blobs = [p for p in (work / "server" / "blobs").rglob("*") if p.is_file() and ".staging" not in p.parts]
    files = trackwell.Api(base_url=url).run(f"{run.entity}/small/{run.id}").files()
    print(f"{n} small files: save() {saved:.1f} s, through finish (uploaded) {total:.1f} s; "
          f"{len(files)} run files, {len(blobs) - 1} blobs stored (dedup: {n // 2} distinct contents)")
    shutil.rmtree(src)


if __name__ == "__main__":
    main()
