"""Words the rating puts into line descriptions, per language.

Rating writes descriptions because a tier step or a cap needs words on the
invoice (see the layout users know: "Begrenzung auf Maximalpreis"). German is
the default; the invoice layer may still render from `kind` and `info`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Labels:
    tier: str = "Staffel"
    tier_from: str = "ab"
    tier_flat_fee: str = "Grundpreis"
    package_of: str = "je"
    free_units: str = "Freieinheiten"
    cap: str = "Begrenzung auf Maximalpreis"
    minimum: str = "Mindestumsatz"
    percent_of: str = "% von"
    fixed_per_transaction: str = "Fixentgelt je Transaktion"
    per_transaction_limits: str = "Mindest-/Höchstentgelt je Transaktion"
    days: str = "Tage"
    includes: str = "enthalten"
    total_of: str = "Summe"


GERMAN = Labels()
ENGLISH = Labels(
    tier="Tier", tier_from="from", tier_flat_fee="flat fee", package_of="per", free_units="free units",
    cap="capped at maximum price", minimum="minimum commitment", percent_of="% of",
    fixed_per_transaction="fixed fee per transaction", per_transaction_limits="minimum/maximum fee per transaction",
    days="days", includes="included", total_of="total",
)
