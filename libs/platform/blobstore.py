"""Write-once blob store for the Cloud Archive: S3 with object lock, or a local folder.

A key is written once; writing it again with the same bytes is a no-op (a
retried archive job), with different bytes it is refused. S3 objects get a
compliance-mode retention date so nobody, root included, can delete them early.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import quote


class BlobConflict(Exception):
    """The key already holds different bytes; archived documents never change."""


class BlobStoreUnavailable(Exception):
    """The store could not be reached; the caller retries later."""


class BlobStore(Protocol):
    def put_once(self, key: str, data: bytes, content_type: str, retain_until: datetime | None) -> str:
        """Store bytes under key once; returns their SHA-256 hex."""

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def download_url(self, key: str, expires_seconds: int = 300) -> str: ...


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LocalBlobStore:
    """Files under a folder, made read-only once written; URLs are HMAC-signed for the serving route."""

    def __init__(self, root: Path, signing_key: str, public_base_url: str = ""):
        self._root = root
        self._key = signing_key.encode()
        self._base = public_base_url.rstrip("/")
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self._root / key).resolve()
        if self._root.resolve() not in path.parents:
            raise ValueError("key escapes the archive folder")
        return path

    def put_once(self, key, data, content_type, retain_until):
        path = self._path(key)
        digest = sha256_hex(data)
        if path.exists():
            if sha256_hex(path.read_bytes()) != digest:
                raise BlobConflict(key)
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        path.chmod(0o444)
        return digest

    def get(self, key):
        return self._path(key).read_bytes()

    def exists(self, key):
        return self._path(key).exists()

    def sign(self, key: str, expires_at: int) -> str:
        return hmac.new(self._key, f"{key}:{expires_at}".encode(), hashlib.sha256).hexdigest()

    def verify(self, key: str, expires_at: int, signature: str) -> bool:
        return expires_at >= time.time() and hmac.compare_digest(self.sign(key, expires_at), signature)

    def download_url(self, key, expires_seconds=300):
        expires_at = int(time.time()) + expires_seconds
        return f"{self._base}/v1/archive/blobs?key={quote(key)}&expires={expires_at}&signature={self.sign(key, expires_at)}"


class S3BlobStore:
    def __init__(self, endpoint: str, access_key: str, secret_key: str, region: str, bucket: str, object_lock: bool = True):
        import boto3
        from botocore.config import Config

        self._client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 2}, connect_timeout=3, read_timeout=10),
        )
        self._bucket = bucket
        self._object_lock = object_lock

    def ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self._client.head_bucket(Bucket=self._bucket)
        except ClientError:
            self._client.create_bucket(Bucket=self._bucket, ObjectLockEnabledForBucket=self._object_lock)

    def _call(self, fn, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

        try:
            return fn(**kwargs)
        except (EndpointConnectionError, BotoCoreError) as exc:
            raise BlobStoreUnavailable(str(exc)) from exc
        except ClientError:
            raise

    def put_once(self, key, data, content_type, retain_until):
        from botocore.exceptions import ClientError

        digest = sha256_hex(data)
        try:
            head = self._call(self._client.head_object, Bucket=self._bucket, Key=key)
            if head.get("Metadata", {}).get("sha256") != digest:
                raise BlobConflict(key)
            return digest
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
        extra = {}
        if retain_until is not None and self._object_lock:
            extra = {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": retain_until}
        self._call(
            self._client.put_object,
            Bucket=self._bucket, Key=key, Body=data, ContentType=content_type,
            Metadata={"sha256": digest}, ChecksumAlgorithm="SHA256", **extra,
        )
        return digest

    def get(self, key):
        return self._call(self._client.get_object, Bucket=self._bucket, Key=key)["Body"].read()

    def exists(self, key):
        from botocore.exceptions import ClientError

        try:
            self._call(self._client.head_object, Bucket=self._bucket, Key=key)
            return True
        except ClientError:
            return False

    def retention(self, key: str) -> dict:
        return self._client.get_object_retention(Bucket=self._bucket, Key=key)["Retention"]

    def download_url(self, key, expires_seconds=300):
        return self._client.generate_presigned_url("get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_seconds)
