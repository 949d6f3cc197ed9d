import simplejson

WEBHOOK_URL = "/api/v1/webhook/bank/"

BRIEF_PAYLOAD = {
    "operation_id": "ccf0a86d-041b-4991-bcf7-e2352f7b8a4a",
    "amount": 145000,
    "payer_inn": "1234567890",
    "document_number": "PAY-328",
    "document_date": "2024-04-27T21:00:00Z",
}


def dumps(payload) -> str:
    """JSON with Decimal amounts written as exact numbers."""
    return simplejson.dumps(payload, use_decimal=True)


def post_webhook(client, payload, **extra):
    body = payload if isinstance(payload, (str, bytes)) else dumps(payload)
    # CONTENT_TYPE explicitly: the test client drops content_type for an empty body.
    extra.setdefault("CONTENT_TYPE", "application/json")
    return client.post(WEBHOOK_URL, data=body, content_type="application/json", **extra)


def balance_of(client, inn: str):
    return client.get(f"/api/v1/organizations/{inn}/balance/")
