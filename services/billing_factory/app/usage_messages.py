"""Reading UsageAccepted.v1 and UsageAcceptedBatch.v1 messages off the usage topic, fast for the common shape, strict for the rest.

Both usage consumers (recording and the raw log) read every event, tens of thousands a second, and the
pydantic envelope-then-body decode was a third of the billing factory's CPU. A message whose fields have
exactly the types the contract gives (strings, an ISO timestamp with a zone, an object of properties) is
read with orjson and a few type checks; anything else goes through `libs.contracts.decode`, which accepts
what the contract accepts and explains what it refuses. A test holds both readers to the same results.

A batch message of exactly the contract's types is decoded in C by msgspec (`_BATCH`: every type check in one pass,
a third of orjson's parse plus the checks in Python); where msgspec refuses anything the readers below decide as
before, so msgspec only ever narrows the work, never what is accepted.

The usage topic carries both shapes (`libs/contracts/usage_batch.py`): old single-event messages stay readable
while batch messages are written, so `read_usages` answers the events of either. A batch is read or refused whole:
the edge writes only validated events into it, so an unreadable one came from elsewhere and is dead-lettered as is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

import msgspec
import orjson
from pydantic import ValidationError

from libs.contracts import decode
from libs.contracts.events import UsageAccepted, UsageAcceptedBatch

TYPE = UsageAccepted.model_fields["TYPE"].default
BATCH_TYPE = UsageAcceptedBatch.model_fields["TYPE"].default


class UsageMessage(NamedTuple):  # a tuple: built at C speed, tens of thousands a second
    tenant_id: str
    event_id: str
    subscription_id: str
    customer_id: str
    metric_code: str
    timestamp: datetime
    properties: dict[str, Any]
    payload_hash: str


class UnreadableUsage(ValueError):
    """Not a UsageAccepted.v1 message; the reason goes to the dead-letter record."""


class _Event(msgspec.Struct, forbid_unknown_fields=True):
    """A UsageAccepted.v1 body with exactly the seven fields of exactly the types `_common_timestamp` checks (the
    timestamp as its text, parsed afterwards as there)."""

    event_id: str
    subscription_id: str
    customer_id: str
    metric_code: str
    timestamp: str
    properties: dict[str, Any]
    payload_hash: str


class _Events(msgspec.Struct, forbid_unknown_fields=True):
    events: list[_Event]


class _Batch(msgspec.Struct):  # the envelope's other fields are not read, as in `_batch_bodies`
    type: str
    tenant_id: str
    body: _Events


_BATCH = msgspec.json.Decoder(_Batch)
_ENCODE = msgspec.json.Encoder().encode


def _decoded_batch(raw: bytes) -> tuple[str, list[_Event], list[datetime]] | None:
    """The tenant, events and timestamps of a batch message of the common shape (every timestamp with a zone), or None."""
    try:
        batch = _BATCH.decode(raw)
        if batch.type != BATCH_TYPE:
            return None
        times = [datetime.fromisoformat(e.timestamp) for e in batch.body.events]
    except (msgspec.DecodeError, ValueError):  # not JSON, another shape or other types: the readers below decide
        return None
    if any(ts.tzinfo is None for ts in times):
        return None
    return batch.tenant_id, batch.body.events, times


class LoggedMessage(NamedTuple):
    """What the raw log keeps of one usage message: its events as UsageAccepted.v1 bodies in their wire form."""

    tenant_id: str
    events_json: bytes  # a JSON array of the bodies, each timestamp the text sent
    event_ids: list[str]
    subscription_ids: set[str]


def read_for_log(raw: bytes) -> LoggedMessage:
    """A usage message as the raw log stores it, accepted and refused exactly as `read_usages` does.

    The common batch shape is re-encoded from msgspec's decode, which writes the same values back (the timestamp is
    kept as text); anything else is read as `read_usage_bodies` reads it."""
    decoded = _decoded_batch(raw)
    if decoded is not None:
        tenant_id, events, _times = decoded
        return LoggedMessage(tenant_id, _ENCODE(events), [e.event_id for e in events], {e.subscription_id for e in events})
    tenant_id, bodies = read_usage_bodies(raw)
    return LoggedMessage(tenant_id, orjson.dumps(bodies), [b["event_id"] for b in bodies], {b["subscription_id"] for b in bodies})


def read_usage(raw: bytes) -> UsageMessage:
    """One UsageAccepted.v1 message (a batch message is refused: use `read_usages` where both may come)."""
    fast = _read_common_shape(raw)
    return fast if fast is not None else _read_strictly(raw)


def read_usages(raw: bytes) -> list[UsageMessage]:
    """The events of a UsageAccepted.v1 or a UsageAcceptedBatch.v1 message, in message order."""
    decoded = _decoded_batch(raw)
    if decoded is not None:
        tenant_id, events, times = decoded
        return [UsageMessage(tenant_id, e.event_id, e.subscription_id, e.customer_id, e.metric_code, ts, e.properties, e.payload_hash)
                for e, ts in zip(events, times)]
    return _read_usages_parsed(raw)


def _read_usages_parsed(raw: bytes) -> list[UsageMessage]:
    """`read_usages` without msgspec: orjson's parse and checks in Python, or the strict reader."""
    try:
        env = orjson.loads(raw)
    except orjson.JSONDecodeError:
        env = None
    if type(env) is dict and env.get("type") == BATCH_TYPE:
        fast = _read_batch_shape(env)
        return fast if fast is not None else _read_batch_strictly(raw)
    fast = _read_common_shape(raw, env) if env is not None else None
    return [fast if fast is not None else _read_strictly(raw)]


