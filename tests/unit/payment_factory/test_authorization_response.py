"""The authorization answer written directly is byte for byte what the response model would have written."""

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter

from services.payment_factory.entrypoints.prepaid_http import AuthorizationOut, authorization_response

ROW = {"id": "trf_1", "tenant_id": "t1", "customer_id": "cus_1", "currency": "EUR", "amount_minor": 501, "captured_minor": 0,
       "status": "open", "reference": "meter-7", "created_at": datetime(2026, 11, 23, 12, tzinfo=timezone.utc)}


@pytest.mark.parametrize("expires_at", [
    datetime(2026, 11, 23, 12, 15, tzinfo=timezone.utc),
    datetime(2026, 11, 23, 12, 15, 0, 123456, tzinfo=timezone.utc),
    datetime(2026, 11, 23, 13, 15, 0, 5, tzinfo=timezone(timedelta(hours=1))),  # a session zone other than UTC
])
@pytest.mark.parametrize("reference", ["meter-7", None, "Zähler \"Süd\" / 7"])
def test_direct_json_equals_the_response_models(expires_at, reference):
    row = {**ROW, "expires_at": expires_at, "reference": reference}
    by_model = TypeAdapter(AuthorizationOut).dump_json(AuthorizationOut.model_validate(row))
    response = authorization_response(row)
    assert response.body == by_model
    assert (response.status_code, response.media_type) == (201, "application/json")
