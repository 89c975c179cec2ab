"""Reading a raw usage message of the common shape in C (msgspec), with pydantic's core for everything else.

`RAW_USAGE_ROW.validate_json` was the largest single cost of the edge on the Kafka path (about 2 us of its 12 an
event, session 13). Most messages are plain: the fields of `RawUsageRow`, strings of the documented patterns, an
RFC 3339 timestamp with its zone and an object of properties. For those, msgspec checks the types in one pass, one
regular expression checks all ids at once, and the timestamp is parsed by the standard library from a strict form on
which it and pydantic agree. Anything else (a missing or extra field, another type, another timestamp form, NaN, a
number out of range, a bad id) returns None and is read by `RAW_USAGE_ROW`, which accepts it or explains what it
refuses. So this module can only narrow the work, never what is accepted; a property test holds it to that.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import msgspec

from services.interface_layer.app.ingest_usage import UsageIn

_ID = r"[A-Za-z0-9._:\-]{1,200}"  # schemas.ID_PATTERN, anchored by fullmatch (Python's $ would allow a final newline)
# RFC 3339 with a zone, seconds and at most microseconds: here datetime.fromisoformat and pydantic read the same instant
_TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)"
# event id, customer, metric (MetricCode), tenant and timestamp, checked in one match
_FIELDS = re.compile(rf"{_ID}\x00{_ID}\x00[a-z0-9_.\-]{{1,100}}\x00{_ID}\x00{_TIMESTAMP}")
_SUBSCRIPTION = re.compile(_ID)


class _RawUsage(msgspec.Struct, forbid_unknown_fields=True):
    event_id: str
    customer: str
    metric: str
    timestamp: str
    tenant_id: str
    properties: dict[str, Any] = {}
    subscription: str | None = None


_DECODER = msgspec.json.Decoder(_RawUsage)


def read_common(raw: bytes) -> tuple[str, UsageIn] | None:
    """The tenant and event as `RAW_USAGE_ROW` would read them (the same values), or None to let it decide."""
    try:
        msg = _DECODER.decode(raw)
    except msgspec.DecodeError:
        return None
    properties = msg.properties
    if (not _FIELDS.fullmatch(f"{msg.event_id}\x00{msg.customer}\x00{msg.metric}\x00{msg.tenant_id}\x00{msg.timestamp}")
            or (msg.subscription is not None and not _SUBSCRIPTION.fullmatch(msg.subscription))
            or (properties and ("" in properties or max(map(len, properties)) > 100))):  # PropertyName
        return None
    try:
        timestamp = datetime.fromisoformat(msg.timestamp)
    except ValueError:  # a date or time out of range: pydantic explains it
        return None
    return msg.tenant_id, UsageIn(msg.event_id, msg.customer, msg.metric, timestamp, properties, msg.subscription)
