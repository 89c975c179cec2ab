"""One contract, two archives: the local folder twin must behave like S3 with object lock."""

import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from libs.platform.blobstore import BlobConflict, LocalBlobStore, S3BlobStore, sha256_hex
from tests.integration.libs.conftest import require_env


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalBlobStore(tmp_path / "archive", "signing-key", "http://testserver")
    s3 = S3BlobStore(require_env("CLOUDBILL_S3_ENDPOINT"), require_env("CLOUDBILL_S3_ACCESS_KEY"),
                     require_env("CLOUDBILL_S3_SECRET_KEY"), "us-east-1", f"test-{uuid.uuid4().hex[:10]}")
    s3.ensure_bucket()
    return s3


def test_written_once_same_bytes_is_a_noop_other_bytes_refused(store):
    key = "ten_1/invoices/2026/R-1.pdf"
    retain = datetime.now(timezone.utc) + timedelta(days=1)
    digest = store.put_once(key, b"%PDF-1 first", "application/pdf", retain)
    assert digest == sha256_hex(b"%PDF-1 first")
    assert store.put_once(key, b"%PDF-1 first", "application/pdf", retain) == digest
    with pytest.raises(BlobConflict):
        store.put_once(key, b"%PDF-1 changed", "application/pdf", retain)
    assert store.get(key) == b"%PDF-1 first"
    assert store.exists(key) and not store.exists("ten_1/invoices/2026/R-2.pdf")


def test_s3_download_url_serves_the_bytes_and_retention_is_compliance(store):
    if not isinstance(store, S3BlobStore):
        pytest.skip("presigned URLs and object lock are S3 features; the local twin signs URLs for its own route")
    key = "ten_1/invoices/R-9.xml"
    store.put_once(key, b"<Invoice/>", "application/xml", datetime.now(timezone.utc) + timedelta(days=1))
    assert httpx.get(store.download_url(key)).content == b"<Invoice/>"
    assert store.retention(key)["Mode"] == "COMPLIANCE"


def test_local_signed_urls_expire_and_resist_tampering(tmp_path):
    store = LocalBlobStore(tmp_path / "a", "k", "http://x")
    assert store.verify("a/b", 2**40, store.sign("a/b", 2**40))
    assert not store.verify("a/c", 2**40, store.sign("a/b", 2**40))
    assert not store.verify("a/b", 1, store.sign("a/b", 1))
