"""Request and response bodies of the public edge."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, field_validator
from typing_extensions import NotRequired, TypedDict

ID_PATTERN = r"^[A-Za-z0-9._:\-]{1,200}$"
PropertyName = Annotated[str, StringConstraints(min_length=1, max_length=100)]  # checked in pydantic's core, not per event in Python


EventId = Annotated[str, Field(pattern=ID_PATTERN, description="Idempotency key: unique per tenant")]
CustomerRef = Annotated[str, Field(pattern=ID_PATTERN, description="The customer's external id")]
MetricCode = Annotated[str, Field(pattern=r"^[a-z0-9_.\-]{1,100}$", description="Billable metric code")]
SubscriptionRef = Annotated[str, Field(pattern=ID_PATTERN)]
SUBSCRIPTION_DOC = "Optional: the subscription, when a customer has several"
Properties = dict[PropertyName, Any]
BatchSize = Field(min_length=1, max_length=1000)


class UsageEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: EventId
    customer: CustomerRef
    metric: MetricCode
    timestamp: datetime
    properties: Properties = Field(default_factory=dict)
    subscription: SubscriptionRef | None = Field(default=None, description=SUBSCRIPTION_DOC)


class UsageBatchIn(BaseModel):  # the batch body as documented; the route validates it with USAGE_BATCH_ROWS (same rules)
    model_config = ConfigDict(extra="forbid")
    events: list[UsageEventIn] = BatchSize


class UsageEventRow(TypedDict):
    """UsageEventIn's rules, validated into a dict: pydantic's core builds no model object per event (the busiest route
    spent two thirds of its validation time on those). A unit test holds both to the same answers and errors."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    event_id: EventId
    customer: CustomerRef
    metric: MetricCode
    timestamp: datetime
    properties: NotRequired[Properties]
    subscription: NotRequired[Annotated[SubscriptionRef | None, Field(description=SUBSCRIPTION_DOC)]]


class UsageBatchRows(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    events: Annotated[list[UsageEventRow], BatchSize]


USAGE_BATCH_ROWS = TypeAdapter(UsageBatchRows)


def batch_errors(exc: ValidationError) -> list[dict]:
    """USAGE_BATCH_ROWS's errors as UsageBatchIn reports them: where the batch or an event is not an object, the model
    says `model_type` and the dict `dict_type` (same message); the error codes are part of the problem response."""
    return [{**e, "type": "model_type"} if e["type"] == "dict_type" and len(e["loc"]) <= 2 else e for e in exc.errors()]


def _batch_body() -> dict:
    schema = UsageBatchIn.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)  # UsageEventIn is a component already (POST /v1/usage)
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


USAGE_BATCH_BODY = _batch_body()  # documents the body the batch route parses itself


class RawUsageIn(UsageEventIn):
    """A message on the raw usage topic: an event plus the tenant it belongs to."""

    tenant_id: str = Field(pattern=ID_PATTERN)


class RawUsageRow(UsageEventRow):
    """RawUsageIn's rules into a dict (see UsageEventRow): what the raw consumer reads each message with."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    tenant_id: Annotated[str, Field(pattern=ID_PATTERN)]


RAW_USAGE_ROW = TypeAdapter(RawUsageRow)


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
    partner_id: str | None = Field(default=None, max_length=64, description=(
        "Issue the key to one of your partners: it can only read that partner's statements (and their 389 documents), "
        "payouts and payable account; everything else answers 403"))


class WebhookEndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2000, pattern=r"^https?://[^\s/]+(/\S*)?$", description="receives a signed POST per event")
    event_types: list[str] = Field(min_length=1, max_length=20, description='event types, or ["*"] for all public ones')

    @field_validator("event_types")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        from services.interface_layer.app.webhooks import PUBLIC_EVENTS

        unknown = sorted(set(v) - set(PUBLIC_EVENTS) - {"*"})
        if unknown:
            raise ValueError(f"unknown event types {unknown}; known: {list(PUBLIC_EVENTS)}")
        return sorted(set(v))


class WebhookEndpointOut(BaseModel):
    id: str
    url: str
    event_types: list[str]
    created_at: datetime


class WebhookEndpointCreatedOut(WebhookEndpointOut):
    secret: str = Field(description="shown once: verify Cloudbill-Signature (t=..,v1=HMAC-SHA256 of 't.body') with it")


class WebhookDeliveryOut(BaseModel):
    id: str
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class ApiKeyCreatedOut(BaseModel):
    id: str
    api_key: str


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    partner_id: str | None = None
    created_at: datetime
    revoked_at: datetime | None
