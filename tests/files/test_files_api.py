"""Run files over REST on a real server: a FileSaved record names the bytes, the bytes arrive
through the upload endpoints (whole or in resumable parts, verified), the run's files list and
download, deleting frees the blob to gc, and gc reports exactly the bytes it freed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from s3server import S3Server
from servers import LiveServer, http, start_server

from trackwell.schema import Batch, FileSaved, RunStart, encode

MSGPACK = {"Content-Type": "application/msgpack"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_files(server: LiveServer, run_id: str, files: dict[str, bytes], writer: str = "w1",
               entity: str = "team", project: str = "proj", first_seq: int = 1) -> None:
    records: list[Any] = []
    if first_seq == 1:
        records.append(RunStart(seq=1, ts=1.0, entity=entity, project=project, run_id=run_id))
    for name, data in files.items():
        records.append(FileSaved(seq=first_seq + len(records), ts=2.0, name=name, digest=sha(data), size=len(data)))
    r = http.post(f"{server.url}/api/v1/runs/{entity}/{project}/{run_id}/records",
                  content=encode(Batch(writer=writer, records=records)), headers=MSGPACK)
    assert r.status_code == 200, r.text


@pytest.fixture(params=["local", "s3"])
def server(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    extra: tuple[str, ...] = ()
    if request.param == "s3":
        s3: S3Server = request.getfixturevalue("s3_server")
        for name, value in s3.env.items():
            monkeypatch.setenv(name, value)  # the server subprocess inherits them
        extra = ("--blob-store", f"s3://{s3.new_bucket()}/blobs")
    made = start_server(tmp_path / "server", *extra)
    yield made
    made.stop()


def test_files_round_trip_and_gc(server: LiveServer) -> None:
    api, proj = f"{server.url}/api/v1", f"{server.url}/api/v1/projects/team/proj"
    small, big = b"hello files", os.urandom(3 * 1024 * 1024 + 5)
    save_files(server, "r1", {"notes/a.txt": small, "model.bin": big, "copy.txt": small})
    listed = http.get(f"{api}/runs/team/proj/r1/files").json()["files"]
    assert [(f["name"], f["size"], f["uploaded"]) for f in listed] == [
        ("copy.txt", len(small), False), ("model.bin", len(big), False), ("notes/a.txt", len(small), False)]
    r = http.get(f"{api}/runs/team/proj/r1/files/model.bin")
    assert r.status_code == 409 and "not been uploaded yet" in r.json()["detail"]

    assert set(http.post(f"{proj}/blobs/missing", json={"digests": [sha(small), sha(big)]}).json()["missing"]) == \
        {sha(small), sha(big)}
    # the small one in one request; a wrong digest is refused and stores nothing
    bad = http.put(f"{proj}/blobs/{sha(b'other')}", content=small)
    assert bad.status_code == 422 and "hash to sha256" in bad.json()["detail"]
    assert http.put(f"{proj}/blobs/{sha(small)}", content=small).json() == {"digest": sha(small), "size": len(small)}
    # the big one in parts, with a retried part and a gap
    begun = http.post(f"{proj}/uploads").json()
    uid, part = begun["upload_id"], 1024 * 1024
    assert begun["max_part_bytes"] >= part
    for offset in (0, 0, part):
        assert http.put(f"{proj}/uploads/{uid}", params={"offset": offset},
                        content=big[offset:offset + part]).json()["offset"] == offset + part
    gap = http.put(f"{proj}/uploads/{uid}", params={"offset": 3 * part}, content=big[3 * part:])
    assert gap.status_code == 409 and gap.json()["offset"] == 2 * part
    assert http.get(f"{proj}/uploads/{uid}").json()["offset"] == 2 * part
    http.put(f"{proj}/uploads/{uid}", params={"offset": 2 * part}, content=big[2 * part:]).raise_for_status()
    done = http.post(f"{proj}/uploads/{uid}/complete", json={"digest": sha(big), "size": len(big)})
    assert done.json() == {"digest": sha(big), "size": len(big)}
    assert http.get(f"{proj}/uploads/{uid}").status_code == 404

    got = http.get(f"{api}/runs/team/proj/r1/files/model.bin")
    assert got.content == big and got.headers["x-trackwell-sha256"] == sha(big)
    # whatever a writer uploaded is served as a download, never as a page of this origin
    assert got.headers["content-disposition"].startswith("attachment") and got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "sandbox"
    assert http.get(f"{api}/runs/team/proj/r1/files/notes/a.txt").content == small
    assert http.post(f"{proj}/blobs/missing", json={"digests": [sha(small), sha(big)]}).json()["missing"] == []
    assert http.get(f"{api}/runs/team/proj/r1/files/nope.txt").status_code == 404
    assert http.get(f"{api}/runs/team/proj/nope/files").status_code == 404

    # a second run with the same bytes: stored once, referenced twice
    save_files(server, "r2", {"again.bin": big})
    assert http.delete(f"{api}/runs/team/proj/r1/files/model.bin").json() == {"deleted": "model.bin"}
    assert http.post(f"{api}/admin/gc", json={"grace_seconds": 0}).json()["blobs"] == 0  # r2 still needs it
    assert http.delete(f"{api}/runs/team/proj/r2/files/again.bin").status_code == 200
    dry = http.post(f"{api}/admin/gc", json={"dry_run": True, "grace_seconds": 0}).json()
    assert dry == {"dry_run": True, "blobs": 1, "bytes": len(big), "digests": [sha(big)], "uploads": 0,
                   "upload_bytes": 0}
    assert http.post(f"{api}/admin/gc", json={"grace_seconds": 3600}).json()["blobs"] == 0  # touched just now
    cli = subprocess.run([sys.executable, "-m", "trackwell", "gc", "--dry-run", "--grace", "0", "--host", server.url],
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0 and f"would free 1 blobs, 3.0 MiB ({len(big)} bytes)" in cli.stdout, cli.stderr
    abandoned = http.post(f"{proj}/uploads").json()["upload_id"]
    http.put(f"{proj}/uploads/{abandoned}", params={"offset": 0}, content=b"never completed").raise_for_status()
    freed = http.post(f"{api}/admin/gc", json={"grace_seconds": 0}).json()
    assert freed == {"dry_run": False, "blobs": 1, "bytes": len(big), "digests": [sha(big)], "uploads": 1,
                     "upload_bytes": len(b"never completed")}
    assert http.get(f"{proj}/uploads/{abandoned}").status_code == 404
    assert http.post(f"{proj}/blobs/missing", json={"digests": [sha(big), sha(small)]}).json()["missing"] == [sha(big)]
    assert http.get(f"{api}/runs/team/proj/r1/files/copy.txt").content == small  # untouched
    # deleting the run frees what only it held (notes/a.txt and copy.txt share the bytes)
    assert http.delete(f"{api}/runs/team/proj/r1").status_code == 200
    freed = http.post(f"{api}/admin/gc", json={"grace_seconds": 0}).json()
    assert (freed["blobs"], freed["bytes"], freed["digests"]) == (1, len(small), [sha(small)])


def test_bad_input_is_a_clear_4xx(tmp_path: Path) -> None:
    server = start_server(tmp_path / "server")
    try:
        api, proj = f"{server.url}/api/v1", f"{server.url}/api/v1/projects/team/proj"
        r = http.post(f"{api}/runs/team/proj/r/records", headers=MSGPACK, content=encode(Batch(writer="w", records=[
            RunStart(seq=1, ts=1.0, entity="team", project="proj", run_id="r"),
            FileSaved(seq=2, ts=1.0, name="../etc/passwd", digest="a" * 64, size=1)])))
        assert r.status_code == 422 and "not a relative path" in r.json()["detail"]
        r = http.post(f"{api}/runs/team/proj/r/records", headers=MSGPACK, content=encode(Batch(writer="w", records=[
            RunStart(seq=1, ts=1.0, entity="team", project="proj", run_id="r"),
            FileSaved(seq=2, ts=1.0, name="ok.txt", digest="XYZ", size=1)])))
        assert r.status_code == 422 and "64 lowercase hex" in r.json()["detail"]
        r = http.put(f"{proj}/blobs/not-a-digest", content=b"x")
        assert r.status_code == 422 and "64 lowercase hex" in r.json()["detail"]
        many = [b"one", b"two", b"three"]
        r = http.post(f"{proj}/blobs", headers=MSGPACK,
                      content=encode({"blobs": [{"digest": sha(d), "data": d} for d in many]}))
        assert r.json() == {"stored": [sha(d) for d in many]}
        assert http.post(f"{proj}/blobs/missing", json={"digests": [sha(d) for d in many]}).json()["missing"] == []
        r = http.post(f"{proj}/blobs", headers=MSGPACK,
                      content=encode({"blobs": [{"digest": sha(b"x"), "data": b"y"}]}))
        assert r.status_code == 422 and f"blob {sha(b'x')}" in r.json()["detail"]
        r = http.post(f"{proj}/blobs/missing", json={"digests": ["zz"]})
        assert r.status_code == 422 and "64 lowercase hex" in r.json()["detail"]
        r = http.put(f"{proj}/uploads/{'0' * 32}", params={"offset": 0}, content=b"x")
        assert r.status_code == 404 and "begin a new one" in r.json()["detail"]
        r = http.post(f"{api}/admin/gc", json={"grace_seconds": -1})
        assert r.status_code == 422 and "grace_seconds" in r.json()["detail"]
        assert http.post(f"{proj}/blobs/missing").status_code == 422
    finally:
        server.stop()
