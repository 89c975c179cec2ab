"""Ledger domain rules as tables of cases: legs, requests, body hashes, balances, holds."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from libs.money import Money
from services.payment_factory.domain.ledger import Leg, Transfer, TransferRequest, TransferStatus, account_deltas
from services.payment_factory.domain.ledger_accounts import AccountFlags, AccountPurpose, AccountSpec, Balance, NormalSide
from services.payment_factory.domain.ledger_errors import (AmountExceedsHold, CurrencyMismatch, InvalidTransfer, NotReversible,
                                                           TransferNotPending)
from services.payment_factory.domain.ledger_holds import ensure_pending, release, reversal_legs, settle
from services.payment_factory.domain.ledger_statements import Statement, StatementLine

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("debit, credit, amount, currency", [
    ("a", "b", 0, "EUR"), ("a", "b", -5, "EUR"), ("a", "a", 5, "EUR"), ("", "b", 5, "EUR"),
    ("a", "b", True, "EUR"), ("a", "b", 1.5, "EUR"), ("a", "b", 5, "XXX"),
])
def test_malformed_legs_are_refused(debit, credit, amount, currency):
    with pytest.raises(InvalidTransfer):
        Leg(debit, credit, amount, currency)


def test_a_leg_from_money_keeps_minor_units_and_swaps():
    leg = Leg.of("a", "b", Money(1234, "JPY"))
    assert (leg.amount_minor, leg.currency) == (1234, "JPY")
    assert leg.swapped() == Leg("b", "a", 1234, "JPY")


@pytest.mark.parametrize("kwargs, error", [
    ({"legs": []}, InvalidTransfer),
    ({"idempotency_key": ""}, InvalidTransfer),
    ({"idempotency_key": "k" * 201}, InvalidTransfer),
    ({"legs": [Leg("a", "b", 1, "EUR"), Leg("a", "c", 1, "USD")]}, CurrencyMismatch),
    ({"expires_at": NOW}, InvalidTransfer),  # not a hold
    ({"pending": True, "expires_at": datetime(2026, 1, 1)}, InvalidTransfer),  # naive
    ({"pending": True, "reverses": "trf_1"}, InvalidTransfer),
    ({"metadata": {"x": float("nan")}}, InvalidTransfer),
    ({"metadata": {"x": object()}}, InvalidTransfer),
])
def test_malformed_requests_are_refused(kwargs, error):
    base = {"idempotency_key": "k", "legs": [Leg("a", "b", 1, "EUR")]}
    with pytest.raises(error):
        TransferRequest(**{**base, **kwargs})


def test_legs_in_several_currencies_on_distinct_accounts_are_allowed():
    req = TransferRequest("fx", [Leg("eur-a", "eur-b", 100, "EUR"), Leg("usd-a", "usd-b", 108, "USD")])
    assert len(req.legs) == 2 and isinstance(req.legs, tuple)


@pytest.mark.parametrize("other", [
    TransferRequest("k2", [Leg("a", "b", 1, "EUR")], {"m": 1}),  # the key is not part of the body
])
def test_body_hash_ignores_the_key(other):
    assert TransferRequest("k", [Leg("a", "b", 1, "EUR")], {"m": 1}).body_hash() == other.body_hash()


@pytest.mark.parametrize("other", [
    TransferRequest("k", [Leg("a", "b", 2, "EUR")], {"m": 1}),
    TransferRequest("k", [Leg("a", "c", 1, "EUR")], {"m": 1}),
    TransferRequest("k", [Leg("a", "b", 1, "EUR")], {"m": 2}),
    TransferRequest("k", [Leg("a", "b", 1, "EUR")], {"m": 1}, pending=True),
    TransferRequest("k", [Leg("a", "b", 1, "EUR")], {"m": 1}, pending=True, expires_at=NOW),
    TransferRequest("k", [Leg("a", "b", 1, "EUR")], {"m": 1}, reverses="trf_1"),
])
def test_body_hash_tells_different_bodies_apart(other):
    assert TransferRequest("k", [Leg("a", "b", 1, "EUR")], {"m": 1}).body_hash() != other.body_hash()


def test_deltas_net_per_account_and_split_posted_from_pending():
    legs = [Leg("w", "rev", 10, "EUR"), Leg("bank", "w", 3, "EUR")]
    assert account_deltas(legs, pending=False) == {"w": Balance(10, 3), "rev": Balance(0, 10), "bank": Balance(3, 0)}
    assert account_deltas(legs, pending=True)["w"] == Balance(0, 0, 10, 3)


@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.sampled_from("abcdef"), st.integers(1, 10**12),
                          st.sampled_from(["EUR", "JPY"])).filter(lambda t: t[0] != t[1]), min_size=1, max_size=8),
       st.booleans())
def test_every_transfer_balances_by_construction(raw, pending):
    legs = [Leg(d + c_, c + c_, amount, c_) for d, c, amount, c_ in raw]  # account names carry their currency
    total = Balance()
    for delta in account_deltas(legs, pending).values():
        total = total + delta
    assert total.debits_posted == total.credits_posted and total.debits_pending == total.credits_pending


@pytest.mark.parametrize("balance, flags, violates, headroom", [
    (Balance(100, 100), AccountFlags(debits_must_not_exceed_credits=True), False, 0),
    (Balance(101, 100), AccountFlags(debits_must_not_exceed_credits=True), True, -1),
    (Balance(50, 100, 51, 0), AccountFlags(debits_must_not_exceed_credits=True), True, -1),
    (Balance(50, 100, 0, 999), AccountFlags(debits_must_not_exceed_credits=True), False, 50),  # pending credits do not count
    (Balance(0, 10), AccountFlags(credits_must_not_exceed_debits=True), True, -10),
    (Balance(10, 0, 0, 10), AccountFlags(credits_must_not_exceed_debits=True), False, 0),
    (Balance(10**15, 0), AccountFlags(), False, None),
])
def test_overdraft_rules(balance, flags, violates, headroom):
    assert balance.violates(flags) is violates
    assert balance.headroom(flags) == headroom


@pytest.mark.parametrize("purpose, side, posted, available", [
    (AccountPurpose.PREPAID_WALLET, NormalSide.CREDIT, 70, 50),
    (AccountPurpose.CUSTOMER_RECEIVABLE, NormalSide.DEBIT, -70, -75),
])
def test_balances_read_on_the_normal_side(purpose, side, posted, available):
    b = Balance(debits_posted=30, credits_posted=100, debits_pending=20, credits_pending=5)
    assert purpose.normal_side is side
    assert (b.posted(side), b.available(side)) == (posted, available)


def test_accounts_take_the_purposes_default_flags_and_refuse_two_limits():
    assert AccountSpec("w", AccountPurpose.PREPAID_WALLET, "EUR").flags == AccountFlags(debits_must_not_exceed_credits=True)
    assert AccountSpec("r", "revenue", "EUR").flags == AccountFlags()
    with pytest.raises(InvalidTransfer):
        AccountFlags(True, True)
    with pytest.raises(InvalidTransfer):
        AccountSpec("w", AccountPurpose.BANK, "ZZZ")


def hold(status=TransferStatus.PENDING, expires_at=None, is_hold=True):
    legs = (Leg("w", "rev", 100, "EUR"), Leg("w", "vat", 19, "EUR"))
    return Transfer("trf_h", "t", "auth", status, is_hold, legs, NOW, expires_at=expires_at)


@pytest.mark.parametrize("amounts, expected", [
    (None, ((100, "rev"), (19, "vat"))),
    ([40, 19], ((40, "rev"), (19, "vat"))),
    ([0, 7], ((7, "vat"),)),
])
def test_settle_posts_at_most_the_hold(amounts, expected):
    assert tuple((l.amount_minor, l.credit_account) for l in settle(hold(), amounts)) == expected


@pytest.mark.parametrize("amounts, error", [
    ([101, 0], AmountExceedsHold), ([1], InvalidTransfer), ([0, 0], InvalidTransfer), ([-1, 5], InvalidTransfer),
])
def test_settle_refuses(amounts, error):
    with pytest.raises(error):
        settle(hold(), amounts)


@pytest.mark.parametrize("h, now, ok", [
    (hold(), NOW, True),
    (hold(expires_at=NOW + timedelta(seconds=1)), NOW, True),
    (hold(expires_at=NOW), NOW, False),
    (hold(expires_at=NOW), None, True),  # voiding a lapsed hold is allowed
    (hold(TransferStatus.VOIDED), NOW, False),
    (hold(TransferStatus.POSTED, is_hold=False), NOW, False),
])
def test_only_live_holds_are_pending(h, now, ok):
    if ok:
        ensure_pending(h, now)
    else:
        with pytest.raises(TransferNotPending):
            ensure_pending(h, now)


def test_release_and_reversal():
    assert release(hold())["w"] == Balance(debits_pending=-119)
    with pytest.raises(NotReversible):
        reversal_legs(hold())
    posted = hold(TransferStatus.POSTED, is_hold=False)
    assert reversal_legs(posted) == (Leg("rev", "w", 100, "EUR"), Leg("vat", "w", 19, "EUR"))


def test_statement_closing_adds_the_lines_to_the_opening():
    s = Statement("w", NOW, NOW, Balance(1, 2, 3, 4), (StatementLine("a", NOW, 10, 0), StatementLine("b", NOW, 0, 5)))
    assert s.closing == Balance(11, 7, 3, 4)
