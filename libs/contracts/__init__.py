"""Versioned message contracts shared by the services.

Every message on the bus is an `Envelope` whose `type` names a contract and its
version (e.g. ``UsageAccepted.v1``). A contract is never changed in place: a
breaking change is a new version, and consumers accept the versions they know.
"""

from libs.contracts.envelope import Envelope, decode, decode_batch, encode, encode_trusted, register
from libs.contracts import events, topics

__all__ = ["Envelope", "decode", "decode_batch", "encode", "encode_trusted", "register", "events", "topics"]
