"""The three revenue-sharing scenarios of the product documents over the four services on PostgreSQL, Kafka, FerretDB and S3:
each party's amount is stated in the scenario and checked on the billing run, in the ledger, on the 389 statement and the payout."""

import pytest

from tests.support.revenue_sharing import partner_statements_and_payouts, reseller_electricity, shared_mobility, transport_ticket

pytestmark = [pytest.mark.e2e]


def test_shared_mobility_from_usage_to_partner_payouts(tenant_client):
    partner_statements_and_payouts(tenant_client, shared_mobility(tenant_client))


def test_a_ticket_across_three_operators_is_cleared_by_kilometres(tenant_client):
    transport_ticket(tenant_client)


def test_resellers_of_resellers_take_their_stacked_commission_on_prepaid_electricity(tenant_client):
    reseller_electricity(tenant_client)
