"""Request and response bodies of the public edge."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

ID_PATTERN = r"^[A-Za-z0-9._:\-]{1,200}$"


class UsageEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(pattern=ID_PATTERN, description="Idempotency key: unique per tenant")
    customer: str = Field(pattern=ID_PATTERN, description="The customer's external id")
    metric: str = Field(pattern=r"^[a-z0-9_.\-]{1,100}$", description="Billable metric code")
    timestamp: datetime
    properties: dict[str, Any] = Field(default_factory=dict)
    subscription: str | None = Field(default=None, pattern=ID_PATTERN, description="Optional: the subscription, when a customer has several")

    @field_validator("properties")
    @classmethod
    def _keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not key or len(key) > 100:
                raise ValueError("property names are 1 to 100 characters")
        return value


class UsageBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[UsageEventIn] = Field(min_length=1, max_length=1000)


class RawUsageIn(UsageEventIn):
    """A message on the raw usage topic: an event plus the tenant it belongs to."""

    tenant_id: str = Field(pattern=ID_PATTERN)


class UsageAcceptedOut(BaseModel):
    accepted: int


class TenantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class TenantOut(BaseModel):
    id: str
    name: str
    parent_id: str | None


class TenantCreatedOut(TenantOut):
    api_key: str = Field(description="Shown once; store it safely")


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class ApiKeyCreatedOut(BaseModel):
    id: str
    api_key: str


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
