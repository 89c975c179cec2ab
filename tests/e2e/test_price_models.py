"""Every price model over the four services on PostgreSQL and Kafka: each real invoice from a billing run
has the hand-computed net and agrees with the upcoming-invoice preview to the cent."""

import pytest

from tests.support.price_models import bill_every_model

pytestmark = [pytest.mark.e2e]


def test_every_price_model_on_a_real_invoice_agrees_with_the_preview(tenant_client):
    bill_every_model(tenant_client)
