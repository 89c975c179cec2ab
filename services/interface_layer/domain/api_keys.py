"""API keys: shown once, stored as a SHA-256 hash, looked up by a public prefix.

Keys carry 256 random bits, so a fast hash is enough (no password stretching):
guessing is hopeless and lookups stay cheap on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

KEY_PREFIX = "cb_"


@dataclass(frozen=True)
class IssuedKey:
    prefix: str
    secret: str
    hash: str

    @property
    def token(self) -> str:
        return f"{KEY_PREFIX}{self.prefix}_{self.secret}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key() -> IssuedKey:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return IssuedKey(prefix, secret, hash_secret(secret))


def parse_token(token: str) -> tuple[str, str] | None:
    """Split a presented token into (prefix, secret), or None when it is not shaped like our keys."""
    if not token.startswith(KEY_PREFIX):
        return None
    prefix, sep, secret = token[len(KEY_PREFIX):].partition("_")
    if not sep or not prefix or not secret:
        return None
    return prefix, secret


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