def _read_batch_shape(env: dict) -> list[UsageMessage] | None:
    tenant_id, events = _batch_bodies(env)
    if events is None:
        return None
    read = []
    for event in events:
        one = _event(tenant_id, event)
        if one is None:
            return None
        read.append(one)
    return read


def read_usage_bodies(raw: bytes) -> tuple[str, list[dict[str, Any]]]:
    """The tenant and the events of a usage message as UsageAccepted.v1 bodies in their wire form (the timestamp as
    the ISO text sent), accepted and refused exactly as `read_usages` does.

    For the raw log, which stores what arrived: building a tuple and a datetime per event and then a dict again with
    the timestamp written back as text was most of the log writer's CPU. A batch of the common shape hands its
    parsed bodies over as they are; any other message is read strictly and written back in the wire form."""
    try:
        env = orjson.loads(raw)
    except orjson.JSONDecodeError:
        env = None
    if type(env) is dict and env.get("type") == BATCH_TYPE:
        tenant_id, events = _batch_bodies(env)
        if events is not None and all(_common_timestamp(tenant_id, event) is not None for event in events):
            return tenant_id, events
    read = _read_usages_parsed(raw)  # read_for_log calls this only once msgspec refused the message
    return read[0].tenant_id, [{"event_id": m.event_id, "subscription_id": m.subscription_id, "customer_id": m.customer_id,
                                "metric_code": m.metric_code, "timestamp": m.timestamp.isoformat(), "properties": m.properties,
                                "payload_hash": m.payload_hash} for m in read]


def _batch_bodies(env: dict) -> tuple[Any, list | None]:
    """The envelope's tenant and its body's event list, or None for the list when the body is not `{"events": [...]}`."""
    body, tenant_id = env.get("body"), env.get("tenant_id")
    if type(body) is not dict or len(body) != 1 or type(body.get("events")) is not list or type(tenant_id) is not str:
        return tenant_id, None
    return tenant_id, body["events"]


def _read_batch_strictly(raw: bytes) -> list[UsageMessage]:
    try:
        env, body = decode(raw)
    except (ValidationError, KeyError, ValueError) as exc:
        raise UnreadableUsage(str(exc)[:500]) from None
    return [UsageMessage(env.tenant_id, e.event_id, e.subscription_id, e.customer_id, e.metric_code, e.timestamp, e.properties, e.payload_hash)
            for e in body.events]


def _read_common_shape(raw: bytes, env: Any = None) -> UsageMessage | None:
    try:
        if env is None:
            env = orjson.loads(raw)
        if env["type"] != TYPE:
            return None
        return _event(env["tenant_id"], env["body"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None


def _event(tenant_id: Any, body: Any) -> UsageMessage | None:
    """A UsageAccepted.v1 body of exactly the contract's types, or None (then the strict reader decides)."""
    ts = _common_timestamp(tenant_id, body)
    if ts is None:
        return None
    return UsageMessage(tenant_id, body["event_id"], body["subscription_id"], body["customer_id"], body["metric_code"], ts,
                        body["properties"], body["payload_hash"])


def _common_timestamp(tenant_id: Any, body: Any) -> datetime | None:
    """The timestamp of a UsageAccepted.v1 body of exactly the contract's types, or None when it is not one."""
    try:
        if (type(body) is not dict or len(body) != 7 or type(tenant_id) is not str or type(body["event_id"]) is not str
                or type(body["subscription_id"]) is not str or type(body["customer_id"]) is not str
                or type(body["metric_code"]) is not str or type(body["payload_hash"]) is not str
                or type(body["properties"]) is not dict or type(body["timestamp"]) is not str):
            return None
        ts = datetime.fromisoformat(body["timestamp"])
    except (KeyError, ValueError):
        return None
    return ts if ts.tzinfo is not None else None


def _read_strictly(raw: bytes) -> UsageMessage:
    try:
        env, body = decode(raw)
    except (ValidationError, KeyError, ValueError) as exc:
        raise UnreadableUsage(str(exc)[:500]) from None
    if not isinstance(body, UsageAccepted):
        raise UnreadableUsage(f"unexpected {env.type} on the usage topic")
    return UsageMessage(env.tenant_id, body.event_id, body.subscription_id, body.customer_id, body.metric_code, body.timestamp,
                        body.properties, body.payload_hash)
