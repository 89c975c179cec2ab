"""Invoice numbers stay unique and gap-free per tenant when many invoices are issued at once, and a
rolled-back issue gives its number back."""

import os
import threading
import uuid

import pytest

from libs.platform.db import make_engine
from libs.platform.migrations import prepare_schema
from services.invoice_factory.adapters.metadata import metadata
from services.invoice_factory.adapters.numbering import next_number
from services.invoice_factory.adapters.tables import invoices  # noqa: F401
from services.invoice_factory.bootstrap import MIGRATIONS


@pytest.fixture
def engine():
    url = os.environ.get("CLOUDBILL_PG_URL")
    if not url:
        if os.environ.get("CLOUDBILL_REQUIRE_INFRA") == "1":
            pytest.fail("CLOUDBILL_PG_URL is required")
        pytest.skip("CLOUDBILL_PG_URL not set")
    schema = f"num_{uuid.uuid4().hex[:8]}"
    eng = make_engine(url, schema, pool_size=25)
    prepare_schema(eng, metadata, MIGRATIONS, schema)
    yield eng
    eng.dispose()


def test_concurrent_issuers_get_gap_free_unique_numbers(engine):
    taken: list[str] = []
    lock = threading.Lock()

    def issue(i: int) -> None:
        try:
            with engine.begin() as conn:
                number = next_number(conn, "ten_a", "380", "RE-")
                if i % 7 == 0:
                    raise RuntimeError("rendering failed; the transaction rolls back")
            with lock:
                taken.append(number)
        except RuntimeError:
            pass

    threads = [threading.Thread(target=issue, args=(i,)) for i in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.begin() as conn:
        other = next_number(conn, "ten_b", "380", "RE-")
    values = sorted(int(n.removeprefix("RE-")) for n in taken)
    assert len(taken) == 60 - len(range(0, 60, 7))
    assert values == list(range(1, len(taken) + 1)), "numbers must be unique and without gaps"
    assert other == "RE-000001"  # ranges are per tenant
