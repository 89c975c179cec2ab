"""Use cases for tenants, sub-tenants and API keys."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from sqlalchemy import Engine, select, update

from libs.ids import new_id
from services.interface_layer.adapters.tables import api_keys, tenants
from services.interface_layer.app.ttl_cache import TtlCache
from services.interface_layer.domain.api_keys import issue_key, parse_token, secret_matches


class UnknownTenant(Exception):
    pass


class NotAuthenticated(Exception):
    pass


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    parent_id: str | None
    partner_id: str | None = None  # set when the caller is a partner of the tenant, not the tenant itself


@dataclass(frozen=True)
class NewTenant:
    tenant: Tenant
    api_key: str


@dataclass(frozen=True)
class _Verified:
    key_id: str
    key_hash: str
    tenant: Tenant


_EVERY_KEY = "every key"  # the one scope: a lookup reads the generation before it knows the key's tenant or id


class KeyCache:
    """Verified API keys of this process, for `ttl` seconds, so a request needs no database round trip to authenticate.

    What is kept is what the database said (key id, hash, tenant), never the secret: each request still compares its
    secret with the stored hash in constant time. Unknown and revoked keys are not kept. Revoking a key in this process
    drops it at once; another process (another edge replica) keeps accepting it until its entry expires, at most `ttl`
    seconds after the revocation committed. A lookup that read the database before a revocation in this process can
    never store its (stale) answer afterwards: each revocation bumps a generation, and answers read under an older
    generation are not stored. `ttl` 0 turns the cache off. The mechanism is `ttl_cache.TtlCache`, with one scope.
    """

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic, max_entries: int = 10_000):
        self._cache: TtlCache[_Verified] = TtlCache(ttl, max_entries, clock)  # by public prefix

    def get(self, prefix: str) -> _Verified | None:
        return self._cache.get(_EVERY_KEY, prefix)

    def generation(self) -> int:
        return self._cache.generation(_EVERY_KEY)

    def put(self, prefix: str, key_id: str, key_hash: str, tenant: Tenant, generation: int) -> None:
        # not kept when a key was revoked while this answer was read: it may be that key
        self._cache.put(_EVERY_KEY, prefix, _Verified(key_id, key_hash, tenant), generation)

    def drop_key(self, key_id: str) -> None:
        self._cache.invalidate(_EVERY_KEY, where=lambda verified: verified.key_id == key_id)


class Tenancy:
    def __init__(self, engine: Engine, key_cache: KeyCache | None = None):
        self._engine = engine
        self.key_cache = key_cache or KeyCache(0)

    def create_tenant(self, name: str, parent_id: str | None = None, tenant_id: str | None = None) -> NewTenant:
        """A tenant and its first API key, in one transaction. The key is shown only now."""
        now = datetime.now(timezone.utc)
        tid = tenant_id or new_id("ten")
        key = issue_key()
        with self._engine.begin() as conn:
            conn.execute(tenants.insert().values(id=tid, name=name, parent_id=parent_id, created_at=now))
            conn.execute(api_keys.insert().values(id=new_id("key"), tenant_id=tid, name="initial", prefix=key.prefix, key_hash=key.hash, created_at=now))
        return NewTenant(Tenant(tid, name, parent_id), key.token)

    def create_key(self, tenant_id: str, name: str, partner_id: str | None = None) -> tuple[str, str]:
        key = issue_key()
        kid = new_id("key")
        with self._engine.begin() as conn:
            conn.execute(api_keys.insert().values(id=kid, tenant_id=tenant_id, name=name, prefix=key.prefix, key_hash=key.hash,
                                                  created_at=datetime.now(timezone.utc), partner_id=partner_id))
        return kid, key.token

    def list_keys(self, tenant_id: str) -> list[dict]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(api_keys.c.id, api_keys.c.name, api_keys.c.prefix, api_keys.c.created_at, api_keys.c.revoked_at, api_keys.c.partner_id).where(api_keys.c.tenant_id == tenant_id))
            return [dict(r._mapping) for r in rows]

    def revoke_key(self, tenant_id: str, key_id: str) -> bool:
        self.key_cache.drop_key(key_id)  # before: a lookup reading the key from now on is not cached
        try:
            with self._engine.begin() as conn:
                result = conn.execute(
                    update(api_keys).where(api_keys.c.id == key_id, api_keys.c.tenant_id == tenant_id, api_keys.c.revoked_at.is_(None)).values(revoked_at=datetime.now(timezone.utc))
                )
                return result.rowcount == 1
        finally:
            self.key_cache.drop_key(key_id)  # and after the commit: refused at once in this process

    def authenticate_cached(self, token: str) -> Tenant | None:
        """The key's tenant from this process's cache (no I/O); None when the cache cannot answer. Wrong secrets raise."""
        parsed = parse_token(token)
        if parsed is None:
            raise NotAuthenticated("malformed API key")
        prefix, secret = parsed
        entry = self.key_cache.get(prefix)
        if entry is None:
            return None
        if not secret_matches(secret, entry.key_hash):
            raise NotAuthenticated("unknown or revoked API key")
        return entry.tenant

    def authenticate(self, token: str) -> Tenant:
        cached = self.authenticate_cached(token)
        if cached is not None:
            return cached
        prefix, secret = parse_token(token)  # type: ignore[misc]  (authenticate_cached refused malformed keys)
        generation = self.key_cache.generation()
        with self._engine.connect() as conn:
            row = conn.execute(
                select(api_keys.c.id.label("key_id"), api_keys.c.key_hash, api_keys.c.revoked_at, api_keys.c.partner_id, tenants.c.id,
                       tenants.c.name, tenants.c.parent_id)
                .join(tenants, tenants.c.id == api_keys.c.tenant_id)
                .where(api_keys.c.prefix == prefix)
            ).first()
        if row is None or row.revoked_at is not None or not secret_matches(secret, row.key_hash):
            raise NotAuthenticated("unknown or revoked API key")
        tenant = Tenant(row.id, row.name, row.parent_id, row.partner_id)
        self.key_cache.put(prefix, row.key_id, row.key_hash, tenant, generation)
        return tenant

    def get(self, tenant_id: str) -> Tenant | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(tenants).where(tenants.c.id == tenant_id)).first()
        return Tenant(row.id, row.name, row.parent_id) if row else None

    def children(self, tenant_id: str) -> list[Tenant]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(tenants).where(tenants.c.parent_id == tenant_id))
            return [Tenant(r.id, r.name, r.parent_id) for r in rows]

    def acting_tenant(self, authenticated: Tenant, requested_id: str | None) -> Tenant:
        """A key acts for its tenant, or for a descendant sub-tenant; anything else is unknown (404)."""
        if not requested_id or requested_id == authenticated.id:
            return authenticated
        if authenticated.partner_id:
            raise UnknownTenant(requested_id)  # a partner's key sees only its own data in its tenant
        current = self.get(requested_id)
        target = current
        while current is not None:
            if current.parent_id == authenticated.id:
                return target  # type: ignore[return-value]
            current = self.get(current.parent_id) if current.parent_id else None
        raise UnknownTenant(requested_id)
