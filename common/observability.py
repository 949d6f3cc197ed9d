"""Request ids and operation ids on every log line; JSON logs in containers."""

import contextvars
import logging
import re
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
operation_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("operation_id", default="-")

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    """Take the caller's X-Request-Id (or make one), expose it to logs and echo it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request_token = request_id_var.set(request_id)
        operation_token = operation_id_var.set("-")
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(request_token)
            operation_id_var.reset(operation_token)
        response["X-Request-Id"] = request_id
        return response


class ContextFilter(logging.Filter):
    """Add request_id and operation_id to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.operation_id = operation_id_var.get()
        return True
