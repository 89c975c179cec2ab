"""How amounts and decimals are written in e-invoice XML (CII and UBL alike): plain, no exponent."""

from decimal import Decimal

from libs.money import Money


def amount_text(m: Money) -> str:
    """An amount with at least two decimals (EN 16931 amounts), more only where the currency has them."""
    return f"{m.amount:.{max(2, -m.amount.as_tuple().exponent)}f}"


def decimal_text(d: Decimal | int) -> str:
    d = Decimal(d)
    return format(d.normalize(), "f") if d != d.to_integral_value() else str(int(d))
