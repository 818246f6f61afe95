"""Artifacts end to end against a real `trackwell server` (SQLite, local blob store in a temp dir).

Figures (issue 12):
1. log an artifact of N small files (``add_dir`` hashing, then ``log_artifact`` + ``wait``: the
   missing check, one PUT per blob, the version) and the same N files again under another name
   (dedup: every blob is on the server, nothing is uploaded);
2. upload and download throughput of one large file vs a plain disk copy (``cp``) of it on this
   machine (upload: ``log_artifact`` + ``wait``; download: ``download`` into an empty cache, the
   bytes verified on the way and copied into place).

    python bench/bench_artifacts.py [--files 10000] [--file-size 1024] [--big-mib 512] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from _server import start_server


def small_files(root: Path, count: int, size: int) -> None:
    for i in range(count):
        folder = root / f"d{i // 1000:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:05d}.bin").write_bytes(i.to_bytes(4, "little") * (size // 4))


def timed_log(run: object, name: str, folder: Path) -> tuple[float, float]:
    import trackwell

    t0 = time.perf_counter()
    art = trackwell.Artifact(name, "dataset")
    art.add_dir(folder)
    hashed = time.perf_counter() - t0
    run.log_artifact(art).wait()  # type: ignore[attr-defined]
    return hashed, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--file-size", type=int, default=1024)
    parser.add_argument("--big-mib", type=int, default=512)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-artifacts-"))
    proc, url = start_server(work / "server")
    os.environ.update(TRACKWELL_BASE_URL=url, TRACKWELL_CACHE_DIR=str(work / "cache"))
    try:
        import trackwell

        small_files(work / "small", args.files, args.file_size)
        run = trackwell.init(project="bench-artifacts", dir=str(work), settings={"quiet": True, "console": "off"})
        hashed, total = timed_log(run, "many", work / "small")
        print(f"log {args.files:,} files of {args.file_size} B: {total:.2f} s ({hashed:.2f} s hashing), "
              f"{args.files / total:,.0f} files/s")
        hashed, total = timed_log(run, "many-again", work / "small")
        print(f"dedup: the same {args.files:,} files as another artifact: {total:.2f} s ({hashed:.2f} s hashing), "
              "0 blobs uploaded")

        big = work / "big.bin"
        with open(big, "wb") as f:
            for _ in range(args.big_mib):
                f.write(os.urandom(1 << 20))
        t0 = time.perf_counter()
        subprocess.run(["cp", str(big), str(work / "big-copy.bin")], check=True)
        cp = time.perf_counter() - t0
        mib = args.big_mib
        print(f"cp of {mib} MiB: {cp:.2f} s, {mib / cp:,.0f} MiB/s")
        art = trackwell.Artifact("big", "model")
        t0 = time.perf_counter()
        art.add_file(big)
        hashed = time.perf_counter() - t0
        run.log_artifact(art).wait()
        up = time.perf_counter() - t0
        print(f"upload {mib} MiB (hash + parts + verify + publish): {up:.2f} s ({hashed:.2f} s hashing), "
              f"{mib / up:,.0f} MiB/s = {cp / up:.0%} of cp")
        logged = trackwell.Api().artifact("bench-artifacts/big:latest")
        t0 = time.perf_counter()
        logged.download(work / "down")
        down = time.perf_counter() - t0
        print(f"download {mib} MiB (stream + verify + cache + copy into place): {down:.2f} s, "
              f"{mib / down:,.0f} MiB/s = {cp / down:.0%} of cp")
        t0 = time.perf_counter()
        logged.download(work / "down-again")
        again = time.perf_counter() - t0
        print(f"download again (from the cache): {again:.2f} s, {mib / again:,.0f} MiB/s = {cp / again:.0%} of cp")
        run.finish(quiet=True)
    finally:
        proc.terminate()
        proc.wait(15)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
