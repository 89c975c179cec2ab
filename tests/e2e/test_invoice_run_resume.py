"""An invoice run survives its invoice factory being killed mid-run: after the restart it resumes where it
stopped and ends with every invoice issued once, numbered without gaps and archived once (four processes,
real PostgreSQL, Kafka, FerretDB and S3)."""

import signal

import pytest

from tests.e2e.test_crash_between_commits import restart
from tests.support.cycle import SELLER, bill_customers, ok, progress, wait_for

pytestmark = pytest.mark.e2e
CUSTOMERS = 60


def test_a_killed_invoice_run_resumes_without_duplicates_or_gaps(cluster, tenant_client):
    c = tenant_client
    ok(c.put("/v1/invoice-settings", json=SELLER))
    run_id = bill_customers(c, CUSTOMERS)
    midway = wait_for(lambda: (p := progress(c, run_id)) and 0 < p["archived"] < CUSTOMERS and p, "the run to be under way",
                      timeout=120, interval=0.05)
    cluster.services["invoice_factory"].kill(signal.SIGKILL)
    restart(cluster, "invoice_factory", None)

    done = wait_for(lambda: (p := progress(c, run_id)).get("stage") == "completed" and p, "the run to finish", timeout=300)
    assert (done["invoices_requested"], done["issued"], done["archived"], done["rejected"]) == (CUSTOMERS,) * 3 + (0,)
    assert midway["archived"] < done["archived"]
    numbers = sorted(i["number"] for i in ok(c.get("/v1/invoices", params={"limit": 1000})))
    assert numbers == [f"RE-{n:06d}" for n in range(1, CUSTOMERS + 1)]
    archived = ok(c.get("/v1/documents", params={"type_code": "380", "limit": 1000}))
    assert sorted((d["number"], d["kind"]) for d in archived) == sorted((n, k) for n in numbers for k in ("pdf", "xml"))
