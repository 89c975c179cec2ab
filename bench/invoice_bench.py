"""Invoices rendered (PDF/A-3 with embedded CII) and archived per second, beside a trivial one-page render.

The archive is the real S3 server when CLOUDBILL_S3_ENDPOINT is set (deploy/bench.sh), else a local folder.
Rendering runs in a process pool of one worker per core, as an invoice run does.
Run: .venv/bin/python -m bench.invoice_bench
"""

from __future__ import annotations

import os
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.common import save
from libs.platform.blobstore import LocalBlobStore, S3BlobStore
from services.invoice_factory.adapters.rendering import render_pdf, render_xml
from tests.integration.invoice_factory import samples

N = 120


def invoice(i: int):
    """The seven-line sample invoice with mixed rates, tier steps and a cap, under its own number and buyer."""
    return replace(samples.GERMAN, number=f"RE-{i:06d}", buyer=replace(samples.BUYER, name=f"Kunde {i} GmbH", customer_number=f"K{i}"))


def render(i: int) -> tuple[bytes, bytes]:
    inv = invoice(i)
    return render_pdf(inv), render_xml(inv, "cii-en16931")


def trivial(_: int) -> bytes:
    from weasyprint import HTML

    return HTML(string="<p>Hello</p>").write_pdf()


def store():
    if os.environ.get("CLOUDBILL_S3_ENDPOINT"):
        s3 = S3BlobStore(os.environ["CLOUDBILL_S3_ENDPOINT"], os.environ["CLOUDBILL_S3_ACCESS_KEY"], os.environ["CLOUDBILL_S3_SECRET_KEY"],
                         "us-east-1", f"bench-{uuid.uuid4().hex[:8]}")
        s3.ensure_bucket()
        return s3, "s3"
    return LocalBlobStore(Path(f"/tmp/bench-archive-{uuid.uuid4().hex[:6]}"), "k"), "local folder"


def main() -> None:
    workers = os.cpu_count() or 2
    blobs, kind = store()
    retain = datetime.now(timezone.utc) + timedelta(days=1)
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(trivial, range(workers)))  # warm the workers (fonts, imports)
        t0 = time.perf_counter()
        list(pool.map(trivial, range(N)))
        trivial_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i, (pdf, xml) in enumerate(pool.map(render, range(N))):
            blobs.put_once(f"bench/invoices/RE-{i:06d}.pdf", pdf, "application/pdf", retain)
            blobs.put_once(f"bench/invoices/RE-{i:06d}.xml", xml, "application/xml", retain)
        real_s = time.perf_counter() - t0
    summary = (f"invoices: {N / real_s:.1f} invoices/s rendered as PDF/A-3 + CII and archived ({kind}, {workers} render processes, 7 lines each); "
               f"baseline trivial one-page PDF: {N / trivial_s:.1f}/s; ratio {trivial_s / real_s:.2f}; target >= 20/s")
    save("invoices", {"invoices": N, "workers": workers, "archive": kind, "invoices_per_second": N / real_s,
                      "baseline_trivial_pages_per_second": N / trivial_s, "target": 20}, summary)


if __name__ == "__main__":
    main()
