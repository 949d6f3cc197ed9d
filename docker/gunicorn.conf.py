"""gunicorn's settings for LOG_FORMAT=json (bin/service web passes this file then).

The access log becomes one JSON object per line, like the application's records: the
message is the request line and status, and the fields are the request's: the request id
the app answered with (X-Request-Id), method, path, status, bytes sent and duration. The
formatter is docker/logging.json's "access" (its "json" without the static "-" ids, which
would hide the record's), given to gunicorn by --log-config-json.
"""

from gunicorn.glogging import Logger


class JsonAccessLogger(Logger):
    """gunicorn's logger whose access records carry the request's fields."""

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        headers = {name.lower(): value for name, value in (resp.headers or [])}
        method = environ.get("REQUEST_METHOD", "-")
        path = environ.get("PATH_INFO", "-")
        status = int(str(resp.status).split(None, 1)[0]) if resp.status else 0
        try:
            self.access_log.info(
                "%s %s %s",
                method,
                path,
                status,
                extra={
                    "request_id": headers.get("x-request-id", "-"),
                    "operation_id": "-",
                    "method": method,
                    "path": path,
                    "query": environ.get("QUERY_STRING", ""),
                    "status": status,
                    "bytes": getattr(resp, "sent", None),
                    "duration_ms": round(request_time.total_seconds() * 1000, 3),
                    "remote_addr": environ.get("REMOTE_ADDR", "-"),
                    "user_agent": environ.get("HTTP_USER_AGENT", "-"),
                },
            )
        except Exception:
            self.exception("Could not write the access log record")


logger_class = JsonAccessLogger
