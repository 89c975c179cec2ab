"""Typed domain errors of rating, so callers can map each kind to a problem once.

Every error names the offending field with a path into the input
(`charges[2].price.tiers[1].up_to`), which the HTTP layer can hand back as is.
"""

from __future__ import annotations


class RatingError(Exception):
    """Base of everything the rating domain refuses."""


class InvalidField(RatingError, ValueError):
    """A value breaks a rule; `field` is the path to it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    def under(self, prefix: str) -> InvalidField:
        """The same error seen from an enclosing object, e.g. `charges[2]` + `price.tiers[1].up_to`."""
        return type(self)(f"{prefix}.{self.field}" if self.field else prefix, self.reason)


class InvalidPlan(InvalidField):
    """A plan definition breaks a rule."""


class InvalidSubscription(InvalidField):
    """What a subscription brings to a period (pauses, coupons, credits, one-time items) breaks a rule."""


class InvalidUsage(RatingError, ValueError):
    """A usage event cannot be rated, e.g. a property that is not a number."""

    def __init__(self, event_id: str, field: str, reason: str) -> None:
        super().__init__(f"event {event_id}: {field}: {reason}")
        self.event_id = event_id
        self.field = field
        self.reason = reason


class UsageNotRateable(RatingError, ValueError):
    """The usage given is too coarse for a charge: e.g. totals where per-transaction events are needed."""

    def __init__(self, charge_code: str, reason: str) -> None:
        super().__init__(f"charge {charge_code}: {reason}")
        self.charge_code = charge_code
        self.reason = reason
