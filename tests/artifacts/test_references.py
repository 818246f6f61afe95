"""References: file:// and s3:// entries are recorded (digest or ETag, size), not uploaded, and
fetched from where they point on download."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from s3server import S3Server

import trackwell
from trackwell.api import Api


def start(project: str, tmp_path: Path) -> trackwell.Run:
    return trackwell.init(project=project, dir=str(tmp_path), settings={"quiet": True, "console": "off"},
                          reinit=True)


def test_file_and_s3_references(online, tmp_path: Path, project: str, s3_server: S3Server,
                                monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    if request.node.callspec.params["server"] == "s3":
        pytest.skip("references do not touch the server's blob store: once is enough")
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    bucket = s3_server.new_bucket()
    s3 = s3_server.client()
    s3.put_object(Bucket=bucket, Key="raw/a.csv", Body=b"x,y\n1,2\n")
    s3.put_object(Bucket=bucket, Key="raw/deep/b.csv", Body=b"z\n3\n")
    local = tmp_path / "shared-fs"
    (local / "sub").mkdir(parents=True)
    (local / "sub" / "c.txt").write_text("on a shared filesystem")

    run = start(project, tmp_path)
    art = trackwell.Artifact("refs", "dataset")
    art.add_reference(f"s3://{bucket}/raw", name="s3")
    art.add_reference(local.as_uri())
    art.add_reference((local / "sub" / "c.txt").as_uri(), name="single.txt", checksum=False)
    run.log_artifact(art).wait(30)
    run.finish()

    version = Api().artifact(f"{project}/refs:v0")
    manifest = version.manifest
    assert manifest["s3/a.csv"]["ref"] == f"s3://{bucket}/raw/a.csv"
    assert manifest["s3/deep/b.csv"]["digest"] == hashlib.md5(b"z\n3\n").hexdigest()  # the ETag  # noqa: S324
    assert manifest["sub/c.txt"]["digest"] == hashlib.sha256(b"on a shared filesystem").hexdigest()
    assert manifest["single.txt"]["digest"] == "size:22"
    assert version.size == 0  # nothing stored on the server
    root = Path(version.download(tmp_path / "down"))
    assert (root / "s3" / "deep" / "b.csv").read_bytes() == b"z\n3\n"
    assert (root / "sub" / "c.txt").read_text() == "on a shared filesystem"
    assert (root / "single.txt").read_text() == "on a shared filesystem"
    with pytest.raises(ValueError, match="no object"):
        trackwell.Artifact("x", "dataset").add_reference(f"s3://{bucket}/nothing-here")
    with pytest.raises(ValueError, match="file://, s3:// or http"):
        trackwell.Artifact("x", "dataset").add_reference("ftp://host/file")
