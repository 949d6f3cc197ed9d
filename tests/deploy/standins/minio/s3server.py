"""`minio server DIR [--address :9000] [--console-address :9001]`, served by moto.

moto's S3 server answers the S3 API on the address, behind what MinIO checks that moto does
not: a request must be signed with the root user's access key (MINIO_ROOT_USER); anonymous
requests are refused, as MinIO refuses them on a bucket without a policy. Signatures themselves
are not verified. MinIO's health endpoints answer 200. The console address serves a page that
names this server and lists its buckets. Data are kept in memory only: DIR is not written, so
the buckets are gone after a restart.
"""

import argparse
import html
import os
import re
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

HEALTH_PATHS = ("/minio/health/live", "/minio/health/ready", "/minio/health/cluster")
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


def _error(start_response, status: str, code: str, message: str):
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{html.escape(message)}</Message></Error>"
    ).encode()
    start_response(
        status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
    )
    return [body]


def access_key_of(environ) -> str | None:
    """The access key a request is signed with (header or presigned query), or None."""
    match = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        return match.group(1)
    query = environ.get("QUERY_STRING", "")
    match = re.search(r"(?:^|&)X-Amz-Credential=([^&%/]+)(?:%2F|/)", query)
    return match.group(1) if match else None


class MinioChecks:
    """WSGI middleware: health endpoints, and the root user's access key on every request."""

    def __init__(self, app, access_key: str):
        self.app = app
        self.access_key = access_key

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "") in HEALTH_PATHS:
            start_response("200 OK", [("Content-Length", "0")])
            return [b""]
        key = access_key_of(environ)
        if key is None:
            return _error(start_response, "403 Forbidden", "AccessDenied", "Access Denied.")
        if key != self.access_key:
            return _error(
                start_response,
                "403 Forbidden",
                "InvalidAccessKeyId",
                "The Access Key Id you provided does not exist in our records.",
            )
        return self.app(environ, start_response)


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[-1])


def console(port: int, api_port: int, access_key: str, secret_key: str) -> ThreadingHTTPServer:
    import boto3

    class Console(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            client = boto3.client(
                "s3",
                endpoint_url=f"http://127.0.0.1:{api_port}",
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                region_name="us-east-1",
            )
            buckets = [b["Name"] for b in client.list_buckets().get("Buckets", [])]
            items = "".join(f"<li>{html.escape(name)}</li>" for name in buckets)
            body = (
                "<!doctype html><title>S3 stand-in</title>"
                "<h1>S3 stand-in (moto), not the MinIO console</h1>"
                f"<p>Buckets:</p><ul>{items}</ul>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("0.0.0.0", port), Console)  # noqa: S104 (a container port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="minio")
    parser.add_argument("command", choices=["server"])
    parser.add_argument("directories", nargs="+")
    parser.add_argument("--address", default=":9000")
    parser.add_argument("--console-address", default=":9001")
    args = parser.parse_args(argv)
    access_key = os.environ.get("MINIO_ROOT_USER", "minioadmin")
    secret_key = os.environ.get("MINIO_ROOT_PASSWORD", "minioadmin")
    if len(secret_key) < 8:
        print("ERROR Unable to validate credentials: MINIO_ROOT_PASSWORD is shorter than 8 characters",
              file=sys.stderr)  # fmt: skip
        return 1
    api_port = _port(args.address)
    console(_port(args.console_address), api_port, access_key, secret_key)
    print(f"S3 stand-in (moto) API on :{api_port}, status page on {args.console_address}",
          flush=True)  # fmt: skip
    # PID 1 in its container: without a handler, SIGTERM (docker stop) would be ignored.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = MinioChecks(DomainDispatcherApplication(create_backend_app), access_key)
    run_simple("0.0.0.0", api_port, app, threaded=True, request_handler=MotoRequestHandler)  # noqa: S104
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
