"""Invoice numbers stay unique and gap-free per tenant when many invoices are issued at once, and a
rolled-back issue gives its number back."""

import threading

import pytest

from services.invoice_factory.adapters.metadata import metadata
from services.invoice_factory.adapters.numbering import next_number
from services.invoice_factory.adapters.tables import invoices  # noqa: F401
from services.invoice_factory.bootstrap import MIGRATIONS
from tests.support.pg import fresh_engine


@pytest.fixture
def engine():
    eng = fresh_engine(metadata, MIGRATIONS, "num", pool_size=25)
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
