"""Content-addressed blob storage for run files and artifacts: a local directory (default) or
an S3-compatible bucket. ``open_blob_store`` picks one from a path or an ``s3://bucket/prefix`` URL."""

from __future__ import annotations

from pathlib import Path

from trackwell.server.blobs._base import (
    BlobError,
    BlobNotFound,
    BlobStore,
    DigestMismatch,
    OffsetMismatch,
    UploadNotFound,
    check_digest,
)
from trackwell.server.blobs._local import LocalBlobStore
from trackwell.server.blobs._s3 import S3BlobStore


def open_blob_store(url_or_path: str | Path, *, staging: str | Path | None = None) -> BlobStore:
    """``s3://bucket/prefix`` (boto3 reads AWS_ENDPOINT_URL and the credentials from the
    environment as usual) or a local directory. ``staging``: where an S3 store stages uploads."""
    text = str(url_or_path)
    if text.startswith("s3://"):
        bucket, _, prefix = text[len("s3://"):].partition("/")
        if not bucket:
            raise ValueError(f"{text!r} names no bucket: use s3://bucket/prefix")
        return S3BlobStore(bucket, prefix, staging=staging)
    if "://" in text:
        raise ValueError(f"{text!r}: a blob store is a local directory or s3://bucket/prefix")
    return LocalBlobStore(text)


__all__ = ["BlobError", "BlobNotFound", "BlobStore", "DigestMismatch", "LocalBlobStore", "OffsetMismatch",
           "S3BlobStore", "UploadNotFound", "check_digest", "open_blob_store"]
