"""SEPA and dunning rules: creditor ids, sequence types, pre-notification, return reasons, dunning levels, retry backoff, refunds."""

from datetime import date

import pytest

from services.payment_factory.domain.allocation import Allocation, reopen_for_refund
from services.payment_factory.domain.dunning import DunningLevel, DunningPolicy
from services.payment_factory.domain.sepa import (Mandate, MandateKind, Scheme, SepaError, SequenceType, check_creditor_id,
                                                  check_mandate_reference, earliest_collection, return_reason, sequence_type)


def mandate(kind=MandateKind.RECURRING, last=None, signed=date(2026, 1, 5), revoked=False):
    return Mandate("M-1", "DE98ZZZ09999999999", Scheme.CORE, kind, signed, "Max", "DE89370400440532013000", "COBADEFFXXX", last, revoked)


def test_creditor_ids_are_checked_by_their_check_digits():
    assert check_creditor_id("de98 zzz 09999999999") == "DE98ZZZ09999999999"
    assert check_creditor_id("DE98ABC09999999999") == "DE98ABC09999999999"  # the business code is outside the check
    for bad in ("DE97ZZZ09999999999", "DE98ZZZ09999999998", "XX", "DE98ZZZ"):
        with pytest.raises(SepaError) as err:
            check_creditor_id(bad)
        assert err.value.field == "creditor_id"
    with pytest.raises(SepaError):
        check_mandate_reference("M" * 36)


def test_sequence_types_and_lapse():
    assert sequence_type(mandate()) is SequenceType.FIRST
    assert sequence_type(mandate(last=date(2026, 2, 1))) is SequenceType.RECURRING
    assert sequence_type(mandate(last=date(2026, 2, 1)), final=True) is SequenceType.FINAL
    assert sequence_type(mandate(MandateKind.ONE_OFF)) is SequenceType.ONE_OFF
    assert mandate().usable_on(date(2026, 6, 1))
    assert not mandate(revoked=True).usable_on(date(2026, 6, 1))
    assert not mandate(signed=date(2023, 1, 1)).usable_on(date(2026, 6, 1))  # unused for 36 months
    assert not mandate(MandateKind.ONE_OFF, last=date(2026, 2, 1)).usable_on(date(2026, 3, 1))


def test_pre_notification_moves_the_first_due_date_off_weekends():
    assert earliest_collection(date(2026, 11, 23), 14) == date(2026, 12, 7)  # a Monday
    assert earliest_collection(date(2026, 11, 20), 1) == date(2026, 11, 23)  # Friday + 1 = Saturday -> Monday
    with pytest.raises(SepaError):
        earliest_collection(date(2026, 11, 23), 0)


def test_return_reasons_say_whether_to_retry_and_whether_the_mandate_ends():
    assert return_reason("AM04").retry and not return_reason("AM04").mandate_ends
    assert return_reason("AC04").mandate_ends and not return_reason("AC04").retry
    assert return_reason("MD06").retry is False
    unknown = return_reason("ZZ99")
    assert unknown.code == "ZZ99" and not unknown.retry


def test_dunning_sends_only_the_highest_new_level_once():
    p = DunningPolicy()
    due = date(2026, 11, 1)
    assert p.new_levels(due, date(2026, 11, 7), set()) == []
    assert [l.level for l in p.new_levels(due, date(2026, 11, 8), set())] == [1]
    assert p.new_levels(due, date(2026, 11, 9), {1}) == []
    assert [l.level for l in p.new_levels(due, date(2026, 12, 20), set())] == [3]  # a late first run: one letter, the last
    assert [l.level for l in p.new_levels(due, date(2026, 11, 22), {1})] == [2]
    with pytest.raises(ValueError):
        DunningPolicy(levels=(DunningLevel(1, 10, 0, "a"), DunningLevel(2, 5, 0, "b")))


def test_retries_back_off_and_stop():
    p = DunningPolicy()
    assert p.next_attempt(1, date(2026, 11, 1)) == date(2026, 11, 4)
    assert p.next_attempt(2, date(2026, 11, 1)) == date(2026, 11, 8)
    assert p.next_attempt(3, date(2026, 11, 1)) == date(2026, 11, 15)
    assert p.next_attempt(4, date(2026, 11, 1)) is None


def test_partial_refunds_reopen_the_last_settled_invoices_first():
    allocs = [Allocation("a", 100), Allocation("b", 50)]
    assert reopen_for_refund(allocs, 20, 0, 20) == []  # the over-payment goes back first
    assert reopen_for_refund(allocs, 20, 0, 70) == [Allocation("b", 50)]
    assert reopen_for_refund(allocs, 20, 20, 60) == [Allocation("b", 50), Allocation("a", 10)]
    in_steps = reopen_for_refund(allocs, 20, 0, 30) + reopen_for_refund(allocs, 20, 30, 40)
    assert sum(a.amount_minor for a in in_steps) == 50
    with pytest.raises(ValueError):
        reopen_for_refund(allocs, 20, 100, 71)
