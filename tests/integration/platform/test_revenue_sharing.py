"""Revenue sharing on the embedded platform: the three seed scenarios end to end, and the refusals that post nothing."""

from __future__ import annotations

from tests.support.revenue_sharing import reseller_electricity, shared_mobility, transport_ticket


def test_shared_mobility_splits_one_invoice_and_one_payment_among_owner_provider_and_service_partners(embedded):
    shared_mobility(embedded[1])


def test_a_ticket_across_three_operators_is_cleared_by_kilometres(embedded):
    transport_ticket(embedded[1])


def test_resellers_of_resellers_take_their_stacked_commission_on_prepaid_electricity(embedded):
    reseller_electricity(embedded[1])
