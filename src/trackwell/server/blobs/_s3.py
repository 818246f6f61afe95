"""Blobs as objects in an S3-compatible bucket (boto3): key ``<prefix>/<digest>``.

Endpoint and credentials come from boto3's usual settings (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, profiles). Uploads are staged and verified on local
disk, then sent with boto3's managed transfer (multipart for large blobs): S3 makes an object
visible only once its upload completes, so a partial blob is never readable.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from trackwell.server.blobs._base import BlobNotFound, BlobStore, check_digest


def _missing(exc: Exception) -> bool:
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


class S3BlobStore(BlobStore):
    def __init__(self, bucket: str, prefix: str = "", *, staging: str | Path | None = None,
                 client: Any = None, **client_args: Any) -> None:
        try:
            import boto3
        except ModuleNotFoundError:
            raise ModuleNotFoundError("an s3:// blob store needs boto3: pip install 'trackwell[s3]'",
                                      name="boto3") from None
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client or boto3.client("s3", **client_args)
        super().__init__(staging or tempfile.mkdtemp(prefix="trackwell-blob-staging-"))

    def __repr__(self) -> str:
        return f"S3BlobStore(s3://{self.bucket}/{self.prefix})"

    def _key(self, digest: str) -> str:
        check_digest(digest)
        return f"{self.prefix}/{digest}" if self.prefix else digest

    def _head(self, digest: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return dict(self.client.head_object(Bucket=self.bucket, Key=self._key(digest)))
        except ClientError as exc:
            if _missing(exc):
                return None
            raise

    def exists(self, digest: str) -> bool:
        return self._head(digest) is not None

    def size(self, digest: str) -> int:
        head = self._head(digest)
        if head is None:
            raise BlobNotFound(digest)
        return int(head["ContentLength"])

    def open(self, digest: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(digest))["Body"]
        except ClientError as exc:
            if _missing(exc):
                raise BlobNotFound(digest) from None
            raise
        return body  # type: ignore[no-any-return]  # botocore's StreamingBody: read(n), close()

    def delete(self, digest: str) -> bool:
        if not self.exists(digest):
            return False
        self.client.delete_object(Bucket=self.bucket, Key=self._key(digest))
        return True

    def digests(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else "")
        for page in pages:
            for item in page.get("Contents", ()):
                name = str(item["Key"]).rpartition("/")[2]
                if len(name) == 64:
                    yield name

    def presigned_url(self, digest: str, expires: int = 3600) -> str | None:
        return str(self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._key(digest)}, ExpiresIn=expires))

    def _publish(self, staged: Path, digest: str, size: int) -> None:
        try:
            self.client.upload_file(str(staged), self.bucket, self._key(digest),
                                    ExtraArgs={"ChecksumAlgorithm": "SHA256"})
        finally:
            staged.unlink(missing_ok=True)

    def close(self) -> None:
        self.client.close()
