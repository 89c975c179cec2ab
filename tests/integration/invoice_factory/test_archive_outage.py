"""The object store down while invoices are finalized: the invoice stays finalized, archiving is retried,
and once S3 is back each document is stored exactly once."""

import os
import socket
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import select

from libs.contracts.envelope import Envelope
from libs.contracts.events import DraftLine, InvoiceRequested, PartySnapshot
from libs.platform.blobstore import BlobStoreUnavailable, S3BlobStore
from libs.platform.docstore import EmbeddedDocumentStore
from services.invoice_factory.adapters.metadata import metadata
from services.invoice_factory.adapters.tables import invoices
from services.invoice_factory.app.archiving import Archiver
from services.invoice_factory.app.documents import render_snapshot
from services.invoice_factory.app.issuing import issue_invoice
from services.invoice_factory.app.settings_store import save_profile
from services.invoice_factory.bootstrap import MIGRATIONS
from tests.support.cycle import SELLER
from tests.support.pg import fresh_engine, require


def s3(endpoint: str, bucket: str) -> S3BlobStore:
    return S3BlobStore(endpoint, os.environ["CLOUDBILL_S3_ACCESS_KEY"], os.environ["CLOUDBILL_S3_SECRET_KEY"], "us-east-1", bucket)


def dead_endpoint() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"  # nothing listens here once the socket closes


@pytest.fixture
def engine():
    require("CLOUDBILL_S3_ENDPOINT")
    eng = fresh_engine(metadata, MIGRATIONS, "arch")
    save_profile(eng, "ten_x", SELLER)
    yield eng
    eng.dispose()


def issue(engine, n: int) -> str:
    request = InvoiceRequested(
        request_id=f"r{n}", billing_run_id="run1", subscription_id=f"sub{n}", currency="EUR",
        customer=PartySnapshot(id=f"cus{n}", name="Muster GmbH", street="Weg 1", postcode="12345", city="Stadt"),
        period_start=date(2026, 11, 1), period_end=date(2026, 11, 30),
        lines=[DraftLine(charge_code="fee", description="Grundgebühr", kind="fee", quantity=1, unit_price="49.00", net_minor=4900)])
    return issue_invoice(engine, Envelope(id=f"m{n}", type=request.TYPE, tenant_id="ten_x", body={}), request, date(2026, 12, 1))


def test_a_render_pool_archives_a_run_in_batches(engine, tmp_path):
    ids = [issue(engine, n) for n in range(5)]
    store = s3(os.environ["CLOUDBILL_S3_ENDPOINT"], f"pool-{uuid.uuid4().hex[:8]}")
    store.ensure_bucket()
    with ProcessPoolExecutor(2) as pool:
        archiver = Archiver(engine, store, EmbeddedDocumentStore(tmp_path / "d.sqlite3"), render_snapshot, 8, pool, batch=4)
        steps = 0
        while archiver.archive_next():
            steps += 1
    assert steps == 2  # 4 + 1
    with engine.connect() as conn:
        rows = conn.execute(select(invoices.c.archived, invoices.c.pdf_key).where(invoices.c.id.in_(ids))).all()
    assert all(r.archived for r in rows) and all(store.get(r.pdf_key)[:5] == b"%PDF-" for r in rows)


def test_invoice_stays_finalized_while_s3_is_down_and_is_archived_once_when_it_is_back(engine, tmp_path):
    invoice_id = issue(engine, 1)
    docs = EmbeddedDocumentStore(tmp_path / "docs.sqlite3")
    bucket = f"outage-{uuid.uuid4().hex[:8]}"

    down = Archiver(engine, s3(dead_endpoint(), bucket), docs, render_snapshot, 8)
    with pytest.raises(BlobStoreUnavailable):
        down.archive_next()
    with engine.connect() as conn:
        row = conn.execute(select(invoices).where(invoices.c.id == invoice_id)).one()
    assert row.status == "finalized" and row.number == "RE-000001" and not row.archived and row.archive_attempts == 1

    store = s3(os.environ["CLOUDBILL_S3_ENDPOINT"], bucket)
    store.ensure_bucket()
    back = Archiver(engine, store, docs, render_snapshot, 8)
    assert back.archive_next() is True
    assert back.archive_next() is False  # nothing left: archived once
    with engine.connect() as conn:
        row = conn.execute(select(invoices).where(invoices.c.id == invoice_id)).one()
    assert row.archived and store.get(row.pdf_key)[:5] == b"%PDF-"
    assert len(docs.find("documents", {"tenant_id": "ten_x", "number": "RE-000001"})) == 2  # pdf + xml, indexed once


def test_a_failed_render_leaves_the_batch_unarchived_and_the_retry_keeps_what_was_already_uploaded(engine, tmp_path):
    ids = [issue(engine, n) for n in range(3)]
    store = s3(os.environ["CLOUDBILL_S3_ENDPOINT"], f"fail-{uuid.uuid4().hex[:8]}")
    store.ensure_bucket()
    docs = EmbeddedDocumentStore(tmp_path / "d.sqlite3")
    rendered = []

    def render_once_then_crash(snapshot: dict):
        if rendered:
            raise RuntimeError("renderer crashed")
        rendered.append(snapshot["number"])
        return render_snapshot(snapshot)

    with ThreadPoolExecutor(1) as pool:  # renders in order; a thread pool takes a local function
        with pytest.raises(RuntimeError, match="renderer crashed"):
            Archiver(engine, store, docs, render_once_then_crash, 8, pool, batch=3).archive_next()
        # the first invoice's upload started while the second rendered, and had finished when the error left
        early = store.get("ten_x/invoices/2026/RE-000001.pdf")
        assert early[:5] == b"%PDF-" and rendered == ["RE-000001"]
        with engine.connect() as conn:
            assert not any(conn.execute(select(invoices.c.archived).where(invoices.c.id.in_(ids))).scalars())
        retry = Archiver(engine, store, docs, render_snapshot, 8, pool, batch=3)
        assert retry.archive_next() is True and retry.archive_next() is False
    with engine.connect() as conn:
        rows = {r.number: r for r in conn.execute(select(invoices).where(invoices.c.id.in_(ids)))}
    assert all(r.archived for r in rows.values())
    assert store.get(rows["RE-000001"].pdf_key) == early  # the copy stored before the crash is the record
    assert len(docs.find("documents", {"tenant_id": "ten_x"})) == 6  # pdf + xml of three, indexed once
