"""What a validator reports: one failed XSD constraint or schematron assertion."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    source: str  # "xsd", or the rules file that raised it
    rule: str  # the failed-assert id (BR-CO-15, BR-DE-15, ...) or "XSD"
    flag: str  # fatal | error | warning | information
    text: str
    location: str = ""

    @property
    def is_error(self) -> bool:
        return self.flag not in ("warning", "information")
