"""Typed errors of the billing use cases; HTTP maps them once."""


class NotFound(Exception):
    def __init__(self, what: str, ident: str):
        super().__init__(f"{what} {ident!r} not found")
        self.what, self.ident = what, ident


class Conflict(Exception):
    """A unique business key is taken (e.g. a customer's external id)."""


class Invalid(Exception):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason
