"""The ledger contract, run on SQLite and PostgreSQL: atomic balanced transfers, idempotency, holds, overdraft, reversal."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from services.payment_factory.domain.ledger import Leg, TransferRequest, TransferStatus
from services.payment_factory.domain.ledger_accounts import AccountFlags, AccountPurpose, AccountSpec, Balance
from services.payment_factory.domain.ledger_errors import (AmountExceedsHold, CurrencyMismatch, IdempotencyConflict, InsufficientFunds,
                                                           NotReversible, TransferNotPending, UnknownAccount, UnknownTransfer)

T = "tenant-a"
P = AccountPurpose


def open_(ledger, conn, code, purpose, currency="EUR", tenant=T, **kw):
    return ledger.open_account(conn, tenant, AccountSpec(code, purpose, currency, **kw)).id


@pytest.fixture
def books(engine, ledger):
    """A funded wallet (500) and the accounts around it."""
    with engine.begin() as conn:
        ids = {
            "bank": open_(ledger, conn, "bank", P.BANK),
            "recv": open_(ledger, conn, "recv:c1", P.CUSTOMER_RECEIVABLE, owner_type="customer", owner_id="c1"),
            "rev": open_(ledger, conn, "revenue", P.REVENUE),
            "vat": open_(ledger, conn, "vat", P.TAX_PAYABLE),
            "wallet": open_(ledger, conn, "wallet:c1", P.PREPAID_WALLET, owner_type="customer", owner_id="c1"),
            "usd": open_(ledger, conn, "bank-usd", P.BANK, "USD"),
        }
        ledger.transfer(conn, T, TransferRequest("topup-1", [Leg(ids["bank"], ids["wallet"], 500, "EUR")]))
    return ids


def count_transfers(conn, ledger):
    return conn.execute(select(func.count()).select_from(ledger.t.transfers)).scalar_one()


class TestAccounts:
    def test_open_is_idempotent_by_code_and_refuses_other_terms(self, engine, ledger):
        with engine.begin() as conn:
            first = ledger.open_account(conn, T, AccountSpec("w", P.PREPAID_WALLET, "EUR"))
            assert ledger.open_account(conn, T, AccountSpec("w", P.PREPAID_WALLET, "EUR")) == first
            assert first.flags == AccountFlags(debits_must_not_exceed_credits=True)
            with pytest.raises(CurrencyMismatch):
                ledger.open_account(conn, T, AccountSpec("w", P.PREPAID_WALLET, "USD"))
            with pytest.raises(IdempotencyConflict):
                ledger.open_account(conn, T, AccountSpec("w", P.REVENUE, "EUR"))
            other = ledger.open_account(conn, "tenant-b", AccountSpec("w", P.PREPAID_WALLET, "EUR"))
            assert other.id != first.id

    def test_a_foreign_tenants_account_is_unknown(self, engine, ledger, books):
        with engine.begin() as conn:
            with pytest.raises(UnknownAccount):
                ledger.balance(conn, "tenant-b", books["wallet"])
            with pytest.raises(UnknownAccount):
                ledger.transfer(conn, "tenant-b", TransferRequest("x", [Leg(books["bank"], books["rev"], 1, "EUR")]))


class TestTransfers:
    def test_multi_leg_invoice_posts_and_balances(self, engine, ledger, books):
        with engine.begin() as conn:
            t = ledger.transfer(conn, T, TransferRequest("inv-1", [Leg(books["recv"], books["rev"], 10000, "EUR"),
                                                                   Leg(books["recv"], books["vat"], 1900, "EUR")], {"invoice": "R-1"}))
            assert t.status is TransferStatus.POSTED and not t.replayed
            assert ledger.balance(conn, T, books["recv"]).posted(P.CUSTOMER_RECEIVABLE.normal_side) == 11900
            assert ledger.balance(conn, T, books["vat"]).posted(P.TAX_PAYABLE.normal_side) == 1900
            assert ledger.get_transfer(conn, T, t.id).legs == t.legs
            assert ledger.check_invariants(conn, T) == []

    def test_a_failing_leg_rolls_back_every_leg(self, engine, ledger, books):
        legs = [Leg(books["recv"], books["rev"], 100, "EUR"), Leg(books["wallet"], books["rev"], 501, "EUR")]
        with pytest.raises(InsufficientFunds) as refused:
            with engine.begin() as conn:
                ledger.transfer(conn, T, TransferRequest("big", legs))
        assert (refused.value.account_id, refused.value.available, refused.value.requested) == (books["wallet"], 500, 501)
        with engine.begin() as conn:
            # refused before any write: even a caller that swallows the error and commits keeps no partial transfer
            with pytest.raises(InsufficientFunds):
                ledger.transfer(conn, T, TransferRequest("big", legs))
        with engine.connect() as conn:
            assert ledger.balance(conn, T, books["recv"]) == Balance()
            assert ledger.balance(conn, T, books["rev"]) == Balance()
            assert count_transfers(conn, ledger) == 1
            assert ledger.check_invariants(conn, T) == []

    def test_a_leg_in_another_currency_than_its_account_is_refused(self, engine, ledger, books):
        with engine.begin() as conn:
            with pytest.raises(CurrencyMismatch):
                ledger.transfer(conn, T, TransferRequest("fx", [Leg(books["usd"], books["rev"], 5, "USD")]))
            with pytest.raises(UnknownAccount):
                ledger.transfer(conn, T, TransferRequest("ghost", [Leg("acc_nope", books["rev"], 5, "EUR")]))
            assert count_transfers(conn, ledger) == 1

    def test_overdraft_is_refused_exactly_at_the_limit(self, engine, ledger, books):
        with engine.begin() as conn:
            ledger.transfer(conn, T, TransferRequest("spend-1", [Leg(books["wallet"], books["rev"], 500, "EUR")]))
            with pytest.raises(InsufficientFunds):
                ledger.transfer(conn, T, TransferRequest("spend-2", [Leg(books["wallet"], books["rev"], 1, "EUR")]))
            assert ledger.balance(conn, T, books["wallet"]).available(P.PREPAID_WALLET.normal_side) == 0

    def test_the_check_constraint_stops_what_bypasses_the_adapter(self, engine, ledger, books):
        a = ledger.t.accounts
        with pytest.raises(IntegrityError):
            with engine.begin() as conn:
                conn.execute(a.update().where(a.c.id == books["wallet"]).values(debits_posted=a.c.credits_posted + 1))
        with pytest.raises(IntegrityError):
            with engine.begin() as conn:
                conn.execute(ledger.t.entries.insert().values(
                    transfer_id=ledger.get_transfer(conn, T, _first_id(conn, ledger)).id, leg=9, direction="D", tenant_id=T,
                    account_id=books["usd"], currency="EUR", amount=1, phase="posted", created_at=datetime.now(timezone.utc)))

    def test_invariants_notice_tampering(self, engine, ledger, books):
        a = ledger.t.accounts
        with engine.begin() as conn:
            conn.execute(a.update().where(a.c.id == books["bank"]).values(debits_posted=a.c.debits_posted + 7))
            problems = ledger.check_invariants(conn, T)
        assert any("EUR" in p for p in problems) and any("account bank" in p for p in problems)


def _first_id(conn, ledger):
    return conn.execute(select(ledger.t.transfers.c.id).limit(1)).scalar_one()


class TestIdempotency:
    def test_same_key_same_body_returns_the_original(self, engine, ledger, books):
        req = TransferRequest("pay-1", [Leg(books["bank"], books["recv"], 300, "EUR")], {"ref": "x"})
        with engine.begin() as conn:
            first = ledger.transfer(conn, T, req)
        with engine.begin() as conn:
            again = ledger.transfer(conn, T, req)
            assert again.id == first.id and again.replayed
            assert ledger.balance(conn, T, books["recv"]).credits_posted == 300

    @pytest.mark.parametrize("change", ["amount", "metadata", "account"])
    def test_same_key_different_body_conflicts(self, engine, ledger, books, change):
        with engine.begin() as conn:
            ledger.transfer(conn, T, TransferRequest("pay-1", [Leg(books["bank"], books["recv"], 300, "EUR")], {"ref": "x"}))
        other = {"amount": TransferRequest("pay-1", [Leg(books["bank"], books["recv"], 301, "EUR")], {"ref": "x"}),
                 "metadata": TransferRequest("pay-1", [Leg(books["bank"], books["recv"], 300, "EUR")], {"ref": "y"}),
                 "account": TransferRequest("pay-1", [Leg(books["bank"], books["rev"], 300, "EUR")], {"ref": "x"})}[change]
        with engine.begin() as conn:
            with pytest.raises(IdempotencyConflict):
                ledger.transfer(conn, T, other)
            assert ledger.balance(conn, T, books["recv"]).credits_posted == 300


class TestHolds:
    def hold(self, ledger, conn, books, key, amount, expires_at=None):
        return ledger.hold(conn, T, TransferRequest(key, [Leg(books["wallet"], books["rev"], amount, "EUR")], pending=True,
                                                   expires_at=expires_at))

    def test_a_hold_reserves_and_a_partial_post_settles(self, engine, ledger, books):
        with engine.begin() as conn:
            h = self.hold(ledger, conn, books, "auth-1", 300)
            assert ledger.balance(conn, T, books["wallet"]) == Balance(0, 500, 300, 0)
            with pytest.raises(InsufficientFunds):
                self.hold(ledger, conn, books, "auth-2", 201)
            with pytest.raises(AmountExceedsHold):
                ledger.post_pending(conn, T, h.id, "cap-1", [301])
            post = ledger.post_pending(conn, T, h.id, "cap-1", [120])
            assert post.pending_id == h.id and post.legs[0].amount_minor == 120
            assert ledger.post_pending(conn, T, h.id, "cap-1", [120]).id == post.id
            with pytest.raises(TransferNotPending):
                ledger.post_pending(conn, T, h.id, "cap-2", [10])
            with pytest.raises(TransferNotPending):
                ledger.void_pending(conn, T, h.id)
            assert ledger.get_transfer(conn, T, h.id).status is TransferStatus.POSTED
            assert ledger.balance(conn, T, books["wallet"]) == Balance(120, 500, 0, 0)
            assert ledger.balance(conn, T, books["rev"]) == Balance(0, 120, 0, 0)
            assert ledger.check_invariants(conn, T) == []

    def test_void_releases_and_is_repeatable(self, engine, ledger, books):
        with engine.begin() as conn:
            h = self.hold(ledger, conn, books, "auth-1", 500)
            assert ledger.void_pending(conn, T, h.id).status is TransferStatus.VOIDED
            assert ledger.void_pending(conn, T, h.id).status is TransferStatus.VOIDED
            assert ledger.balance(conn, T, books["wallet"]) == Balance(0, 500, 0, 0)
            with pytest.raises(TransferNotPending):
                ledger.post_pending(conn, T, h.id, "cap-1")
            assert ledger.check_invariants(conn, T) == []

    def test_expiry_releases_only_lapsed_holds(self, engine, ledger, books, clock):
        later = clock.now() + timedelta(minutes=10)
        with engine.begin() as conn:
            lapsing = self.hold(ledger, conn, books, "auth-1", 200, expires_at=later)
            lasting = self.hold(ledger, conn, books, "auth-2", 100)
            assert ledger.expire_pending(conn, T, later - timedelta(seconds=1)) == []
            clock.advance(minutes=10)
            with pytest.raises(TransferNotPending):
                ledger.post_pending(conn, T, lapsing.id, "cap-1")
            assert ledger.expire_pending(conn, T, later) == [lapsing.id]
            assert ledger.expire_pending(conn, T, later) == []
            assert ledger.get_transfer(conn, T, lapsing.id).status is TransferStatus.EXPIRED
            assert ledger.balance(conn, T, books["wallet"]) == Balance(0, 500, 100, 0)
            ledger.post_pending(conn, T, lasting.id, "cap-2")
            assert ledger.balance(conn, T, books["wallet"]) == Balance(100, 500, 0, 0)
            assert ledger.check_invariants(conn, T) == []

    def test_posting_an_unknown_or_foreign_hold_is_unknown(self, engine, ledger, books):
        with engine.begin() as conn:
            h = self.hold(ledger, conn, books, "auth-1", 10)
            with pytest.raises(UnknownTransfer):
                ledger.post_pending(conn, "tenant-b", h.id, "cap-1")


class TestReversal:
    def test_reversal_swaps_the_legs_once(self, engine, ledger, books):
        with engine.begin() as conn:
            inv = ledger.transfer(conn, T, TransferRequest("inv-1", [Leg(books["recv"], books["rev"], 1000, "EUR"),
                                                                     Leg(books["recv"], books["vat"], 190, "EUR")]))
            storno = ledger.reverse(conn, T, inv.id, "storno-1", {"reason": "credit note"})
            assert storno.reverses == inv.id and storno.legs == tuple(l.swapped() for l in inv.legs)
            assert ledger.reverse(conn, T, inv.id, "storno-1", {"reason": "credit note"}).id == storno.id
            with pytest.raises(NotReversible):
                ledger.reverse(conn, T, inv.id, "storno-2")
            b = ledger.balance(conn, T, books["recv"])
            assert (b.debits_posted, b.credits_posted) == (1190, 1190)
            assert ledger.check_invariants(conn, T) == []

    def test_a_hold_is_not_reversed_and_a_spent_top_up_cannot_be(self, engine, ledger, books):
        with engine.begin() as conn:
            h = ledger.hold(conn, T, TransferRequest("auth-1", [Leg(books["wallet"], books["rev"], 50, "EUR")], pending=True))
            with pytest.raises(NotReversible):
                ledger.reverse(conn, T, h.id, "r-1")
            top_up = ledger.transfer(conn, T, TransferRequest("topup-1", [Leg(books["bank"], books["wallet"], 500, "EUR")]))
            with pytest.raises(InsufficientFunds):
                ledger.reverse(conn, T, top_up.id, "r-2")


class TestStatement:
    def test_statement_shows_the_range_after_its_opening_totals(self, engine, ledger, books, clock):
        start = clock.now() + timedelta(hours=1)
        with engine.begin() as conn:
            clock.advance(hours=1)
            ledger.transfer(conn, T, TransferRequest("spend-1", [Leg(books["wallet"], books["rev"], 40, "EUR"),
                                                                 Leg(books["wallet"], books["vat"], 8, "EUR")], {"usage": "u1"}))
            clock.advance(hours=1)
            ledger.transfer(conn, T, TransferRequest("topup-2", [Leg(books["bank"], books["wallet"], 100, "EUR")]))
            clock.advance(hours=1)
            ledger.transfer(conn, T, TransferRequest("spend-2", [Leg(books["wallet"], books["rev"], 1, "EUR")]))
            s = ledger.statement(conn, T, books["wallet"], start, start + timedelta(hours=2))
        assert s.opening == Balance(0, 500)
        assert [(l.debit, l.credit, dict(l.metadata)) for l in s.lines] == [(48, 0, {"usage": "u1"}), (0, 100, {})]
        assert s.closing == Balance(48, 600)
