"""Plain HTTP against a live server, as the bank would call it."""

import urllib.error
import urllib.request


def http_request(url: str, body: str | None = None, headers: dict | None = None, timeout=30):
    """Return (status, headers, body bytes); HTTP errors are answers, not exceptions."""
    request = urllib.request.Request(
        url,
        data=body.encode() if body is not None else None,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
