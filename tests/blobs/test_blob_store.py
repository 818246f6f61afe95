"""The blob store contract, run against both backends: a local directory and S3 through a real
S3-compatible HTTP server (moto's standalone server, a subprocess)."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from s3server import S3Server

from trackwell.server.blobs import (
    BlobError,
    BlobNotFound,
    BlobStore,
    DigestMismatch,
    LocalBlobStore,
    OffsetMismatch,
    S3BlobStore,
    UploadNotFound,
    open_blob_store,
)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    if request.param == "local":
        made: BlobStore = LocalBlobStore(tmp_path / "blobs")
    else:
        s3: S3Server = request.getfixturevalue("s3_server")
        made = S3BlobStore(s3.new_bucket(), "team/blobs", staging=tmp_path / "staging", client=s3.client())
    yield made
    made.close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_put_open_exists_size_delete(store: BlobStore) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)  # several chunks, not a multiple of one
    digest, size = store.put_stream(io.BytesIO(data), expected_digest=sha(data), expected_size=len(data))
    assert (digest, size) == (sha(data), len(data))
    assert store.exists(digest) and store.size(digest) == len(data)
    with store.open(digest) as f:
        assert f.read() == data
    assert list(store.digests()) == [digest]
    assert store.delete(digest) is True
    assert not store.exists(digest) and store.delete(digest) is False
    with pytest.raises(BlobNotFound):
        store.open(digest)
    with pytest.raises(BlobNotFound):
        store.size(digest)


def test_same_bytes_stored_once(store: BlobStore) -> None:
    data = b"checkpoint" * 1000
    first = store.put_stream([data[:7], data[7:]])
    second = store.put_stream(iter([data]))
    assert first == second == (sha(data), len(data))
    assert list(store.digests()) == [sha(data)]


def test_a_mismatch_stores_nothing(store: BlobStore) -> None:
    data = b"abc" * 100
    with pytest.raises(DigestMismatch, match="hash to sha256"):
        store.put_stream([data], expected_digest=sha(b"other"))
    with pytest.raises(DigestMismatch, match="expected 5"):
        store.put_stream([data], expected_size=5)
    assert list(store.digests()) == [] and list(store.staging.iterdir()) == []
    with pytest.raises(BlobError, match="64 lowercase hex"):
        store.put_stream([data], expected_digest="ABC")


def test_resumable_upload_with_retried_and_early_parts(store: BlobStore) -> None:
    data = os.urandom(2_500_000)
    upload = store.begin_upload()
    assert store.upload_offset(upload) == 0
    assert store.append_upload(upload, 0, [data[:1_000_000]]) == 1_000_000
    # the answer was lost: the client resends the same part; nothing is written twice
    assert store.append_upload(upload, 0, [data[:1_000_000]]) == 1_000_000
    # a part that overlaps what is there and runs past it writes only the new tail
    assert store.append_upload(upload, 500_000, [data[500_000:1_500_000]]) == 1_500_000
    with pytest.raises(OffsetMismatch) as gap:
        store.append_upload(upload, 2_000_000, [data[2_000_000:]])
    assert gap.value.offset == 1_500_000
    assert not store.exists(sha(data))  # a partial upload is never visible
    store.append_upload(upload, store.upload_offset(upload), io.BytesIO(data[1_500_000:]))
    assert store.complete_upload(upload, sha(data), len(data)) == (sha(data), len(data))
    with store.open(sha(data)) as f:
        assert f.read() == data
    with pytest.raises(UploadNotFound, match="begin a new one"):
        store.upload_offset(upload)


def test_a_reader_never_sees_part_of_a_blob(store: BlobStore) -> None:
    data = os.urandom(4 * 1024 * 1024)
    digest = sha(data)
    seen: list[int] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if store.exists(digest):
                with store.open(digest) as f:
                    seen.append(len(f.read()))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        store.put_stream((data[i:i + 65536] for i in range(0, len(data), 65536)), expected_digest=digest)
    finally:
        done.set()
        watcher.join()
    assert all(n == len(data) for n in seen)


def test_presigned_url(store: BlobStore) -> None:
    data = b"signed bytes"
    digest, _ = store.put_stream([data])
    url = store.presigned_url(digest, expires=60)
    if isinstance(store, LocalBlobStore):
        assert url is None  # the server streams local blobs itself
    else:
        assert url is not None
        assert httpx.get(url, timeout=10).content == data


def test_open_blob_store_picks_the_backend(tmp_path: Path, s3_server: S3Server,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    local = open_blob_store(tmp_path / "b")
    assert isinstance(local, LocalBlobStore) and local.root == tmp_path / "b"
    bucket = s3_server.new_bucket()
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    remote = open_blob_store(f"s3://{bucket}/pre/fix", staging=tmp_path / "st")
    assert isinstance(remote, S3BlobStore) and remote.prefix == "pre/fix"
    digest, _ = remote.put_stream([b"via the environment's endpoint"])
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [f"pre/fix/{digest}"]
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        open_blob_store("gs://elsewhere")


def test_an_upload_survives_a_server_restart(tmp_path: Path) -> None:
    """A new process over the same directory knows the staged upload, hashes it from disk and
    publishes it (the first process's in-memory hash is gone)."""
    data = os.urandom(1_500_000)
    first = LocalBlobStore(tmp_path / "blobs")
    upload = first.begin_upload()
    first.append_upload(upload, 0, [data[:700_000]])
    second = LocalBlobStore(tmp_path / "blobs")
    assert second.upload_offset(upload) == 700_000
    second.append_upload(upload, 700_000, [data[700_000:]])
    assert second.complete_upload(upload, sha(data), len(data)) == (sha(data), len(data))
    with second.open(sha(data)) as f:
        assert f.read() == data


def test_put_many_small_blobs(store: BlobStore) -> None:
    items = [(sha(d), d) for d in (b"alpha", b"beta", b"alpha")]
    assert store.put_many(items) == [(sha(b"alpha"), 5), (sha(b"beta"), 4), (sha(b"alpha"), 5)]
    assert sorted(store.digests()) == sorted({sha(b"alpha"), sha(b"beta")})
    with pytest.raises(DigestMismatch, match=f"blob {sha(b'x')}"):
        store.put_many([(sha(b"gamma"), b"gamma"), (sha(b"x"), b"not x")])
    assert not store.exists(sha(b"gamma"))  # none of a refused batch is stored
    assert list(store.staging.iterdir()) == []
