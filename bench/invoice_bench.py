"""Invoices rendered (PDF/A-3 with embedded CII) and archived per second, beside a trivial one-page render.

The archive is the real S3 server when CLOUDBILL_S3_ENDPOINT is set (deploy/bench.sh), else a local folder.
Rendering runs in a process pool of one worker per core, as an invoice run does; the uploads of the rendered
invoices go out from a few threads while the pool renders on, as the Archiver sends a batch.
Afterwards one invoice at a time is timed stage by stage in this process (median ms), next to the trivial page.
Run: .venv/bin/python -m bench.invoice_bench   (INVOICE_BENCH_WORKERS=N to try another pool size)
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.common import save
from libs.platform.blobstore import LocalBlobStore, S3BlobStore
from services.invoice_factory.adapters.rendering import invoice_html, render_pdf, render_xml
from services.invoice_factory.adapters.rendering.cii import build_cii
from services.invoice_factory.adapters.rendering.pdf import lay_out, parse_html, write_facturx
from services.invoice_factory.domain import Profile
from tests.integration.invoice_factory import samples

N = 120
STAGE_SAMPLES = 20
UPLOAD_THREADS = 4


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


def archive(blobs, retain, prefix: str, i: int, pdf: bytes, xml: bytes) -> None:
    blobs.put_once(f"bench/{prefix}/RE-{i:06d}.pdf", pdf, "application/pdf", retain)
    blobs.put_once(f"bench/{prefix}/RE-{i:06d}.xml", xml, "application/xml", retain)


def stages(blobs, retain) -> dict[str, float]:
    """Median ms of each stage of one invoice, rendered and archived in this process, and of a trivial page."""
    times: dict[str, list[float]] = {}

    def timed(stage: str, fn, *args, **kwargs):
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        times.setdefault(stage, []).append((time.perf_counter() - t0) * 1000)
        return result

    render(N + 1)  # this process's first render loads fonts, template and stylesheet
    trivial(0)
    for i in range(N + 2, N + 2 + STAGE_SAMPLES):
        inv = invoice(i)
        html = timed("template", invoice_html, inv, None, inline_css=False)
        tree = timed("html_parse", parse_html, html)
        document = timed("style_and_layout", lay_out, tree, "de")
        cii = timed("cii_xml", build_cii, inv, Profile.CII_EN16931)
        pdf = timed("pdf_a_write_with_factur_x", write_facturx, document, cii, inv, "de")
        timed("s3_put_pdf_and_xml", archive, blobs, retain, "stages", i, pdf, cii)
        timed("render_total", render, i + STAGE_SAMPLES)
        timed("trivial_page", trivial, i)
    return {stage: round(statistics.median(values), 1) for stage, values in times.items()}


def main() -> None:
    workers = int(os.environ.get("INVOICE_BENCH_WORKERS") or os.cpu_count() or 2)
    blobs, kind = store()
    retain = datetime.now(timezone.utc) + timedelta(days=1)
    with ProcessPoolExecutor(workers) as pool, ThreadPoolExecutor(UPLOAD_THREADS, thread_name_prefix="upload") as uploads:
        list(pool.map(trivial, range(workers)))  # warm the workers (fonts, imports)
        t0 = time.perf_counter()
        list(pool.map(trivial, range(N)))
        trivial_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        stored = [uploads.submit(archive, blobs, retain, "invoices", i, pdf, xml) for i, (pdf, xml) in enumerate(pool.map(render, range(N)))]
        for done in stored:
            done.result()
        real_s = time.perf_counter() - t0
    per_stage = stages(blobs, retain)
    summary = (f"invoices: {N / real_s:.1f} invoices/s rendered as PDF/A-3 + CII and archived ({kind}, {workers} render processes, 7 lines each); "
               f"baseline trivial one-page PDF: {N / trivial_s:.1f}/s; ratio {trivial_s / real_s:.2f}; target >= 20/s\n"
               f"one invoice in one process, median ms: " + ", ".join(f"{stage} {ms}" for stage, ms in per_stage.items()))
    save("invoices", {"invoices": N, "workers": workers, "archive": kind, "invoices_per_second": N / real_s,
                      "baseline_trivial_pages_per_second": N / trivial_s, "target": 20, "stage_samples": STAGE_SAMPLES,
                      "stages_ms": per_stage}, summary)


if __name__ == "__main__":
    main()
